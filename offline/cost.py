"""Modeled monthly cost of one stack: plain numbers in, line items out (no Pulumi here).

The plan extracts ``CostInputs`` from the resources a mock run records; ``Usage`` holds what the
configuration cannot tell (traffic, log volume, the Spot discount). Both are plain dataclasses so
every line item is tested with hand-computed figures and no runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from offline.prices import HOURS_PER_MONTH, US_EAST_1, Prices

DAYS_PER_MONTH = HOURS_PER_MONTH / 24
# A log group without retention keeps everything: show what a year of it costs to store, since an
# ever-growing figure has no steady state to quote.
FOREVER_MONTHS = 12


@dataclass(frozen=True)
class CostInputs:
    """What the bill depends on, counted from the declared resources."""

    load_balancers: int
    alb_public_ipv4: int  # an internet-facing ALB holds one public address per AZ it spans
    nat_gateways: int
    tasks: int  # the service's desired count
    task_vcpu: float
    task_memory_gb: float
    spot_share: float  # fraction of tasks placed on FARGATE_SPOT, 0..1
    task_public_ipv4: int  # tasks that get a public IP of their own
    log_retention_days: int | None  # None: CloudWatch keeps the logs forever
    container_insights: bool
    # Share of the month the tasks run (an office-hours schedule scales them to zero otherwise).
    running_share: float = 1.0
    alarm_metrics: int = 0  # metrics read by CloudWatch alarms (a metric-math alarm reads several)
    certificates: int = 0
    access_log_buckets: int = 0
    access_log_expiry_days: int = 0
    flow_logs: int = 0
    flow_log_retention_days: int | None = None
    secrets: int = 0
    image_caches: int = 0


@dataclass(frozen=True)
class Usage:
    """Assumptions about use, printed with every estimate. Small, honest guesses for a game that
    sees light traffic; change them here, not in the stacks."""

    # One LCU is 25 new connections/s, 3,000 active connections or 1 GB/h of traffic: far more
    # than a demo game sees, so 1 LCU is a ceiling for light use rather than a typical hour.
    alb_lcu: float = 1.0
    # Behind NAT every task start pulls the ~640 MB image through it: about 20 starts a month
    # (deploys, scaling, Spot and AZ rebalancing) plus logs and other egress.
    nat_gb: float = 15.0
    # The container logs only Tomcat's console output (its access log goes to a file).
    log_gb_per_task: float = 0.5
    # Spot prices vary; AWS advertises "up to 70 %" off on-demand. Assumed, not quoted.
    spot_discount: float = 0.70
    # ALB access logs of a lightly played game, and VPC flow logs of a small VPC.
    alb_log_gb: float = 1.0
    flow_log_gb: float = 1.0
    # The game image, as stored once in the ECR pull-through cache.
    cached_image_gb: float = 0.64


@dataclass(frozen=True)
class LineItem:
    key: str  # stable identifier, used by the diff and the JSON output
    label: str
    basis: str  # how the figure was computed, readable
    monthly: float | None  # USD per month; None when the item is not modeled

    @property
    def modeled(self) -> bool:
        return self.monthly is not None


@dataclass(frozen=True)
class Estimate:
    items: tuple[LineItem, ...]
    assumptions: tuple[str, ...]
    not_modeled: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        return sum(i.monthly for i in self.items if i.monthly is not None)

    def item(self, key: str) -> LineItem:
        for i in self.items:
            if i.key == key:
                return i
        raise KeyError(key)


def _usd(price: float) -> str:
    return f"${price:g}"


def _hours(count: float, what: str, price: float) -> str:
    return f"{count:g} {what} x {HOURS_PER_MONTH} h x {_usd(price)}/h"


def stored_log_gb(ingested_gb_per_month: float, retention_days: int | None) -> float:
    """Steady-state GB held in CloudWatch Logs: each month's logs are kept ``retention_days``."""
    if retention_days is None:
        return ingested_gb_per_month * FOREVER_MONTHS
    return ingested_gb_per_month * retention_days / DAYS_PER_MONTH


def assumptions(usage: Usage, running_share: float = 1.0) -> tuple[str, ...]:
    running = (
        "all month"
        if running_share >= 1
        else f"{running_share:.0%} of the month (the office-hours schedule)"
    )
    return (
        f"{HOURS_PER_MONTH} hours per month; tasks run at the desired count {running}",
        f"ALB load: {usage.alb_lcu:g} LCU on average per load balancer",
        f"NAT gateway data processed: {usage.nat_gb:g} GB/month in total (image pulls, logs)",
        f"CloudWatch Logs: {usage.log_gb_per_task:g} GB ingested per task per month,"
        " stored for the retention period",
        f"Fargate Spot discount: {usage.spot_discount:.0%} off on-demand"
        " (assumed; Spot prices vary)",
        f"ALB access logs: {usage.alb_log_gb:g} GB written per month; VPC flow logs:"
        f" {usage.flow_log_gb:g} GB per month; cached image: {usage.cached_image_gb:g} GB",
        "Free tiers (10 alarm metrics, the first GBs of logs and S3) are not deducted",
    )


def estimate(
    inputs: CostInputs, usage: Usage | None = None, prices: Prices = US_EAST_1
) -> Estimate:
    """Monthly cost line by line. Items that cost nothing for this stack stay in the list at $0 so
    that two stacks always compare item by item."""
    usage = usage or Usage()
    p, h = prices, HOURS_PER_MONTH

    share = min(max(inputs.running_share, 0.0), 1.0)
    run_h = h * share  # hours a month the tasks (and their public IPs) exist
    run_hours = f"{run_h:.0f} h" if share < 1 else f"{h} h"
    task_hours = inputs.tasks * run_h
    vcpu = inputs.tasks * inputs.task_vcpu * run_h * p.fargate_vcpu_hour
    memory = inputs.tasks * inputs.task_memory_gb * run_h * p.fargate_gb_hour
    spot_fraction = min(max(inputs.spot_share, 0.0), 1.0)
    log_gb = inputs.tasks * usage.log_gb_per_task * share
    stored = stored_log_gb(log_gb, inputs.log_retention_days)
    retention = (
        "kept forever, a year's worth"
        if inputs.log_retention_days is None
        else f"{inputs.log_retention_days} d retention"
    )
    nat_gb = usage.nat_gb if inputs.nat_gateways else 0.0

    items = [
        LineItem(
            "alb_hours",
            "ALB hours",
            _hours(inputs.load_balancers, "ALB", p.alb_hour),
            inputs.load_balancers * h * p.alb_hour,
        ),
        LineItem(
            "alb_lcu",
            "ALB capacity units (assumed)",
            f"{inputs.load_balancers * usage.alb_lcu:g} LCU x {h} h x {_usd(p.alb_lcu_hour)}/h",
            inputs.load_balancers * usage.alb_lcu * h * p.alb_lcu_hour,
        ),
        LineItem(
            "alb_ipv4",
            "ALB public IPv4 (one per AZ)",
            _hours(inputs.alb_public_ipv4, "IP", p.public_ipv4_hour),
            inputs.alb_public_ipv4 * h * p.public_ipv4_hour,
        ),
        LineItem(
            "nat_hours",
            "NAT gateway hours",
            _hours(inputs.nat_gateways, "NAT", p.nat_gateway_hour),
            inputs.nat_gateways * h * p.nat_gateway_hour,
        ),
        LineItem(
            "nat_data",
            "NAT data processed (assumed)",
            f"{nat_gb:g} GB x {_usd(p.nat_gateway_gb)}/GB",
            nat_gb * p.nat_gateway_gb,
        ),
        # Each NAT gateway holds an Elastic IP, billed like any other public IPv4 address.
        LineItem(
            "nat_ipv4",
            "NAT public IPv4 (one per gateway)",
            _hours(inputs.nat_gateways, "IP", p.public_ipv4_hour),
            inputs.nat_gateways * h * p.public_ipv4_hour,
        ),
        LineItem(
            "fargate_vcpu",
            "Fargate vCPU",
            f"{inputs.tasks} task x {inputs.task_vcpu:g} vCPU x {run_hours} x "
            f"{_usd(p.fargate_vcpu_hour)}/h",
            vcpu,
        ),
        LineItem(
            "fargate_memory",
            "Fargate memory",
            f"{inputs.tasks} task x {inputs.task_memory_gb:g} GB x {run_hours} x "
            f"{_usd(p.fargate_gb_hour)}/h",
            memory,
        ),
        LineItem(
            "fargate_spot_discount",
            "Fargate Spot discount (assumed)",
            f"-{usage.spot_discount:.0%} on {spot_fraction:.0%} of {task_hours:.0f} task-hours",
            # Written as a subtraction only when there is one, so on-demand shows 0.00, not -0.00.
            -(vcpu + memory) * spot_fraction * usage.spot_discount if spot_fraction else 0.0,
        ),
        LineItem(
            "task_ipv4",
            "Task public IPv4",
            f"{inputs.task_public_ipv4:g} IP x {run_hours} x {_usd(p.public_ipv4_hour)}/h",
            inputs.task_public_ipv4 * run_h * p.public_ipv4_hour,
        ),
        LineItem(
            "logs_ingest",
            "CloudWatch Logs ingestion (assumed)",
            f"{log_gb:.2f} GB x {_usd(p.logs_ingest_gb)}/GB",
            log_gb * p.logs_ingest_gb,
        ),
        LineItem(
            "logs_storage",
            "CloudWatch Logs storage (assumed)",
            f"{stored:.2f} GB ({retention}) x {_usd(p.logs_storage_gb_month)}/GB-month",
            stored * p.logs_storage_gb_month,
        ),
        # Container Insights bills as CloudWatch custom metrics and performance-log ingestion,
        # whose volume depends on task and service counts we have no price table for: an honest
        # "not modeled" beats a made-up number.
        LineItem(
            "container_insights",
            "Container Insights",
            "enabled (CloudWatch metrics, performance logs)"
            if inputs.container_insights
            else "disabled",
            None if inputs.container_insights else 0.0,
        ),
    ]
    items += _hardening_items(inputs, usage, p)
    # Traffic to players leaves through the ALB; its volume is unknown and its first 100 GB a
    # month are free per account, so it is named rather than guessed.
    not_modeled: tuple[str, ...] = ("Data transfer out to the internet",)
    if inputs.container_insights:
        not_modeled = ("Container Insights", *not_modeled)
    return Estimate(
        items=tuple(items), assumptions=assumptions(usage, share), not_modeled=not_modeled
    )


def _hardening_items(inputs: CostInputs, usage: Usage, p: Prices) -> list[LineItem]:
    """Alarms, certificate, access and flow logs, the image cache's secret and storage."""
    s3_gb = usage.alb_log_gb * inputs.access_log_expiry_days / DAYS_PER_MONTH
    flow_ingest = inputs.flow_logs * usage.flow_log_gb
    flow_stored = stored_log_gb(flow_ingest, inputs.flow_log_retention_days)
    return [
        LineItem(
            "alarms",
            "CloudWatch alarms",
            f"{inputs.alarm_metrics} alarm metrics x {_usd(p.alarm_metric_month)}/month",
            inputs.alarm_metrics * p.alarm_metric_month,
        ),
        LineItem(
            "certificate",
            "ACM certificate",
            f"{inputs.certificates} public certificate (free)",
            inputs.certificates * p.public_certificate_month,
        ),
        LineItem(
            "alb_access_logs",
            "ALB access logs in S3 (assumed)",
            f"{s3_gb * inputs.access_log_buckets:.2f} GB kept"
            f" ({inputs.access_log_expiry_days} d expiry)"
            f" x {_usd(p.s3_standard_gb_month)}/GB-month",
            inputs.access_log_buckets * s3_gb * p.s3_standard_gb_month,
        ),
        LineItem(
            "flow_logs",
            "VPC flow logs (assumed)",
            f"{flow_ingest:g} GB x {_usd(p.vended_logs_ingest_gb)}/GB + {flow_stored:.2f} GB"
            f" stored x {_usd(p.logs_storage_gb_month)}/GB-month",
            flow_ingest * p.vended_logs_ingest_gb + flow_stored * p.logs_storage_gb_month,
        ),
        LineItem(
            "image_cache",
            "Image cache: secret and ECR storage",
            f"{inputs.secrets} secret x {_usd(p.secret_month)} + {inputs.image_caches}"
            f" x {usage.cached_image_gb:g} GB x {_usd(p.ecr_storage_gb_month)}/GB-month",
            inputs.secrets * p.secret_month
            + inputs.image_caches * usage.cached_image_gb * p.ecr_storage_gb_month,
        ),
    ]
