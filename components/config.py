"""The stack's configuration: every key is read and validated here, and nowhere else.

``parse`` is pure (strings in, ``Settings`` or ``ConfigError`` out) so every rule is tested without
the Pulumi runtime. ``load`` reads the live configuration and turns a ``ConfigError`` into one
``pulumi.RunError``, which the CLI prints without a Python traceback, before any resource exists.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components import aws_limits, image_ref
from components.schedule import Schedule, parse_schedule
from components.subnet_plan import SubnetPlan, cidr_problem, plan_subnets

NAMESPACE = "mario-fargate"
NAT_MODES = ("none", "single", "perAz")
IMAGE_SOURCES = ("dockerhub", "ecrPullThroughCache")
# Keys whose values must be stored encrypted (`pulumi config set --secret`) and are never shown.
SECRET_KEYS = frozenset({"dockerHubAccessToken"})

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$")
# Docker Hub user names: 4-30 lower-case letters and digits (its sign-up rules).
_DOCKER_USER = re.compile(r"^[a-z0-9]{4,30}$")


class ConfigError(Exception):
    """Every problem found in one pass, so the user fixes them all at once."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"Invalid configuration for stack '{stack}' ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}):\n{lines}\n"
            f"Fix with `pulumi config set <key> <value> --stack {stack}` or edit "
            f"Pulumi.{stack}.yaml; the README's configuration reference lists every key."
        )


@dataclass(frozen=True)
class Settings:
    stack: str
    region: str
    image: str
    container_port: int
    cpu: int
    memory: int
    desired_count: int
    min_count: int
    max_count: int
    spot: bool
    availability_zones: int
    vpc_cidr: str
    nat_gateways: str
    log_retention_days: int
    container_insights: bool
    deletion_protection: bool
    domain: str | None
    hosted_zone_id: str | None
    alarm_email: str | None
    image_source: str
    docker_hub_username: str | None
    # Kept out of repr so that it never reaches a log line or an error message.
    docker_hub_access_token: str | None = field(repr=False)
    alb_access_logs: bool
    vpc_flow_logs: bool
    schedule: Schedule | None

    @property
    def tasks_in_public_subnets(self) -> bool:
        # Without a NAT gateway a task can reach Docker Hub only through a public IP of its own
        # (the deliberate dev waiver of Security Hub ECS.2, see README).
        return self.nat_gateways == "none"

    @property
    def subnets(self) -> SubnetPlan:
        return plan_subnets(
            self.vpc_cidr, self.availability_zones, with_private=not self.tasks_in_public_subnets
        )


# key -> (Settings field, parser). Parsers return the value or raise ValueError with the rule.
def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError("must be a whole number") from None


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError("must be true or false")


def _text(text: str) -> str:
    return text.strip()


KEYS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "image": ("image", _text),
    "containerPort": ("container_port", _int),
    "cpu": ("cpu", _int),
    "memory": ("memory", _int),
    "desiredCount": ("desired_count", _int),
    "minCount": ("min_count", _int),
    "maxCount": ("max_count", _int),
    "spot": ("spot", _bool),
    "availabilityZones": ("availability_zones", _int),
    "vpcCidr": ("vpc_cidr", _text),
    "natGateways": ("nat_gateways", _text),
    "logRetentionDays": ("log_retention_days", _int),
    "containerInsights": ("container_insights", _bool),
    "deletionProtection": ("deletion_protection", _bool),
    "domain": ("domain", _text),
    "hostedZoneId": ("hosted_zone_id", _text),
    "alarmEmail": ("alarm_email", _text),
    "imageSource": ("image_source", _text),
    "dockerHubUsername": ("docker_hub_username", _text),
    "dockerHubAccessToken": ("docker_hub_access_token", _text),
    "albAccessLogs": ("alb_access_logs", _bool),
    "vpcFlowLogs": ("vpc_flow_logs", _bool),
    "schedule": ("schedule", _text),
}
# Optional text keys: an empty string means "not set".
OPTIONAL = (
    "domain",
    "hosted_zone_id",
    "alarm_email",
    "docker_hub_username",
    "docker_hub_access_token",
)


def hostname_problem(name: str) -> str | None:
    if len(name) > 253:
        return "must be at most 253 characters"
    labels = name.split(".")
    if len(labels) < 2:
        return "must be a fully qualified name such as mario.example.com"
    if name != name.lower():
        return "must be lower case"
    bad = [label for label in labels if not _HOST_LABEL.match(label)]
    if bad:
        return (
            "each dot-separated label must be 1-63 letters, digits or hyphens, not starting or "
            f"ending with a hyphen (bad: {', '.join(repr(b) for b in bad)})"
        )
    if labels[-1].isdigit():
        return "must be a DNS name, not an IP address"
    return None


def parse(
    raw: Mapping[str, str], stack: str, secret_keys: frozenset[str] = frozenset()
) -> Settings:
    """Validate the raw configuration (``namespace:key`` -> string, as the CLI passes it).

    ``secret_keys`` names the keys that were stored encrypted.
    """
    problems: list[str] = []
    values: dict[str, Any] = {}

    def bad(key: str, rule: str) -> None:
        shown: object = raw.get(f"{NAMESPACE}:{key}", raw.get(key))
        encrypted = key in SECRET_KEYS or f"{NAMESPACE}:{key}" in secret_keys
        if encrypted and shown:
            shown = "[secret]"
        problems.append(f"{key} = {shown!r}: {rule}")

    prefix = f"{NAMESPACE}:"
    for full_key in sorted(k for k in raw if k.startswith(prefix)):
        key = full_key[len(prefix) :]
        if key not in KEYS:
            hint = difflib.get_close_matches(key, KEYS, n=1)
            problems.append(
                f"{full_key}: unknown key"
                + (f" (did you mean {hint[0]}?)" if hint else "")
                + f"; known keys: {', '.join(KEYS)}"
            )

    for key, (attribute, convert) in KEYS.items():
        text = raw.get(prefix + key)
        if text is None:
            problems.append(f"{key}: not set (Pulumi.yaml declares its default; is it missing?)")
            continue
        try:
            values[attribute] = convert(text)
        except ValueError as exc:
            bad(key, str(exc))

    region = raw.get("aws:region", "").strip()
    if not _REGION.match(region):
        problems.append(
            f"aws:region = {region!r}: must be an AWS region such as us-east-1 "
            "(set it with `pulumi config set aws:region us-east-1`)"
        )

    def check(key: str, attribute: str, ok: Callable[[Any], bool], rule: str) -> None:
        if attribute in values and not ok(values[attribute]):
            bad(key, rule)
            del values[attribute]

    check("image", "image", bool, "must not be empty")
    check(
        "image",
        "image",
        image_ref.is_valid,
        "must be an image reference such as pengbai/docker-supermario:latest "
        "or repo@sha256:<64 hex digits>",
    )
    check("containerPort", "container_port", lambda v: 1 <= v <= 65535, "must be 1..65535")
    sizes = ", ".join(str(c) for c in aws_limits.FARGATE_SIZES)
    check("cpu", "cpu", lambda v: v in aws_limits.FARGATE_SIZES, f"Fargate accepts {sizes}")
    if "cpu" in values:
        cpu = values["cpu"]
        check(
            "memory",
            "memory",
            lambda v: aws_limits.is_valid_task_size(cpu, v),
            f"with cpu {cpu} Fargate accepts {aws_limits.describe_memory_choices(cpu)} (MiB)",
        )
    top = aws_limits.MAX_TASKS
    check("desiredCount", "desired_count", lambda v: 0 <= v <= top, f"must be 0..{top}")
    check("minCount", "min_count", lambda v: 0 <= v <= top, f"must be 0..{top}")
    check("maxCount", "max_count", lambda v: 1 <= v <= top, f"must be 1..{top}")
    if "min_count" in values and "max_count" in values:
        if values["min_count"] > values["max_count"]:
            bad("minCount", f"must not exceed maxCount ({values['max_count']})")
        elif "desired_count" in values and not (
            values["min_count"] <= values["desired_count"] <= values["max_count"]
        ):
            bad(
                "desiredCount",
                "must lie within minCount..maxCount "
                f"({values['min_count']}..{values['max_count']})",
            )
    check(
        "availabilityZones",
        "availability_zones",
        lambda v: aws_limits.MIN_AZS <= v <= aws_limits.MAX_AZS,
        f"must be {aws_limits.MIN_AZS}..{aws_limits.MAX_AZS} (an ALB needs two zones)",
    )
    if "vpc_cidr" in values:
        problem = cidr_problem(values["vpc_cidr"])
        if problem:
            bad("vpcCidr", problem)
    check(
        "natGateways",
        "nat_gateways",
        lambda v: v in NAT_MODES,
        f"must be one of {', '.join(NAT_MODES)}",
    )
    retention = ", ".join(str(d) for d in aws_limits.LOG_RETENTION_DAYS)
    check(
        "logRetentionDays",
        "log_retention_days",
        lambda v: v in aws_limits.LOG_RETENTION_DAYS,
        f"CloudWatch Logs accepts {retention}",
    )
    if values.get("domain"):
        problem = hostname_problem(values["domain"])
        if problem:
            bad("domain", problem)
    _check_https(values, bad)
    if values.get("alarm_email") and not _EMAIL.match(values["alarm_email"]):
        bad("alarmEmail", "must be an e-mail address such as ops@example.com")
    _check_image_source(values, raw, secret_keys, bad)
    if values.get("schedule"):
        try:
            values["schedule"] = parse_schedule(values["schedule"])
        except ValueError as exc:
            bad("schedule", f"{exc} (empty means always on)")

    if problems:
        raise ConfigError(stack, problems)
    for optional in OPTIONAL:
        values[optional] = values[optional] or None
    values["schedule"] = values["schedule"] or None
    return Settings(stack=stack, region=region, **values)


def _check_https(values: dict[str, Any], bad: Callable[[str, str], None]) -> None:
    zone, domain = values.get("hosted_zone_id"), values.get("domain")
    if zone and not _ZONE_ID.match(zone):
        bad("hostedZoneId", "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ")
    elif zone and not domain:
        bad("hostedZoneId", "is only used with domain; set domain too, or unset hostedZoneId")
    if domain and not zone and domain.count(".") == 1:
        # The zone is looked up from the domain's parent, and an apex name has no parent zone.
        bad("domain", "is a zone apex; set hostedZoneId to the zone that holds it")


def _check_image_source(
    values: dict[str, Any],
    raw: Mapping[str, str],
    secret_keys: frozenset[str],
    bad: Callable[[str, str], None],
) -> None:
    source = values.get("image_source")
    if source is not None and source not in IMAGE_SOURCES:
        bad("imageSource", f"must be one of {', '.join(IMAGE_SOURCES)}")
        return
    token_key = f"{NAMESPACE}:dockerHubAccessToken"
    if values.get("docker_hub_access_token") and token_key not in secret_keys:
        bad(
            "dockerHubAccessToken",
            "must be stored encrypted: `pulumi config set --secret dockerHubAccessToken <token>`",
        )
    user = values.get("docker_hub_username")
    if user and not _DOCKER_USER.match(user):
        bad("dockerHubUsername", "must be a Docker Hub user name (4-30 lower-case letters/digits)")
    if source != "ecrPullThroughCache":
        return
    if not user:
        bad("dockerHubUsername", "is required with imageSource ecrPullThroughCache")
    if not values.get("docker_hub_access_token") and "docker_hub_access_token" in values:
        bad(
            "dockerHubAccessToken",
            "is required with imageSource ecrPullThroughCache (a Docker Hub access token, "
            "set with --secret)",
        )
    image = values.get("image")
    if image and image_ref.is_valid(image) and not image_ref.is_docker_hub(image):
        bad("image", "must be a Docker Hub image when imageSource is ecrPullThroughCache")


def load() -> Settings:
    """Read this stack's configuration through the Pulumi SDK and validate it."""
    import pulumi
    import pulumi.runtime.config as runtime_config

    # Both places the language host can put configuration; the union lets us catch typos in key
    # names, which pulumi.Config would otherwise ignore silently.
    raw: dict[str, str] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = frozenset(k for k in raw if runtime_config.is_config_secret(k))
    try:
        return parse(raw, pulumi.get_stack(), secret_keys)
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None
