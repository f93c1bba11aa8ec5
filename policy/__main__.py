"""mario-fargate's AWS baseline as a Pulumi policy pack, run by `pulumi preview`/`up --policy-pack`.

Every policy checks every stack the same way; how strictly is not decided here but by the policy
config file CI passes for the stack (`--policy-pack-config policy/config.<stack>.json`):
``config.prod.json`` makes everything mandatory, ``config.dev.json`` advisory. Without a config file
the pack's own default applies, which is mandatory: forgetting the flag can only make a run
stricter. the README ("Policy pack") has the details.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

try:
    # Imported as `policy.__main__` (the tests, the type checker).
    from . import rules
except ImportError:
    # Run by the Pulumi CLI, which executes this folder as a script: no parent package, and the
    # folder itself is first on sys.path.
    import rules  # type: ignore[no-redef, import-not-found]

PACK_NAME = "mario-fargate-baseline"
DEFAULT_ENFORCEMENT = EnforcementLevel.MANDATORY

Check = Callable[[str, Mapping[str, Any]], list[str]]


def _report(report_violation: ReportViolation, messages: list[str]) -> None:
    for message in messages:
        # The runtime attaches the resource's URN itself; a resource policy passes none.
        report_violation(message, None)


def _on_props(check: Check) -> ResourceValidation:
    """A validation for a rule that needs only the resource's type and properties."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        _report(report_violation, check(args.resource_type, args.props))

    return validate


def _validate_min_tasks(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Policy config arrives through protobuf, where every number is a float (1 -> 1.0).
    raw = args.get_config().get("minTasks", rules.DEFAULT_MIN_TASKS)
    violations = rules.min_tasks_violations(args.resource_type, args.props, int(raw))
    _report(report_violation, violations)


def _validate_environment_tag(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    # The tags come from the provider's default tags, so the rule needs the provider's inputs,
    # which the runtime passes along with every resource (see rules.environment_tag_violations).
    provider_props = args.provider.props if args.provider is not None else None
    violations = rules.environment_tag_violations(args.resource_type, args.props, provider_props)
    _report(report_violation, violations)


# No policy sets its own enforcement level: the pack default (mandatory) or the stack's config
# file decides, so one file per stack says everything about how strict that stack is.
POLICIES: list[Policy] = [
    ResourceValidationPolicy(
        name="sg-world-ingress-web-only",
        description="Only TCP 80 and 443 may be open to the world (0.0.0.0/0 or ::/0).",
        validate=_on_props(rules.world_ingress_violations),
    ),
    ResourceValidationPolicy(
        name="ecs-no-public-ip",
        description="ECS tasks get no public IP address (Security Hub ECS.2).",
        validate=_on_props(rules.public_ip_violations),
    ),
    ResourceValidationPolicy(
        name="ecs-circuit-breaker-rollback",
        description="ECS services enable the deployment circuit breaker with rollback.",
        validate=_on_props(rules.circuit_breaker_violations),
    ),
    ResourceValidationPolicy(
        name="log-group-retention",
        description="CloudWatch log groups set a retention period.",
        validate=_on_props(rules.log_retention_violations),
    ),
    ResourceValidationPolicy(
        name="target-group-deregistration-delay",
        description=(
            f"Target groups drain targets for at most "
            f"{rules.MAX_DEREGISTRATION_DELAY_SECONDS} s (the AWS default is "
            f"{rules.AWS_DEFAULT_DEREGISTRATION_DELAY_SECONDS} s)."
        ),
        validate=_on_props(rules.deregistration_delay_violations),
    ),
    ResourceValidationPolicy(
        name="ecs-min-tasks",
        description=(
            "ECS services start, and autoscaling keeps, at least minTasks tasks "
            f"({rules.DEFAULT_MIN_TASKS} unless the stack's policy config lowers it)."
        ),
        validate=_validate_min_tasks,
        config_schema=PolicyConfigSchema(
            properties={
                "minTasks": {
                    "type": "integer",
                    "minimum": 1,
                    "default": rules.DEFAULT_MIN_TASKS,
                    "description": "Fewest tasks a service may start with or scale in to.",
                }
            }
        ),
    ),
    ResourceValidationPolicy(
        name="alb-drop-invalid-headers",
        description="Application load balancers drop invalid HTTP headers (Security Hub ELB.4).",
        validate=_on_props(rules.invalid_header_violations),
    ),
    ResourceValidationPolicy(
        name="environment-tag",
        description=(
            f"Taggable AWS resources carry an {rules.ENVIRONMENT_TAG} tag, from the provider's "
            "default tags or their own."
        ),
        validate=_validate_environment_tag,
    ),
]

if __name__ == "__main__":
    # Serves the policies to the CLI until it stops this process; importing the module (as the
    # tests do) must not start the server.
    PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=DEFAULT_ENFORCEMENT)
