"""Offline plan: what a stack declares, the settings that matter, its outputs and monthly cost.

    python -m offline.plan [--stack dev] [--diff prod] [--json FILE|-]

Runs the real program (``__main__.py`` with the real stack files) under the Pulumi SDK's mock
runtime through ``offline.harness``: no CLI, no AWS account and no network. Every setting shown
is read back from the inputs the program actually passed to its resources, not re-derived from
the configuration, so the plan shows what would be sent to AWS. The text and the JSON output are
rendered from one dictionary, so they cannot disagree. With ``--diff`` both describe only what
differs between the two stacks. ``--json -`` writes the JSON alone to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, TextIO

import pulumi

from components.schedule import weekly_hours_from_crons
from offline import cost, prices
from offline.harness import Resource, Run, is_placeholder, run_program, stack_names

# Exit status for a configuration the program refuses and for an unknown stack: the same code
# argparse uses for a bad command line, so callers treat all three as "fix your input".
EXIT_USAGE = 2

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ALB = "aws:lb/loadBalancer:LoadBalancer"
BUCKET_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
CACHE_RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
CERTIFICATE = "aws:acm/certificate:Certificate"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
SCHEDULED_ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
SECRET = "aws:secretsmanager/secret:Secret"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
CLUSTER = "aws:ecs/cluster:Cluster"
LISTENER = "aws:lb/listener:Listener"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
PROVIDER = "pulumi:providers:aws"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
SCALING_TARGET = "aws:appautoscaling/target:Target"
SERVICE = "aws:ecs/service:Service"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
VPC = "awsx:ec2:Vpc"

SPOT_PROVIDER = "FARGATE_SPOT"
DEPLOY_TIME = "assigned by AWS at deploy time"
PRICE_NOTE = f"{prices.REGION} list prices, estimates only"

# Billable resources the cost model has no price for (their prices are not in our table, or their
# volume is unknowable offline). When the program declares one, the plan names it rather than
# letting the total look complete. Matched on the type token's prefix.
NOT_MODELED_TYPES = (
    ("aws:route53/zone:", "Route 53 hosted zone"),
    ("aws:route53/record:", "Route 53 queries (alias queries to an ALB are free)"),
    ("aws:sns/topic:", "SNS notifications (e-mail is free for the first 1,000 a month)"),
)

SECTION_TITLES = {
    "task": "Task",
    "network": "Network",
    "loadBalancer": "Load balancer",
    "autoscaling": "Autoscaling",
    "observability": "Logs and monitoring",
    "provider": "Provider",
}

# Units the text adds after a bare number (the JSON keeps plain numbers).
UNITS = {"cpu": " CPU units", "memory": " MiB", "logRetentionDays": " days"}

Value = str | int | float | bool | list[str] | None
Settings = dict[str, dict[str, Value]]


class UsageError(Exception):
    """A bad command line the program never saw (an unknown stack)."""


# ---------------------------------------------------------------------------------------------
# Reading the recorded resources
# ---------------------------------------------------------------------------------------------


def _num(value: Any) -> Any:
    # Numbers cross the mock runtime as floats (1.0); whole ones read better as ints.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _seconds(value: Any) -> str | None:
    return None if value is None else f"{_num(value)} s"


def _name_of(run: Run, ref: Any) -> str:
    """The logical name of the resource an id or ARN points at (mock values are unique)."""
    try:
        return run.by_id(str(ref)).name
    except KeyError:
        return str(ref)


def _containers(task_definition: Resource) -> list[dict[str, Any]]:
    raw = task_definition.get("containerDefinitions") or "[]"
    parsed = json.loads(raw) if isinstance(raw, str) else raw
    return list(parsed)


def _nat_gateway_count(vpc: Resource) -> int:
    strategy = (vpc.get("natGateways") or {}).get("strategy", "None")
    azs = int(_num(vpc.get("numberOfAvailabilityZones") or 0))
    # awsx's strategies: no gateway, one shared by every zone, or one in each zone.
    return {"None": 0, "Single": 1, "OnePerAz": azs}.get(strategy, 0)


def _subnet_cidrs(vpc: Resource, kind: str) -> list[str]:
    return [
        cidr
        for spec in vpc.get("subnetSpecs") or []
        if spec.get("type") == kind
        for cidr in spec.get("cidrBlocks") or []
    ]


def _subnet_kind(vpcs: list[Resource], subnet_ids: Sequence[str]) -> str:
    """public / private / mixed, matching the ids against what the VPC registration returned."""
    kinds = set()
    for subnet in subnet_ids:
        for vpc in vpcs:
            if subnet in (vpc.outputs.get("publicSubnetIds") or []):
                kinds.add("public")
            elif subnet in (vpc.outputs.get("privateSubnetIds") or []):
                kinds.add("private")
    if not kinds:
        return "unknown"
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _strategy(service: Resource) -> list[tuple[str, float]]:
    strategies = service.get("capacityProviderStrategies") or []
    if strategies:
        return [(s["capacityProvider"], float(s.get("weight") or 0)) for s in strategies]
    # A service with a launch type and no strategy runs on-demand Fargate.
    return [(service.get("launchType") or "FARGATE", 1.0)]


def _spot_share(service: Resource) -> float:
    strategy = _strategy(service)
    total = sum(weight for _, weight in strategy)
    spot = sum(weight for provider, weight in strategy if provider == SPOT_PROVIDER)
    return spot / total if total else 0.0


def _capacity(service: Resource) -> str:
    share = _spot_share(service)
    kind = "Spot" if share == 1 else "on-demand" if share == 0 else f"mixed, {share:.0%} Spot"
    detail = ", ".join(f"{p} weight {_num(w)}" for p, w in _strategy(service))
    return f"{kind} ({detail})"


def _service_parts(run: Run) -> tuple[Resource, Resource]:
    service = run.one(SERVICE)
    return service, run.by_id(str(service["taskDefinition"]))


def _log_group(run: Run, task_definition: Resource) -> Resource:
    """The log group the game container writes to (by the name in its awslogs options)."""
    groups = run.of_type(LOG_GROUP)
    for container in _containers(task_definition):
        options = (container.get("logConfiguration") or {}).get("options") or {}
        for group in groups:
            if group.outputs.get("name") == options.get("awslogs-group"):
                return group
    return run.one(LOG_GROUP)


def _insights(run: Run) -> bool:
    return any(
        setting.get("name") == "containerInsights" and setting.get("value") != "disabled"
        for cluster in run.of_type(CLUSTER)
        for setting in cluster.get("settings") or []
    )


def _action(run: Run, action: Mapping[str, Any]) -> str:
    kind = str(action.get("type"))
    if kind == "forward" and action.get("targetGroupArn"):
        return f"forward {_name_of(run, action['targetGroupArn'])}"
    redirect = action.get("redirect") or {}
    if kind == "redirect":
        return f"redirect {redirect.get('protocol', '')}:{redirect.get('port', '')}".rstrip(":")
    fixed = action.get("fixedResponse") or {}
    if kind == "fixed-response":
        return f"fixed-response {fixed.get('statusCode', '')}".rstrip()
    return kind


def _listener(run: Run, listener: Resource) -> str:
    actions = ", ".join(_action(run, a) for a in listener.get("defaultActions") or [])
    return f"{_num(listener.get('port'))}/{listener.get('protocol')} -> {actions}"


def not_modeled_resources(resources: Sequence[Resource]) -> list[str]:
    """Labels (with counts) of declared billable resources the cost model does not price."""
    found = []
    for prefix, label in NOT_MODELED_TYPES:
        count = sum(1 for r in resources if r.type.startswith(prefix))
        if count:
            found.append(f"{label} ({count} declared)")
    return found


def _policy(policy: Resource) -> str:
    config = policy.get("targetTrackingScalingPolicyConfiguration") or {}
    metric = (config.get("predefinedMetricSpecification") or {}).get("predefinedMetricType", "?")
    return (
        f"{policy.name}: {metric} target {_num(config.get('targetValue'))}"
        f" (scale out after {_num(config.get('scaleOutCooldown'))} s,"
        f" in after {_num(config.get('scaleInCooldown'))} s)"
    )


def _health_check(target_group: Resource) -> str:
    hc = target_group.get("healthCheck") or {}
    if hc.get("enabled") is False:
        return "disabled"
    return (
        f"{hc.get('protocol', 'HTTP')} {hc.get('path', '/')} on {hc.get('port', 'traffic-port')}"
        f" every {_num(hc.get('interval'))} s, timeout {_num(hc.get('timeout'))} s,"
        f" healthy {_num(hc.get('healthyThreshold'))} / unhealthy"
        f" {_num(hc.get('unhealthyThreshold'))}, matcher {hc.get('matcher')}"
    )


def _running_share(run: Run) -> float:
    """Share of a week the service runs: 1 without a schedule."""
    actions = {a.name.rsplit("-", 1)[-1]: a for a in run.of_type(SCHEDULED_ACTION)}
    if not {"open", "close"} <= set(actions):
        return 1.0
    hours = weekly_hours_from_crons(actions["open"]["schedule"], actions["close"]["schedule"])
    return hours / (7 * 24)


def _schedule(run: Run) -> str:
    actions = sorted(run.of_type(SCHEDULED_ACTION), key=lambda a: a.name)
    if not actions:
        return "always on"
    parts = []
    for a in actions:
        bounds = a.get("scalableTargetAction") or {}
        parts.append(
            f"{a.name}: {a.get('schedule')} -> {_num(bounds.get('minCapacity'))}.."
            f"{_num(bounds.get('maxCapacity'))} tasks"
        )
    return (
        "; ".join(parts) + f" ({actions[0].get('timezone')}, {_running_share(run):.0%} of the week)"
    )


def _alarm_metrics(alarm: Resource) -> int:
    # An alarm on one metric reads one; a metric-math alarm reads each metric it queries.
    queries = alarm.get("metricQueries") or []
    return sum(1 for q in queries if q.get("metric")) if queries else 1


def _image_source(run: Run) -> str:
    rules = run.of_type(CACHE_RULE)
    if rules:
        return f"ECR pull-through cache of {rules[0].get('upstreamRegistryUrl')}"
    return "Docker Hub, anonymous pulls"


def _access_logs(alb: Resource) -> str:
    logs = alb.get("accessLogs") or {}
    return "on" if logs.get("enabled") else "off"


def settings_of(run: Run) -> Settings:
    """The settings that decide behaviour and cost, read from the recorded resource inputs."""
    service, task = _service_parts(run)
    network = service.get("networkConfiguration") or {}
    vpc = run.one(VPC)
    alb = run.one(ALB)
    target_group = run.one(TARGET_GROUP)
    scaling = run.one(SCALING_TARGET)
    deployment = service.get("deploymentCircuitBreaker") or {}
    breaker = (
        ("on, with rollback" if deployment.get("rollback") else "on")
        if deployment.get("enable")
        else "off"
    )
    listeners = sorted(_listener(run, listener) for listener in run.of_type(LISTENER))
    return {
        "task": {
            "image": ", ".join(str(c.get("image")) for c in _containers(task)),
            "imageSource": _image_source(run),
            "cpu": int(task["cpu"]),
            "memory": int(task["memory"]),
            "cpuArchitecture": (task.get("runtimePlatform") or {}).get("cpuArchitecture"),
            "desiredCount": _num(service.get("desiredCount", 0)),
            "capacity": _capacity(service),
            "subnets": _subnet_kind([vpc], network.get("subnets") or []),
            "assignPublicIp": bool(network.get("assignPublicIp", False)),
            "healthCheckGracePeriod": _seconds(service.get("healthCheckGracePeriodSeconds")),
            "deployment": (
                f"min {_num(service.get('deploymentMinimumHealthyPercent'))} % healthy,"
                f" max {_num(service.get('deploymentMaximumPercent'))} %,"
                f" circuit breaker {breaker}"
            ),
        },
        "network": {
            "vpcCidr": vpc.get("cidrBlock"),
            "availabilityZones": _num(vpc.get("numberOfAvailabilityZones")),
            "natStrategy": (vpc.get("natGateways") or {}).get("strategy"),
            "natGateways": _nat_gateway_count(vpc),
            "publicSubnets": _subnet_cidrs(vpc, "Public"),
            "privateSubnets": _subnet_cidrs(vpc, "Private"),
            "flowLogs": "on" if run.of_type(FLOW_LOG) else "off",
        },
        "loadBalancer": {
            "scheme": "internal" if alb.get("internal") else "internet-facing",
            "availabilityZones": len(alb.get("subnets") or []),
            "listeners": listeners,
            "target": (
                f"{_num(target_group.get('port'))}/{target_group.get('protocol')},"
                f" target type {target_group.get('targetType')}"
            ),
            "healthCheck": _health_check(target_group),
            "deregistrationDelay": _seconds(target_group.get("deregistrationDelay")),
            "deletionProtection": bool(alb.get("enableDeletionProtection", False)),
            "dropInvalidHeaderFields": bool(alb.get("dropInvalidHeaderFields", False)),
            "accessLogs": _access_logs(alb),
            "certificate": ", ".join(str(c.get("domainName")) for c in run.of_type(CERTIFICATE))
            or "none (HTTP only)",
        },
        "autoscaling": {
            "minCount": _num(scaling.get("minCapacity")),
            "maxCount": _num(scaling.get("maxCapacity")),
            "policies": sorted(_policy(p) for p in run.of_type(SCALING_POLICY)),
            "schedule": _schedule(run),
        },
        "observability": {
            "logRetentionDays": _num(_log_group(run, task).get("retentionInDays")),
            "containerInsights": _insights(run),
            "alarms": sorted(a.name for a in run.of_type(ALARM)),
            "deploymentAlarms": sorted(
                _name_of_alarm(run, n) for n in (service.get("alarms") or {}).get("alarmNames", [])
            ),
            "alarmEmail": ", ".join(str(s.get("endpoint")) for s in run.of_type(SUBSCRIPTION))
            or "none",
        },
        "provider": {
            "region": run.one(PROVIDER).get("region"),
        },
    }


def _name_of_alarm(run: Run, physical: str) -> str:
    for alarm in run.of_type(ALARM):
        if alarm.outputs.get("name") == physical:
            return alarm.name
    return physical


def cost_inputs_of(run: Run) -> cost.CostInputs:
    """Counts and sizes for the cost model, from the recorded inputs (no Pulumi types leak)."""
    service, task = _service_parts(run)
    network = service.get("networkConfiguration") or {}
    tasks = int(_num(service.get("desiredCount", 0)))
    retention = _log_group(run, task).get("retentionInDays")
    return cost.CostInputs(
        load_balancers=len(run.of_type(ALB)),
        alb_public_ipv4=sum(
            len(alb.get("subnets") or []) for alb in run.of_type(ALB) if not alb.get("internal")
        ),
        nat_gateways=sum(_nat_gateway_count(vpc) for vpc in run.of_type(VPC)),
        tasks=tasks,
        # Fargate bills vCPU and GB: 1024 CPU units are one vCPU, 1024 MiB one GB.
        task_vcpu=int(task["cpu"]) / 1024,
        task_memory_gb=int(task["memory"]) / 1024,
        spot_share=_spot_share(service),
        task_public_ipv4=tasks if network.get("assignPublicIp") else 0,
        log_retention_days=None if retention is None else int(_num(retention)),
        container_insights=_insights(run),
        running_share=_running_share(run),
        alarm_metrics=sum(_alarm_metrics(a) for a in run.of_type(ALARM)),
        certificates=len(run.of_type(CERTIFICATE)),
        access_log_buckets=sum(1 for alb in run.of_type(ALB) if _access_logs(alb) == "on"),
        access_log_expiry_days=max(
            (
                int(_num(rule["expiration"]["days"]))
                for lifecycle in run.of_type(BUCKET_LIFECYCLE)
                for rule in lifecycle.get("rules") or []
                if rule.get("expiration")
            ),
            default=0,
        ),
        flow_logs=len(run.of_type(FLOW_LOG)),
        flow_log_retention_days=_flow_log_retention(run),
        secrets=len(run.of_type(SECRET)),
        image_caches=len(run.of_type(CACHE_RULE)),
    )


def _flow_log_retention(run: Run) -> int | None:
    for flow in run.of_type(FLOW_LOG):
        for group in run.of_type(LOG_GROUP):
            if group.outputs.get("arn") == flow.get("logDestination"):
                days = group.get("retentionInDays")
                return None if days is None else int(_num(days))
    return None


# ---------------------------------------------------------------------------------------------
# The plan as data (what --json writes) and as text
# ---------------------------------------------------------------------------------------------


def _tree(run: Run) -> list[dict[str, Any]]:
    # Registration order depends on when each Output resolves, so children are sorted by type and
    # name to print the same tree on every run.
    nodes: dict[str, dict[str, Any]] = {
        r.urn: {"type": r.type, "name": r.name, "children": []} for r in run.resources
    }
    roots: list[dict[str, Any]] = []
    for r in run.resources:
        parent = nodes.get(r.parent)
        (parent["children"] if parent else roots).append(nodes[r.urn])

    def ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in items:
            item["children"] = ordered(item["children"])
        return sorted(items, key=lambda n: (n["type"], n["name"]))

    return ordered(roots)


def _cost_data(estimate: cost.Estimate) -> dict[str, Any]:
    return {
        "region": prices.REGION,
        "priceDate": prices.PRICE_DATE,
        "source": prices.SOURCE,
        "note": PRICE_NOTE,
        "currency": "USD",
        "hoursPerMonth": prices.HOURS_PER_MONTH,
        "items": [
            {
                "key": i.key,
                "label": i.label,
                "basis": i.basis,
                "monthlyUsd": None if i.monthly is None else round(i.monthly, 2),
            }
            for i in estimate.items
        ],
        "totalUsd": round(estimate.total, 2),
        "assumptions": list(estimate.assumptions),
        "notModeled": list(estimate.not_modeled),
    }


def plan_of(run: Run, usage: cost.Usage | None = None) -> dict[str, Any]:
    settings = settings_of(run)
    inputs = cost_inputs_of(run)
    costs = _cost_data(cost.estimate(inputs, usage))
    # Autoscaling may hold more tasks than the desired count: show what that would cost too.
    most = int(_num(run.one(SCALING_TARGET).get("maxCapacity") or 0))
    ceiling = replace(inputs, tasks=most, task_public_ipv4=most if inputs.task_public_ipv4 else 0)
    costs["atMaxCount"] = {"tasks": most, "totalUsd": round(cost.estimate(ceiling, usage).total, 2)}
    costs["notModeled"] += not_modeled_resources(run.resources)
    return {
        "stack": run.stack,
        "resourceCount": len(run.resources),
        "resources": _tree(run),
        "settings": settings,
        "outputs": {
            key: {"value": value, "assignedAtDeploy": is_placeholder(value)}
            for key, value in sorted(run.outputs.items())
        },
        "cost": costs,
    }


def _flat_resources(nodes: list[dict[str, Any]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for node in nodes:
        found.add((node["type"], node["name"]))
        found |= _flat_resources(node["children"])
    return found


def _flat_settings(settings: Mapping[str, Mapping[str, Value]]) -> dict[str, Value]:
    return {f"{s}.{k}": v for s, values in settings.items() for k, v in values.items()}


def diff_of(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """What differs between two plans: settings, resources (by type and name) and cost."""
    ls, rs = _flat_settings(left["settings"]), _flat_settings(right["settings"])
    settings = [
        {"setting": key, "left": ls.get(key), "right": rs.get(key)}
        for key in [*ls, *(k for k in rs if k not in ls)]
        if ls.get(key) != rs.get(key)
    ]
    lr, rr = _flat_resources(left["resources"]), _flat_resources(right["resources"])

    def as_list(pairs: set[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"type": t, "name": n} for t, n in sorted(pairs)]

    litems = {i["key"]: i for i in left["cost"]["items"]}
    ritems = {i["key"]: i for i in right["cost"]["items"]}
    items = []
    for key in [*litems, *(k for k in ritems if k not in litems)]:
        a = litems.get(key, {}).get("monthlyUsd")
        b = ritems.get(key, {}).get("monthlyUsd")
        if a != b:
            label = (litems.get(key) or ritems[key])["label"]
            delta = None if a is None or b is None else round(b - a, 2)
            items.append({"key": key, "label": label, "left": a, "right": b, "deltaUsd": delta})
    lt, rt = left["cost"]["totalUsd"], right["cost"]["totalUsd"]
    return {
        "left": left["stack"],
        "right": right["stack"],
        "settings": settings,
        "resources": {"onlyInLeft": as_list(lr - rr), "onlyInRight": as_list(rr - lr)},
        "cost": {
            "note": PRICE_NOTE,
            "priceDate": prices.PRICE_DATE,
            "items": items,
            "total": {"left": lt, "right": rt, "deltaUsd": round(rt - lt, 2)},
        },
    }


def format_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    if value is None:
        return "-"
    return str(value)


def _value_lines(value: Value) -> list[str]:
    # Lists of long entries (scaling policies) read better one per line.
    if isinstance(value, list) and len(format_value(value)) > 60:
        return list(value)
    return [format_value(value)]


def _money(value: float | None) -> str:
    if value is None:
        return "not modeled"
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{'+' if value >= 0 else '-'}${abs(value):,.2f}"


def render_plan(plan: Mapping[str, Any]) -> str:
    out: list[str] = [
        f"Offline plan for stack '{plan['stack']}' "
        "(Pulumi mock runtime: nothing deployed, no AWS call)",
        "",
        f"Resources ({plan['resourceCount']}), under their parents:",
    ]
    rows: list[tuple[str, str]] = []

    def walk(nodes: list[dict[str, Any]], depth: int) -> None:
        for node in nodes:
            rows.append(("  " * (depth + 1) + node["type"], node["name"]))
            walk(node["children"], depth + 1)

    walk(plan["resources"], 0)
    width = max(len(t) for t, _ in rows) + 2
    out += [f"{t:<{width}}{n}" for t, n in rows]

    out += ["", "Settings (read from the declared resource inputs):"]
    key_width = max(len(k) for values in plan["settings"].values() for k in values) + 2
    for section, values in plan["settings"].items():
        out.append(f"  {SECTION_TITLES.get(section, section)}")
        for key, value in values.items():
            lines = _value_lines(value)
            out.append(f"    {key:<{key_width}}{lines[0]}{UNITS.get(key, '')}")
            out += [f"    {'':<{key_width}}{line}" for line in lines[1:]]

    out += ["", "Outputs (<name.property> marks a value AWS assigns):"]
    outputs = plan["outputs"]
    key_width = max((len(k) for k in outputs), default=0) + 2
    value_width = max((len(str(o["value"])) for o in outputs.values()), default=0) + 2
    for key, output in outputs.items():
        mark = f"({DEPLOY_TIME})" if output["assignedAtDeploy"] else ""
        out.append(f"  {key:<{key_width}}{output['value']!s:<{value_width}}{mark}".rstrip())

    c = plan["cost"]
    out += [
        "",
        f"Modeled monthly cost ({c['hoursPerMonth']} h/month; {c['note']};"
        f" prices as of {c['priceDate']}):",
    ]
    label_width = max(len(i["label"]) for i in c["items"]) + 2
    basis_width = max(len(i["basis"]) for i in c["items"]) + 2
    out += [
        f"  {i['label']:<{label_width}}{i['basis']:<{basis_width}}{_money(i['monthlyUsd']):>12}"
        for i in c["items"]
    ]
    total = f"{_money(c['totalUsd'])}"
    out.append(f"  {'Total per month':<{label_width + basis_width}}{total:>12}")
    ceiling = c["atMaxCount"]
    out.append(
        f"  If autoscaling held maxCount ({ceiling['tasks']} tasks) whenever tasks run:"
        f" {_money(ceiling['totalUsd'])}"
    )
    out.append("  Not modeled (not in the total):")
    out += [f"    - {item}" for item in c["notModeled"]] or ["    - nothing"]
    out.append("  Assumptions:")
    out += [f"    - {a}" for a in c["assumptions"]]
    return "\n".join(out) + "\n"


def render_diff(diff: Mapping[str, Any]) -> str:
    left, right = diff["left"], diff["right"]
    out = [f"Differences between stacks '{left}' and '{right}' (offline plans)", ""]

    out.append("Settings:")
    if diff["settings"]:
        width = max(len(s["setting"]) for s in diff["settings"]) + 2
        tag = max(len(left), len(right)) + 2
        for s in diff["settings"]:
            out.append(f"  {s['setting']:<{width}}{left + ':':<{tag}}{format_value(s['left'])}")
            out.append(f"  {'':<{width}}{right + ':':<{tag}}{format_value(s['right'])}")
    else:
        out.append("  (none)")

    for stack, key in ((left, "onlyInLeft"), (right, "onlyInRight")):
        out.append(f"Resources only in '{stack}':")
        only = diff["resources"][key]
        out += [f"  {r['type']}  {r['name']}" for r in only] or ["  (none)"]

    c = diff["cost"]
    out.append(f"Monthly cost ({c['note']}; prices as of {c['priceDate']}):")
    rows = [(i["label"], i["left"], i["right"], i["deltaUsd"]) for i in c["items"]]
    rows.append(
        ("Total per month", c["total"]["left"], c["total"]["right"], c["total"]["deltaUsd"])
    )
    width = max(len(r[0]) for r in rows) + 2
    col = max(len("not modeled"), len(left), len(right)) + 2
    out.append(f"  {'':<{width}}{left:>{col}}{right:>{col}}{'change':>{col}}")
    out += [
        f"  {label:<{width}}{_money(a):>{col}}{_money(b):>{col}}{_signed(d):>{col}}"
        for label, a, b, d in rows
    ]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def check_stack(stack: str) -> None:
    known = stack_names()
    if stack not in known:
        raise UsageError(f"unknown stack '{stack}' (stacks: {', '.join(known)})")


def build_plan(
    stack: str, overrides: Mapping[str, Any] | None = None, usage: cost.Usage | None = None
) -> dict[str, Any]:
    """Run the program for ``stack`` and return its plan; raises what the program raises."""
    check_stack(stack)
    return plan_of(run_program(stack, overrides), usage)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m offline.plan",
        description="Offline plan of a stack: resources, settings, outputs and modeled cost.",
    )
    parser.add_argument("--stack", default="dev", help="stack to plan (default: dev)")
    parser.add_argument("--diff", metavar="OTHER", help="show what differs from stack OTHER")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON (- = stdout)")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    config_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Entry point. ``config_overrides`` maps a stack name to config overrides for that stack
    (as ``offline.harness.run_program`` takes them), so tests can feed a bad configuration."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = _parser().parse_args(argv)
    overrides = config_overrides or {}
    try:
        # Both stacks are checked and run before anything is printed: an error never leaves a
        # partial plan behind it.
        for stack in (args.stack, args.diff):
            if stack is not None:
                check_stack(stack)
        plan = build_plan(args.stack, overrides.get(args.stack))
        other = None if args.diff is None else build_plan(args.diff, overrides.get(args.diff))
    except UsageError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    except pulumi.RunError as exc:
        # The program's own message already lists every bad key and how to fix them.
        print(str(exc), file=err)
        return EXIT_USAGE

    result = plan if other is None else diff_of(plan, other)
    text = render_plan(plan) if other is None else render_diff(result)
    data = json.dumps(result, indent=2) + "\n"
    if args.json == "-":
        out.write(data)
        return 0
    if args.json:
        # The file first: if it cannot be written, the run fails before printing a plan.
        with open(args.json, "w", encoding="utf-8") as handle:
            handle.write(data)
    out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
