"""The cost model on its own: known inputs, totals worked out by hand from the list prices.

Every expected figure below is written out as the arithmetic a reader would do with the price
table (count x 730 h x price), not computed with the model's own helpers.
"""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from offline import cost, prices

REPO = Path(__file__).resolve().parent.parent

# Two on-demand tasks of 0.5 vCPU / 1 GB in private subnets, one NAT gateway per zone (two zones).
PRIVATE = cost.CostInputs(
    load_balancers=1,
    alb_public_ipv4=2,
    nat_gateways=2,
    tasks=2,
    task_vcpu=0.5,
    task_memory_gb=1.0,
    spot_share=0.0,
    task_public_ipv4=0,
    log_retention_days=30,
    container_insights=False,
)
# One Spot task of 0.25 vCPU / 0.5 GB with its own public IP and no NAT gateway.
PUBLIC_SPOT = cost.CostInputs(
    load_balancers=1,
    alb_public_ipv4=2,
    nat_gateways=0,
    tasks=1,
    task_vcpu=0.25,
    task_memory_gb=0.5,
    spot_share=1.0,
    task_public_ipv4=1,
    log_retention_days=7,
    container_insights=False,
)
USAGE = cost.Usage(alb_lcu=1.0, nat_gb=10.0, log_gb_per_task=0.5, spot_discount=0.70)


def monthly(inputs: cost.CostInputs, key: str, usage: cost.Usage = USAGE) -> float | None:
    return cost.estimate(inputs, usage).item(key).monthly


def test_price_table_is_dated_and_uses_a_730_hour_month() -> None:
    assert prices.HOURS_PER_MONTH == 730
    assert prices.REGION == "us-east-1"
    assert prices.PRICE_DATE.strip()
    assert prices.SOURCE.strip()


def test_alb_hours() -> None:
    assert monthly(PRIVATE, "alb_hours") == pytest.approx(730 * 0.0225)  # 16.425
    two = replace(PRIVATE, load_balancers=2)
    assert monthly(two, "alb_hours") == pytest.approx(2 * 730 * 0.0225)


def test_alb_lcu_follows_the_usage_assumption() -> None:
    assert monthly(PRIVATE, "alb_lcu") == pytest.approx(1 * 730 * 0.008)  # 5.84
    busy = replace(USAGE, alb_lcu=2.5)
    assert monthly(PRIVATE, "alb_lcu", busy) == pytest.approx(2.5 * 730 * 0.008)  # 14.60


def test_alb_public_ipv4_one_per_zone() -> None:
    assert monthly(PRIVATE, "alb_ipv4") == pytest.approx(2 * 730 * 0.005)  # 7.30
    three = replace(PRIVATE, alb_public_ipv4=3)
    assert monthly(three, "alb_ipv4") == pytest.approx(3 * 730 * 0.005)  # 10.95


def test_nat_gateway_hours_data_and_addresses() -> None:
    assert monthly(PRIVATE, "nat_hours") == pytest.approx(2 * 730 * 0.045)  # 65.70
    assert monthly(PRIVATE, "nat_data") == pytest.approx(10 * 0.045)  # 0.45
    # Each gateway's Elastic IP is a public IPv4 address.
    assert monthly(PRIVATE, "nat_ipv4") == pytest.approx(2 * 730 * 0.005)  # 7.30


def test_no_nat_gateway_costs_nothing_even_with_assumed_traffic() -> None:
    assert USAGE.nat_gb > 0
    for key in ("nat_hours", "nat_data", "nat_ipv4"):
        assert monthly(PUBLIC_SPOT, key) == 0


def test_fargate_vcpu_and_memory_at_the_desired_count() -> None:
    assert monthly(PRIVATE, "fargate_vcpu") == pytest.approx(2 * 0.5 * 730 * 0.04048)  # 29.5504
    assert monthly(PRIVATE, "fargate_memory") == pytest.approx(2 * 1.0 * 730 * 0.004445)  # 6.4897
    assert monthly(PUBLIC_SPOT, "fargate_vcpu") == pytest.approx(0.25 * 730 * 0.04048)  # 7.3876
    assert monthly(PUBLIC_SPOT, "fargate_memory") == pytest.approx(0.5 * 730 * 0.004445)


def test_spot_discount_takes_the_assumed_share_off_fargate() -> None:
    on_demand = 0.25 * 730 * 0.04048 + 0.5 * 730 * 0.004445  # 9.010025
    assert monthly(PUBLIC_SPOT, "fargate_spot_discount") == pytest.approx(-0.70 * on_demand)
    half = replace(PUBLIC_SPOT, spot_share=0.5)
    assert monthly(half, "fargate_spot_discount") == pytest.approx(-0.70 * 0.5 * on_demand)
    deeper = replace(USAGE, spot_discount=0.5)
    assert monthly(PUBLIC_SPOT, "fargate_spot_discount", deeper) == pytest.approx(-0.5 * on_demand)


def test_on_demand_has_no_discount_and_no_negative_zero() -> None:
    discount = monthly(PRIVATE, "fargate_spot_discount")
    assert discount == 0
    assert discount is not None and math.copysign(1.0, discount) == 1.0


def test_task_public_ipv4_only_for_tasks_with_public_ips() -> None:
    assert monthly(PUBLIC_SPOT, "task_ipv4") == pytest.approx(1 * 730 * 0.005)  # 3.65
    assert monthly(PRIVATE, "task_ipv4") == 0


def test_log_ingestion_and_storage_follow_tasks_and_retention() -> None:
    assert monthly(PRIVATE, "logs_ingest") == pytest.approx(2 * 0.5 * 0.50)  # 1 GB -> 0.50
    # Steady state: 1 GB a month kept for 30 of the month's 730/24 days.
    assert monthly(PRIVATE, "logs_storage") == pytest.approx(1.0 * 30 / (730 / 24) * 0.03)
    forever = replace(PRIVATE, log_retention_days=None)
    assert monthly(forever, "logs_storage") == pytest.approx(1.0 * 12 * 0.03)  # a year's worth


def test_container_insights_is_listed_as_not_modeled_when_enabled() -> None:
    on = cost.estimate(replace(PRIVATE, container_insights=True), USAGE)
    assert on.item("container_insights").monthly is None
    assert not on.item("container_insights").modeled
    assert "Container Insights" in on.not_modeled
    off = cost.estimate(PRIVATE, USAGE)
    assert off.item("container_insights").monthly == 0
    assert "Container Insights" not in off.not_modeled


def test_totals_by_hand() -> None:
    private_total = (
        730 * 0.0225  # ALB
        + 730 * 0.008  # 1 LCU
        + 2 * 730 * 0.005  # ALB addresses
        + 2 * 730 * 0.045  # NAT gateways
        + 10 * 0.045  # NAT data
        + 2 * 730 * 0.005  # NAT addresses
        + 2 * 0.5 * 730 * 0.04048  # vCPU
        + 2 * 1.0 * 730 * 0.004445  # memory
        + 1.0 * 0.50  # logs in
        + 1.0 * 30 / (730 / 24) * 0.03  # logs kept
    )
    assert cost.estimate(PRIVATE, USAGE).total == pytest.approx(private_total)  # ~139.78

    spot_total = (
        730 * 0.0225
        + 730 * 0.008
        + 2 * 730 * 0.005
        + 0.30 * (0.25 * 730 * 0.04048 + 0.5 * 730 * 0.004445)  # 70 % off Fargate
        + 1 * 730 * 0.005  # the task's own address
        + 0.5 * 0.50
        + 0.5 * 7 / (730 / 24) * 0.03
    )
    assert cost.estimate(PUBLIC_SPOT, USAGE).total == pytest.approx(spot_total)  # ~36.17


def test_total_leaves_out_what_is_not_modeled() -> None:
    on = cost.estimate(replace(PRIVATE, container_insights=True), USAGE)
    assert on.total == pytest.approx(cost.estimate(PRIVATE, USAGE).total)


def test_every_estimate_has_the_same_items_so_stacks_compare_line_by_line() -> None:
    keys = [i.key for i in cost.estimate(PRIVATE, USAGE).items]
    assert len(keys) == len(set(keys)) == 18
    assert [i.key for i in cost.estimate(PUBLIC_SPOT, USAGE).items] == keys


def test_zero_tasks_cost_no_fargate() -> None:
    idle = replace(PRIVATE, tasks=0)
    for key in ("fargate_vcpu", "fargate_memory", "task_ipv4", "logs_ingest"):
        assert monthly(idle, key) == 0
    assert monthly(idle, "alb_hours") == pytest.approx(730 * 0.0225)


def test_prices_can_be_swapped() -> None:
    doubled = replace(prices.US_EAST_1, alb_hour=0.045)
    result = cost.estimate(PRIVATE, USAGE, doubled).item("alb_hours").monthly
    assert result == pytest.approx(730 * 0.045)


def test_assumptions_are_stated_with_their_values() -> None:
    text = "\n".join(cost.estimate(PRIVATE, USAGE).assumptions)
    assert "1 LCU" in text
    assert "10 GB" in text
    assert "70%" in text
    assert "assumed" in text


def test_cost_model_does_not_import_pulumi() -> None:
    # In a fresh interpreter, since other tests in this session load Pulumi anyway.
    probe = (
        "import sys, offline.cost, offline.prices; "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'pulumi'); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_schedule_scales_task_costs_but_not_the_load_balancer() -> None:
    # Office hours MON-FRI 08:00-20:00: 60 of 168 hours a week.
    share = 60 / 168
    scheduled = replace(PUBLIC_SPOT, running_share=share)
    hours = 730 * share
    assert monthly(scheduled, "fargate_vcpu") == pytest.approx(0.25 * hours * 0.04048)
    assert monthly(scheduled, "fargate_memory") == pytest.approx(0.5 * hours * 0.004445)
    assert monthly(scheduled, "task_ipv4") == pytest.approx(hours * 0.005)
    assert monthly(scheduled, "logs_ingest") == pytest.approx(0.5 * share * 0.50)
    assert monthly(scheduled, "alb_hours") == monthly(PUBLIC_SPOT, "alb_hours")
    assert "36% of the month" in "\n".join(cost.estimate(scheduled, USAGE).assumptions)


def test_hardening_items_are_priced() -> None:
    hardened = replace(
        PRIVATE,
        alarm_metrics=6,
        certificates=1,
        access_log_buckets=1,
        access_log_expiry_days=90,
        flow_logs=1,
        flow_log_retention_days=30,
        secrets=1,
        image_caches=1,
    )
    assert monthly(hardened, "alarms") == pytest.approx(6 * 0.10)
    assert monthly(hardened, "certificate") == 0
    # 1 GB a month kept 90 days: about 2.96 GB stored at $0.023.
    assert monthly(hardened, "alb_access_logs") == pytest.approx(1.0 * 90 / (730 / 24) * 0.023)
    assert monthly(hardened, "flow_logs") == pytest.approx(0.50 + 1.0 * 30 / (730 / 24) * 0.03)
    assert monthly(hardened, "image_cache") == pytest.approx(0.40 + 0.64 * 0.10)
    for key in ("alarms", "alb_access_logs", "flow_logs", "image_cache"):
        assert monthly(PRIVATE, key) == 0, key
