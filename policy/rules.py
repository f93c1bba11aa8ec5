"""The project's AWS baseline as plain functions: (resource type, properties) -> violation messages.

Nothing here imports the policy runtime, so every rule is tested on hand-built dictionaries and on
what the program registers under mocks; ``policy/__main__.py`` only wires each function to a
``ResourceValidationPolicy``. Properties arrive as the engine passes them: camelCase keys, numbers
often as floats, and nested values as any ``Mapping``/``Sequence`` (the policy runtime wraps them in
proxies that raise on values unknown during preview, so nothing here copies a value it does not
read). A rule returns an empty list for resource types it does not govern.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

Props = Mapping[str, Any]

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ECS_SERVICE = "aws:ecs/service:Service"
SCALING_TARGET = "aws:appautoscaling/target:Target"
SCHEDULED_ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
# The `alb` module holds the same resources under older tokens; a rule must not miss them.
TARGET_GROUPS = ("aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup")
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")

# The ALB's listeners are the only thing the world may reach (HTTP now, HTTPS once a domain exists).
WORLD_OPEN_PORTS = frozenset({80, 443})
_TCP = frozenset({"tcp", "6"})
_ALL_PROTOCOLS = frozenset({"-1", "all"})

MAX_DEREGISTRATION_DELAY_SECONDS = 30
AWS_DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300
DEFAULT_MIN_TASKS = 2
ENVIRONMENT_TAG = "Environment"

# AWS resource types that take no tags at all, so the tag rule must skip them. Anything not listed
# counts as taggable: a new untaggable type then shows up as a false violation (and the test that
# compares this list with pulumi_aws fails) rather than as silently untagged resources.
UNTAGGABLE_TYPES = frozenset(
    {
        "aws:acm/certificateValidation:CertificateValidation",
        "aws:appautoscaling/policy:Policy",
        "aws:appautoscaling/scheduledAction:ScheduledAction",
        "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
        "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
        "aws:ec2/route:Route",  # awsx.ec2.Vpc creates these
        "aws:ec2/routeTableAssociation:RouteTableAssociation",  # and these
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
        "aws:ecr/repositoryPolicy:RepositoryPolicy",
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
        "aws:iam/policyAttachment:PolicyAttachment",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:lb/listenerCertificate:ListenerCertificate",
        "aws:lb/targetGroupAttachment:TargetGroupAttachment",
        "aws:route53/record:Record",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:sns/topicSubscription:TopicSubscription",
    }
)


def _number(value: Any) -> float | None:
    """A numeric property as a float; None when absent or not a number."""
    # bool is an int subclass: a stray `true` must not read as 1.
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    # "nan" and "inf" parse as floats but are no port, count or duration.
    return number if math.isfinite(number) else None


def _show(value: Any) -> str:
    """A property for a message: whole floats (how the engine sends integers) without ".0"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _items(value: Any) -> list[Any]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def _is_world(cidr: Any) -> bool:
    """True for a range that covers every address: 0.0.0.0/0, ::/0, or any address with /0."""
    if not isinstance(cidr, str):
        return False
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _world_opening(protocol: Any, from_port: Any, to_port: Any) -> str | None:
    """What a world-open rule exposes, or None when it is one of the allowed TCP ports."""
    # A missing protocol is read as "all traffic": the strictest reading of something AWS requires.
    proto = str(protocol).lower() if protocol is not None else "-1"
    if proto in _ALL_PROTOCOLS:
        return "all traffic"
    low, high = _number(from_port), _number(to_port)
    if proto in _TCP and low is not None and low == high and int(low) in WORLD_OPEN_PORTS:
        return None
    if low is None or high is None:
        return f"{proto} on every port"
    if low == high:
        return f"{proto} port {int(low)}"
    return f"{proto} ports {int(low)}-{int(high)}"


def _world_message(where: str, cidr: str, opening: str) -> str:
    return (
        f"{where}ingress from {cidr} allows {opening}; only TCP 80 and 443 (the load balancer's "
        "listeners) may be open to the world, and the tasks take traffic from the load "
        "balancer's security group only"
    )


def world_ingress_violations(resource_type: str, props: Props) -> list[str]:
    """Rule 1: world-open ingress only on TCP 80/443.

    A resource policy cannot tell the ALB's security group from the task's: during preview the
    group a rule belongs to is an unknown id. So the rule is port-based: 80/443 from anywhere is
    what the ALB needs, and anything else from anywhere (8080 straight to the tasks, all traffic)
    is a violation on whichever group carries it.
    """
    found: list[str] = []

    def check(where: str, cidrs: list[Any], protocol: Any, low: Any, high: Any) -> None:
        for cidr in cidrs:
            if _is_world(cidr):
                opening = _world_opening(protocol, low, high)
                if opening is not None:
                    found.append(_world_message(where, str(cidr), opening))

    if resource_type == INGRESS_RULE:
        check(
            "",
            [props.get("cidrIpv4"), props.get("cidrIpv6")],
            props.get("ipProtocol"),
            props.get("fromPort"),
            props.get("toPort"),
        )
    elif resource_type == SECURITY_GROUP:
        for index, rule in enumerate(_items(props.get("ingress"))):
            if isinstance(rule, Mapping):
                check(
                    f"ingress[{index}]: ",
                    _items(rule.get("cidrBlocks")) + _items(rule.get("ipv6CidrBlocks")),
                    rule.get("protocol"),
                    rule.get("fromPort"),
                    rule.get("toPort"),
                )
    elif resource_type == SECURITY_GROUP_RULE and props.get("type") == "ingress":
        check(
            "",
            _items(props.get("cidrBlocks")) + _items(props.get("ipv6CidrBlocks")),
            props.get("protocol"),
            props.get("fromPort"),
            props.get("toPort"),
        )
    return found


def public_ip_violations(resource_type: str, props: Props) -> list[str]:
    """Rule 2: ECS tasks get no public IP (Security Hub ECS.2)."""
    if resource_type != ECS_SERVICE:
        return []
    network = props.get("networkConfiguration")
    if isinstance(network, Mapping) and network.get("assignPublicIp") is True:
        return [
            "networkConfiguration.assignPublicIp is true: every task gets a public IP address "
            "(Security Hub ECS.2); run tasks in private subnets behind NAT. Only dev waives "
            "this, to save the NAT gateway, and its policy config makes it advisory there"
        ]
    return []


def circuit_breaker_violations(resource_type: str, props: Props) -> list[str]:
    """Rule 3: a rollout whose tasks never turn healthy rolls back instead of retrying forever."""
    if resource_type != ECS_SERVICE:
        return []
    breaker = props.get("deploymentCircuitBreaker")
    if not isinstance(breaker, Mapping):
        return [
            "no deploymentCircuitBreaker: a rollout whose tasks never become healthy keeps "
            "replacing them instead of rolling back; set enable and rollback to true"
        ]
    off = [key for key in ("enable", "rollback") if breaker.get(key) is not True]
    if off:
        return [
            f"deploymentCircuitBreaker {' and '.join(off)} must be true, so that a failed "
            "rollout returns to the last working task definition by itself"
        ]
    return []


def log_retention_violations(resource_type: str, props: Props) -> list[str]:
    """Rule 4: log groups expire their logs (no retention means kept, and billed, forever)."""
    if resource_type != LOG_GROUP:
        return []
    raw = props.get("retentionInDays")
    days = _number(raw)
    if days is None or days <= 0:
        shown = "not set" if raw is None else _show(raw)
        return [
            f"retentionInDays is {shown}: CloudWatch Logs keeps (and bills) these logs forever; "
            "set a retention period such as 7 or 30 days"
        ]
    return []


def deregistration_delay_violations(resource_type: str, props: Props) -> list[str]:
    """Rule 5: target groups drain for at most 30 s (AWS's default 300 s slows every rollout)."""
    # Lambda targets are never drained, so the delay means nothing for them.
    if resource_type not in TARGET_GROUPS or props.get("targetType") == "lambda":
        return []
    limit = MAX_DEREGISTRATION_DELAY_SECONDS
    raw = props.get("deregistrationDelay")
    if raw is None:
        return [
            "deregistrationDelay is not set, so AWS drains each old target for its default of "
            f"{AWS_DEFAULT_DEREGISTRATION_DELAY_SECONDS} s on every rollout and teardown; "
            f"set it to {limit} s or less"
        ]
    seconds = _number(raw)
    if seconds is None:
        return [f"deregistrationDelay {_show(raw)} is not a number of seconds"]
    if seconds > limit:
        return [
            f"deregistrationDelay is {int(seconds)} s: the game's requests finish in "
            f"milliseconds, so draining longer than {limit} s only slows rollouts"
        ]
    return []


def min_tasks_violations(
    resource_type: str, props: Props, min_tasks: int = DEFAULT_MIN_TASKS
) -> list[str]:
    """Rule 6: at least ``min_tasks`` tasks: at the start, after scaling in, and on any schedule.

    ``min_tasks`` comes from the policy's config: 2 unless a stack's config file lowers it (dev's
    single task is deliberate and documented in Pulumi.dev.yaml).
    """
    if resource_type == ECS_SERVICE:
        # Daemon services run one task per instance and have no count (and no Fargate support).
        if props.get("schedulingStrategy") == "DAEMON":
            return []
        raw = props.get("desiredCount")
        # The provider starts a service with no desiredCount at zero tasks.
        count = _number(raw) if raw is not None else 0.0
        if count is None or count < min_tasks:
            return [
                f"desiredCount is {_show(raw) if raw is not None else 'not set (0)'}: run at least "
                f"{min_tasks} tasks so that one task or one Availability Zone can fail without "
                "an outage"
            ]
    elif resource_type == SCALING_TARGET and props.get("serviceNamespace") == "ecs":
        raw = props.get("minCapacity")
        floor = _number(raw)
        if floor is None or floor < min_tasks:
            return [
                f"minCapacity is {_show(raw) if raw is not None else 'not set'}: autoscaling "
                f"may scale the service in below {min_tasks} tasks"
            ]
    elif resource_type == SCHEDULED_ACTION and props.get("serviceNamespace") == "ecs":
        # An office-hours schedule moves the bounds every day; scaling to zero at night is exactly
        # what this rule is there to refuse in prod. Bounds an action leaves unset do not move.
        action = props.get("scalableTargetAction")
        if isinstance(action, Mapping):
            lowered = []
            for key in ("minCapacity", "maxCapacity"):
                raw = action.get(key)
                bound = _number(raw)
                if raw is not None and (bound is None or bound < min_tasks):
                    lowered.append(f"{key} to {_show(raw)}")
            if lowered:
                return [
                    f"the scheduled action sets {' and '.join(lowered)}: while it is in force "
                    f"the service runs fewer than {min_tasks} tasks"
                ]
    return []


def invalid_header_violations(resource_type: str, props: Props) -> list[str]:
    """Rule 7: application load balancers drop invalid headers (Security Hub ELB.4)."""
    if resource_type not in LOAD_BALANCERS:
        return []
    # An unset type means "application", the provider's default.
    if (props.get("loadBalancerType") or "application") != "application":
        return []
    if props.get("dropInvalidHeaderFields") is not True:
        return [
            "dropInvalidHeaderFields is not true: the load balancer forwards requests with "
            "malformed HTTP headers to the tasks (Security Hub ELB.4)"
        ]
    return []


def is_taggable(resource_type: str) -> bool:
    """An AWS resource type that accepts tags (providers and components are not AWS resources)."""
    return resource_type.startswith("aws:") and resource_type not in UNTAGGABLE_TYPES


def provider_default_tags(provider_props: Props | None) -> Mapping[str, Any] | None:
    """The ``defaultTags.tags`` of an AWS provider's inputs, or None."""
    if provider_props is None:
        return None
    raw = provider_props.get("defaultTags")
    # The Python SDK sends a provider's object-valued inputs JSON-encoded (the mocks record them
    # that way); accept the decoded object too, in case the engine hands that over instead.
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if isinstance(raw, Mapping):
        tags = raw.get("tags")
        if isinstance(tags, Mapping):
            return tags
    return None


def _has_environment(tags: Any) -> bool:
    if not isinstance(tags, Mapping):
        return False
    value = tags.get(ENVIRONMENT_TAG)
    return isinstance(value, str) and value.strip() != ""


def environment_tag_violations(
    resource_type: str, props: Props, provider_props: Props | None = None
) -> list[str]:
    """Rule 8: every taggable AWS resource is created with an Environment tag.

    The program tags through the AWS provider's default tags, which a resource's own inputs do not
    contain. So the rule accepts, in this order: the Environment tag in the default tags of the
    provider that creates the resource (the policy runtime passes that provider's inputs with every
    resource, for the default provider too); in the resource's own ``tags``; or in ``tagsAll``,
    which the AWS provider fills in from the default tags while checking most (not all) resource
    types. The provider is read first because it is always known during preview, whereas a
    resource's tags may not be.
    """
    if not is_taggable(resource_type):
        return []
    if _has_environment(provider_default_tags(provider_props)):
        return []
    if _has_environment(props.get("tags")) or _has_environment(props.get("tagsAll")):
        return []
    return [
        f"no {ENVIRONMENT_TAG} tag: set it in the AWS provider's defaultTags (as the program's "
        "__main__.py does for every resource) or in this resource's tags"
    ]
