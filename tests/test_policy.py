"""The policy pack in policy/: each rule on good and bad resources, the program against its own
baseline under mocks, and the wiring from the pack to the rules and from each stack to its
enforcement level. Nothing here needs the Pulumi CLI, AWS or the network.
"""

from __future__ import annotations

import ast
import copy
import functools
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pulumi_aws
import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

import policy.__main__ as pack
from offline.harness import REPO, Resource, Run, run_program, stack_names
from policy import rules

POLICY_DIR = REPO / "policy"

# The pack's contract: CI config files and the README refer to these names.
BASELINE = (
    "sg-world-ingress-web-only",
    "ecs-no-public-ip",
    "ecs-circuit-breaker-rollback",
    "log-group-retention",
    "target-group-deregistration-delay",
    "ecs-min-tasks",
    "alb-drop-invalid-headers",
    "environment-tag",
)
# How strict each stack's policy config file must make every policy.
EXPECTED_LEVEL = {"dev": EnforcementLevel.ADVISORY, "prod": EnforcementLevel.MANDATORY}
# The only (policy, resource) pairs a stack may violate: dev's two documented savings (see
# Pulumi.dev.yaml), tasks with public IPs instead of a NAT gateway (a waiver of Security Hub ECS.2)
# and no task at all outside office hours (the schedule's closing action).
EXPECTED_VIOLATIONS: dict[str, set[tuple[str, str]]] = {
    "dev": {("ecs-no-public-ip", "mario-service"), ("ecs-min-tasks", "mario-close")},
    "prod": set(),
}
# What awsx.ec2.Vpc creates in a real deployment. Under mocks these do not exist (the component is
# one registration), but the tag rule meets them in every real preview.
AWSX_VPC_TYPES = (
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/route:Route",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/natGateway:NatGateway",
)

_OPTIONS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


# ---------------------------------------------------------------------------------------------
# Helpers: the program's recorded resources, fed to the pack the way the policy runtime does
# ---------------------------------------------------------------------------------------------


@functools.cache
def recorded(stack: str) -> Run:
    """One run per stack for the session; tests that change it work on a deep copy."""
    return run_program(stack)


def policy_named(name: str) -> ResourceValidationPolicy:
    found = [p for p in pack.POLICIES if p.name == name]
    assert len(found) == 1, f"expected one policy named {name}"
    policy = found[0]
    assert isinstance(policy, ResourceValidationPolicy)
    return policy


def config_file(stack: str) -> dict[str, Any]:
    data = json.loads((POLICY_DIR / f"config.{stack}.json").read_text())
    assert isinstance(data, dict)
    return data


def effective_levels(stack: str) -> dict[str, EnforcementLevel]:
    """Each policy's level for ``stack``, merged as the Pulumi CLI merges a --policy-pack-config
    file: the policy's own level or the pack default, then "all", then the policy's own entry."""
    config = config_file(stack)
    levels = {}
    for policy in pack.POLICIES:
        level = policy.enforcement_level or pack.DEFAULT_ENFORCEMENT
        if "all" in config:
            level = EnforcementLevel(config["all"])
        entry = config.get(policy.name)
        if isinstance(entry, str):
            level = EnforcementLevel(entry)
        elif isinstance(entry, dict) and "enforcementLevel" in entry:
            level = EnforcementLevel(entry["enforcementLevel"])
        levels[policy.name] = level
    return levels


def effective_properties(stack: str, name: str) -> dict[str, Any]:
    """A policy's config for ``stack`` as its validate sees it: schema defaults overlaid with the
    file's entry, numbers turned into floats as protobuf's Struct turns them."""
    policy = policy_named(name)
    properties: dict[str, Any] = {}
    if policy.config_schema is not None:
        for key, schema in policy.config_schema.properties.items():
            if "default" in schema:
                properties[key] = schema["default"]
    entry = config_file(stack).get(name)
    if isinstance(entry, dict):
        properties.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
    converted = json.loads(json.dumps(properties), parse_int=float)
    assert isinstance(converted, dict)
    return converted


def validation_args(
    resource_type: str,
    props: Mapping[str, Any],
    *,
    provider_props: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    name: str = "example",
) -> ResourceValidationArgs:
    # The runtime wraps props in proxies that raise on unknown values; the tests do the same, so
    # a rule that only works on plain dicts or lists fails here rather than in a real preview.
    provider = (
        PolicyProviderResource(
            "pulumi:providers:aws",
            unknown_checking_proxy(dict(provider_props)),
            "urn:pulumi:test::mario-fargate::pulumi:providers:aws::aws",
            "aws",
        )
        if provider_props is not None
        else None
    )
    return ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(dict(props)),
        f"urn:pulumi:test::mario-fargate::{resource_type}::{name}",
        name,
        _OPTIONS,
        provider,
        config,
    )


def run_policy(policy: ResourceValidationPolicy, args: ResourceValidationArgs) -> list[str]:
    reported: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        reported.append(message)

    # Every validation in the pack is synchronous: nothing may be left to await.
    assert policy.validate(args, report) is None
    return reported


def provider_inputs(run: Run, resource: Resource) -> dict[str, Any] | None:
    if not resource.provider:
        return None
    # A provider reference is "<provider URN>::<provider id>".
    return run.by_urn(resource.provider.rsplit("::", 1)[0]).inputs


def program_violations(run: Run, stack: str) -> set[tuple[str, str]]:
    """(policy, resource) for every violation the pack reports on the run's resources."""
    found: set[tuple[str, str]] = set()
    for resource in run.resources:
        for policy in pack.POLICIES:
            assert isinstance(policy, ResourceValidationPolicy)
            args = validation_args(
                resource.type,
                resource.inputs,
                provider_props=provider_inputs(run, resource),
                config=effective_properties(stack, policy.name),
                name=resource.name,
            )
            found.update((policy.name, resource.name) for _ in run_policy(policy, args))
    return found


# ---------------------------------------------------------------------------------------------
# Each rule on hand-built resources: a bad one fails with a telling message, a good one passes
# ---------------------------------------------------------------------------------------------

Check = Callable[[str, Mapping[str, Any]], list[str]]
WORLD4, WORLD6 = "0.0.0.0/0", "::/0"


def _ingress(protocol: str, low: int, high: int, **extra: Any) -> dict[str, Any]:
    return {"ipProtocol": protocol, "fromPort": low, "toPort": high, **extra}


def _inline(protocol: str, low: int, high: int, cidrs: list[str]) -> dict[str, Any]:
    return {
        "ingress": [{"protocol": protocol, "fromPort": low, "toPort": high, "cidrBlocks": cidrs}]
    }


BAD: list[tuple[str, Check, str, dict[str, Any], str]] = [
    # (id, rule, resource type, props, a fragment the message must contain)
    (
        "8080-from-world",
        rules.world_ingress_violations,
        rules.INGRESS_RULE,
        _ingress("tcp", 8080, 8080, cidrIpv4=WORLD4),
        "tcp port 8080",
    ),
    (
        "all-traffic-from-ipv6-world",
        rules.world_ingress_violations,
        rules.INGRESS_RULE,
        _ingress("-1", -1, -1, cidrIpv6=WORLD6),
        "all traffic",
    ),
    (
        "port-range-spanning-80-443",
        rules.world_ingress_violations,
        rules.INGRESS_RULE,
        _ingress("tcp", 80, 443, cidrIpv4=WORLD4),
        "ports 80-443",
    ),
    (
        "inline-ssh-from-world",
        rules.world_ingress_violations,
        rules.SECURITY_GROUP,
        _inline("tcp", 22, 22, ["10.0.0.0/8", WORLD4]),
        "ingress[0]: ingress from 0.0.0.0/0 allows tcp port 22",
    ),
    (
        "legacy-rule-8080-from-ipv6-world",
        rules.world_ingress_violations,
        rules.SECURITY_GROUP_RULE,
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 8080,
            "toPort": 8080,
            "ipv6CidrBlocks": [WORLD6],
        },
        "tcp port 8080",
    ),
    (
        "public-ip",
        rules.public_ip_violations,
        rules.ECS_SERVICE,
        {"networkConfiguration": {"assignPublicIp": True, "subnets": ["subnet-1"]}},
        "ECS.2",
    ),
    (
        "no-circuit-breaker",
        rules.circuit_breaker_violations,
        rules.ECS_SERVICE,
        {"desiredCount": 2},
        "no deploymentCircuitBreaker",
    ),
    (
        "circuit-breaker-without-rollback",
        rules.circuit_breaker_violations,
        rules.ECS_SERVICE,
        {"deploymentCircuitBreaker": {"enable": True, "rollback": False}},
        "rollback must be true",
    ),
    (
        "log-group-without-retention",
        rules.log_retention_violations,
        rules.LOG_GROUP,
        {"name": "game"},
        "not set",
    ),
    (
        "log-group-retention-zero",
        rules.log_retention_violations,
        rules.LOG_GROUP,
        {"retentionInDays": 0},
        "forever",
    ),
    (
        "deregistration-delay-unset-means-300",
        rules.deregistration_delay_violations,
        rules.TARGET_GROUPS[0],
        {"targetType": "ip", "port": 8080},
        "default of 300 s",
    ),
    (
        "deregistration-delay-60",
        rules.deregistration_delay_violations,
        rules.TARGET_GROUPS[1],
        {"deregistrationDelay": 60.0},
        "is 60 s",
    ),
    (
        "one-task",
        rules.min_tasks_violations,
        rules.ECS_SERVICE,
        {"desiredCount": 1.0},
        "run at least 2 tasks",
    ),
    (
        "no-desired-count-means-zero",
        rules.min_tasks_violations,
        rules.ECS_SERVICE,
        {"launchType": "FARGATE"},
        "not set (0)",
    ),
    (
        "scales-in-to-one",
        rules.min_tasks_violations,
        rules.SCALING_TARGET,
        {"serviceNamespace": "ecs", "minCapacity": 1.0, "maxCapacity": 4.0},
        "below 2 tasks",
    ),
    (
        "schedule-scales-to-zero",
        rules.min_tasks_violations,
        rules.SCHEDULED_ACTION,
        {
            "serviceNamespace": "ecs",
            "scalableTargetAction": {"minCapacity": 0.0, "maxCapacity": 0.0},
        },
        "minCapacity to 0 and maxCapacity to 0",
    ),
    (
        "alb-keeps-invalid-headers",
        rules.invalid_header_violations,
        rules.LOAD_BALANCERS[0],
        {"loadBalancerType": "application", "dropInvalidHeaderFields": False},
        "ELB.4",
    ),
    (
        "unset-type-is-an-alb",
        rules.invalid_header_violations,
        rules.LOAD_BALANCERS[1],
        {"internal": False},
        "ELB.4",
    ),
]

GOOD: list[tuple[str, Check, str, dict[str, Any]]] = [
    ("http-from-world", rules.world_ingress_violations, rules.INGRESS_RULE,
     _ingress("tcp", 80, 80, cidrIpv4=WORLD4)),
    ("https-from-ipv6-world", rules.world_ingress_violations, rules.INGRESS_RULE,
     _ingress("6", 443, 443, cidrIpv6=WORLD6)),
    ("8080-from-alb-group", rules.world_ingress_violations, rules.INGRESS_RULE,
     _ingress("tcp", 8080, 8080, referencedSecurityGroupId="sg-alb")),
    ("8080-from-vpc", rules.world_ingress_violations, rules.INGRESS_RULE,
     _ingress("tcp", 8080, 8080, cidrIpv4="10.0.0.0/16")),
    ("inline-https-from-world", rules.world_ingress_violations, rules.SECURITY_GROUP,
     _inline("tcp", 443, 443, [WORLD4])),
    ("world-egress-is-not-ingress", rules.world_ingress_violations, rules.SECURITY_GROUP_RULE,
     {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": [WORLD4]}),
    ("private-ip-only", rules.public_ip_violations, rules.ECS_SERVICE,
     {"networkConfiguration": {"assignPublicIp": False, "subnets": ["subnet-1"]}}),
    ("circuit-breaker-with-rollback", rules.circuit_breaker_violations, rules.ECS_SERVICE,
     {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}),
    ("retention-7-days", rules.log_retention_violations, rules.LOG_GROUP,
     {"retentionInDays": 7.0}),
    ("deregistration-15", rules.deregistration_delay_violations, rules.TARGET_GROUPS[0],
     {"deregistrationDelay": 15.0}),
    ("deregistration-30-as-text", rules.deregistration_delay_violations, rules.TARGET_GROUPS[0],
     {"deregistrationDelay": "30"}),
    ("lambda-targets-never-drain", rules.deregistration_delay_violations, rules.TARGET_GROUPS[0],
     {"targetType": "lambda"}),
    ("two-tasks", rules.min_tasks_violations, rules.ECS_SERVICE, {"desiredCount": 2.0}),
    ("scales-in-to-two", rules.min_tasks_violations, rules.SCALING_TARGET,
     {"serviceNamespace": "ecs", "minCapacity": 2.0, "maxCapacity": 6.0}),
    ("schedule-opens-at-two", rules.min_tasks_violations, rules.SCHEDULED_ACTION,
     {"serviceNamespace": "ecs", "scalableTargetAction": {"minCapacity": 2.0, "maxCapacity": 6.0}}),
    ("other-autoscaling-namespaces", rules.min_tasks_violations, rules.SCALING_TARGET,
     {"serviceNamespace": "dynamodb", "minCapacity": 1.0}),
    ("alb-drops-invalid-headers", rules.invalid_header_violations, rules.LOAD_BALANCERS[0],
     {"loadBalancerType": "application", "dropInvalidHeaderFields": True}),
    ("network-lb-has-no-headers", rules.invalid_header_violations, rules.LOAD_BALANCERS[0],
     {"loadBalancerType": "network"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "resource_type", "props", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD],
)
def test_rule_reports_a_bad_resource(
    check: Check, resource_type: str, props: dict[str, Any], fragment: str
) -> None:
    violations = check(resource_type, props)
    assert len(violations) == 1, violations
    assert fragment in violations[0]


@pytest.mark.parametrize(
    ("check", "resource_type", "props"),
    [pytest.param(*case[1:], id=case[0]) for case in GOOD],
)
def test_rule_passes_a_good_resource(
    check: Check, resource_type: str, props: dict[str, Any]
) -> None:
    assert check(resource_type, props) == []


def test_every_rule_has_bad_and_good_cases() -> None:
    # A rule tested only on resources it passes would prove nothing.
    bad = {case[1] for case in BAD}
    good = {case[1] for case in GOOD}
    assert bad == good
    # Rules 1-7; rule 8 needs the provider as well and has its own tests below.
    assert len(bad) == 7


def test_rules_ignore_resource_types_they_do_not_govern() -> None:
    # The same bad props on an unrelated type: nothing to report.
    for _, check, _, props, _ in BAD:
        assert check("aws:s3/bucket:Bucket", props) == []


def test_min_tasks_follows_the_configured_floor() -> None:
    one_task = {"desiredCount": 1.0}
    assert rules.min_tasks_violations(rules.ECS_SERVICE, one_task, min_tasks=1) == []
    assert len(rules.min_tasks_violations(rules.ECS_SERVICE, one_task, min_tasks=2)) == 1
    scaling = {"serviceNamespace": "ecs", "minCapacity": 2.0}
    assert len(rules.min_tasks_violations(rules.SCALING_TARGET, scaling, min_tasks=3)) == 1


TAGGED = json.dumps({"tags": {"Project": "mario-fargate", "Environment": "prod"}})
UNTAGGED = json.dumps({"tags": {"Project": "mario-fargate"}})


@pytest.mark.parametrize(
    ("props", "provider_props"),
    [
        pytest.param({}, {"defaultTags": TAGGED}, id="provider-default-tags-as-json"),
        pytest.param({}, {"defaultTags": json.loads(TAGGED)}, id="provider-default-tags-decoded"),
        pytest.param({"tags": {"Environment": "dev"}}, {"region": "us-east-1"}, id="own-tags"),
        pytest.param({"tagsAll": {"Environment": "dev"}}, None, id="tags-all"),
    ],
)
def test_environment_tag_found(
    props: dict[str, Any], provider_props: dict[str, Any] | None
) -> None:
    assert rules.environment_tag_violations(rules.LOG_GROUP, props, provider_props) == []


@pytest.mark.parametrize(
    ("props", "provider_props"),
    [
        pytest.param({}, None, id="no-provider-no-tags"),
        pytest.param({}, {"defaultTags": UNTAGGED}, id="default-tags-without-environment"),
        pytest.param({"tags": {"Environment": " "}}, {"region": "us-east-1"}, id="blank-value"),
        pytest.param({"tags": {"environment": "dev"}}, None, id="keys-are-case-sensitive"),
    ],
)
def test_environment_tag_missing(
    props: dict[str, Any], provider_props: dict[str, Any] | None
) -> None:
    violations = rules.environment_tag_violations(rules.LOG_GROUP, props, provider_props)
    assert len(violations) == 1
    assert "no Environment tag" in violations[0]


def test_environment_tag_skips_what_cannot_be_tagged() -> None:
    for resource_type in ("aws:ec2/route:Route", "pulumi:providers:aws", "mario:infra:Network"):
        assert rules.environment_tag_violations(resource_type, {}, None) == []


def _pulumi_aws_takes_tags(resource_type: str) -> bool:
    _, module_path, name = resource_type.split(":")
    module = module_path.split("/")[0]
    package = importlib.import_module("pulumi_aws" if module == "index" else f"pulumi_aws.{module}")
    return hasattr(getattr(package, f"{name}Args"), "tags")


@functools.cache
def _pulumi_aws_tokens() -> dict[tuple[str, str], str]:
    """(module, class) -> type token, from the resource registry pulumi_aws declares on import."""
    source = (Path(pulumi_aws.__file__).parent / "__init__.py").read_text()
    tokens = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "resource_modules":
            assert isinstance(node.value, ast.Constant)
            assert isinstance(node.value.value, str)
            for module in json.loads(node.value.value):
                # "pulumi_aws.ecs" holds aws.ecs.Service, whatever the token's own spelling.
                package = module["fqn"].rpartition(".")[2]
                for token, name in module["classes"].items():
                    tokens[(package, name)] = token
    assert len(tokens) > 1000
    return tokens


def _types_in_source() -> set[str]:
    """Every AWS resource type the program's source can create, enabled by its stacks or not
    (optional features such as HTTPS or the image cache are off in both stack files)."""
    found = set()
    for path in [REPO / "__main__.py", *sorted((REPO / "components").rglob("*.py"))]:
        for module, name in re.findall(r"\baws\.([a-z0-9_]+)\.([A-Z]\w*)\(", path.read_text()):
            token = _pulumi_aws_tokens().get((module, name))
            if token is not None:  # Args classes and functions are not resources
                found.add(token)
    return found


def test_taggable_types_agree_with_pulumi_aws() -> None:
    # The tag rule's list of untaggable types, checked against the provider SDK's own classes for
    # everything the program registers or could, what awsx creates for it, and every listed
    # exception.
    program = {r.type for stack in stack_names() for r in recorded(stack).resources}
    source = _types_in_source()
    assert {t for t in program if t.startswith("aws:")} <= source
    assert len(source) >= 20
    types = source | set(AWSX_VPC_TYPES) | rules.UNTAGGABLE_TYPES
    wrong = {t for t in types if rules.is_taggable(t) != _pulumi_aws_takes_tags(t)}
    assert wrong == set()


# ---------------------------------------------------------------------------------------------
# The program against its own baseline, through the pack's policy objects
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", stack_names())
def test_program_meets_its_baseline(stack: str) -> None:
    assert stack in EXPECTED_VIOLATIONS, f"new stack {stack}: decide its expected violations"
    run = recorded(stack)
    # Every rule has something to judge in the program, so a pass is not a pass by absence.
    types = {r.type for r in run.resources}
    governed = {rules.INGRESS_RULE, rules.ECS_SERVICE, rules.SCALING_TARGET, rules.LOG_GROUP}
    governed |= {rules.TARGET_GROUPS[0], rules.LOAD_BALANCERS[0]}
    assert governed <= types
    assert sum(rules.is_taggable(t) for t in types) >= 10

    violations = program_violations(run, stack)

    assert violations == EXPECTED_VIOLATIONS[stack]
    levels = effective_levels(stack)
    # Whatever a stack is allowed to violate is advisory there, never mandatory.
    assert all(levels[name] == EnforcementLevel.ADVISORY for name, _ in violations)


def _set(name: str, key: str, value: Any) -> Callable[[Run], None]:
    def mutate(run: Run) -> None:
        run.named(name).inputs[key] = value

    return mutate


def _drop(name: str, key: str) -> Callable[[Run], None]:
    def mutate(run: Run) -> None:
        del run.named(name).inputs[key]

    return mutate


def _open_tasks_to_world(run: Run) -> None:
    rule = run.named("mario-task-from-alb").inputs
    del rule["referencedSecurityGroupId"]
    rule["cidrIpv4"] = "0.0.0.0/0"


def _public_tasks(run: Run) -> None:
    run.named("mario-service").inputs["networkConfiguration"]["assignPublicIp"] = True


def _no_rollback(run: Run) -> None:
    run.named("mario-service").inputs["deploymentCircuitBreaker"]["rollback"] = False


@pytest.mark.parametrize(
    ("policy", "resource", "mutate"),
    [
        ("sg-world-ingress-web-only", "mario-task-from-alb", _open_tasks_to_world),
        ("ecs-no-public-ip", "mario-service", _public_tasks),
        ("ecs-circuit-breaker-rollback", "mario-service", _no_rollback),
        ("log-group-retention", "mario-logs", _drop("mario-logs", "retentionInDays")),
        ("target-group-deregistration-delay", "mario-tg", _drop("mario-tg", "deregistrationDelay")),
        ("ecs-min-tasks", "mario-scaling", _set("mario-scaling", "minCapacity", 1.0)),
        ("ecs-min-tasks", "mario-service", _set("mario-service", "desiredCount", 1.0)),
        (
            "alb-drop-invalid-headers",
            "mario-alb",
            _set("mario-alb", "dropInvalidHeaderFields", False),
        ),
    ],
)
def test_one_bad_change_to_prod_fails_exactly_its_policy(
    policy: str, resource: str, mutate: Callable[[Run], None]
) -> None:
    run = copy.deepcopy(recorded("prod"))
    mutate(run)
    assert program_violations(run, "prod") == {(policy, resource)}


def test_prod_without_default_tags_fails_every_taggable_resource() -> None:
    run = copy.deepcopy(recorded("prod"))
    run.named("aws", "pulumi:providers:aws").inputs["defaultTags"] = UNTAGGED
    taggable = {("environment-tag", r.name) for r in run.resources if rules.is_taggable(r.type)}
    assert len(taggable) >= 10
    assert program_violations(run, "prod") == taggable


# ---------------------------------------------------------------------------------------------
# The pack: its policies, their wiring to the rules, and each stack's enforcement
# ---------------------------------------------------------------------------------------------


def test_pack_declares_the_baseline() -> None:
    assert tuple(p.name for p in pack.POLICIES) == BASELINE
    assert all(isinstance(p, ResourceValidationPolicy) for p in pack.POLICIES)
    # Strictness lives in the pack default and the config files only, never in a policy.
    assert [p.enforcement_level for p in pack.POLICIES] == [None] * len(BASELINE)
    # Without a config file (a forgotten flag) everything is mandatory: fail closed.
    assert pack.DEFAULT_ENFORCEMENT == EnforcementLevel.MANDATORY
    assert re.fullmatch(r"[a-zA-Z0-9._-]{1,100}", pack.PACK_NAME)


@pytest.mark.parametrize("stack", stack_names())
def test_each_stack_has_a_policy_config_with_its_enforcement(stack: str) -> None:
    assert stack in EXPECTED_LEVEL, f"new stack {stack}: add policy/config.{stack}.json"
    config = config_file(stack)
    assert set(config) <= {*BASELINE, "all"}
    for name, entry in config.items():
        if isinstance(entry, dict):
            schema = policy_named(name).config_schema
            known = set(schema.properties) if schema is not None else set()
            assert set(entry) - {"enforcementLevel"} <= known, f"{name}: unknown settings"
    assert effective_levels(stack) == dict.fromkeys(BASELINE, EXPECTED_LEVEL[stack])


def test_only_dev_lowers_the_task_floor() -> None:
    assert effective_properties("prod", "ecs-min-tasks") == {"minTasks": 2.0}
    # Pulumi.dev.yaml runs one task on purpose; the rule still catches a service with none.
    assert effective_properties("dev", "ecs-min-tasks") == {"minTasks": 1.0}


def test_validate_reports_the_rule_messages_through_the_callback() -> None:
    policy = policy_named("ecs-no-public-ip")
    bad = {"networkConfiguration": {"assignPublicIp": True, "subnets": ["subnet-1"]}}
    good = {"networkConfiguration": {"assignPublicIp": False, "subnets": ["subnet-1"]}}
    expected = rules.public_ip_violations(rules.ECS_SERVICE, bad)
    assert len(expected) == 1
    assert run_policy(policy, validation_args(rules.ECS_SERVICE, bad)) == expected
    assert run_policy(policy, validation_args(rules.ECS_SERVICE, good)) == []


def test_min_tasks_policy_reads_its_config() -> None:
    policy = policy_named("ecs-min-tasks")
    one_task = {"desiredCount": 1.0}
    unconfigured = run_policy(policy, validation_args(rules.ECS_SERVICE, one_task))
    assert len(unconfigured) == 1
    assert "at least 2 tasks" in unconfigured[0]
    dev = validation_args(rules.ECS_SERVICE, one_task, config={"minTasks": 1.0})
    assert run_policy(policy, dev) == []


def test_environment_tag_policy_reads_the_provider() -> None:
    policy = policy_named("environment-tag")
    tagged = validation_args(rules.LOG_GROUP, {}, provider_props={"defaultTags": TAGGED})
    assert run_policy(policy, tagged) == []
    untagged = validation_args(rules.LOG_GROUP, {}, provider_props={"defaultTags": UNTAGGED})
    assert len(run_policy(policy, untagged)) == 1
    assert len(run_policy(policy, validation_args(rules.LOG_GROUP, {}))) == 1


def test_unknown_values_never_pass_silently() -> None:
    # During preview a value may be unknown; the runtime turns the proxy's error into a "can't
    # run during preview" notice. A rule must let it through, not read it as "no violation".
    world_rule = policy_named("sg-world-ingress-web-only")
    unknown_cidr = _ingress("tcp", 8080, 8080, cidrIpv4=UNKNOWN_STRING_VALUE)
    with pytest.raises(UnknownValueError):
        run_policy(world_rule, validation_args(rules.INGRESS_RULE, unknown_cidr))
    # The provider's default tags are read first, so unknown resource tags do not matter then.
    tag_rule = policy_named("environment-tag")
    unknown_tags = {"tags": UNKNOWN_STRING_VALUE}
    tagged = validation_args(rules.LOG_GROUP, unknown_tags, provider_props={"defaultTags": TAGGED})
    assert run_policy(tag_rule, tagged) == []


def test_pack_loads_the_way_the_cli_runs_it() -> None:
    # The CLI's Python policy host runs the pack folder with runpy.run_path from inside that
    # folder: no parent package, the folder first on sys.path. A run name other than "__main__"
    # keeps the policy server from starting.
    probe = (
        "import json, runpy; g = runpy.run_path('.', run_name='probe'); "
        "print(json.dumps([p.name for p in g['POLICIES']]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=POLICY_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert tuple(json.loads(done.stdout)) == BASELINE


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9._-]+)==(\S+)\s*", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def test_pack_project_files() -> None:
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    # The CLI runs the pack with this interpreter; the root .gitignore already ignores .venv/.
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    assert project["version"]
    pinned = _pins((POLICY_DIR / "requirements.txt").read_text())
    assert set(pinned) == {"pulumi-policy", "pulumi"}
    # The pack runs the same SDK versions the tests here import (constraints.txt).
    constraints = _pins((REPO / "constraints.txt").read_text())
    assert all(constraints[name] == version for name, version in pinned.items())
