"""Every validation rule, and the promise that bad configuration stops the program early."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.config import NAMESPACE, ConfigError, parse
from offline import harness
from offline.harness import stack_config

from .conftest import STACKS


def problems_for(stack: str = "dev", **overrides: Any) -> list[str]:
    """The problems parse() reports for the real stack file with ``overrides`` applied."""
    try:
        parse(stack_config(stack, overrides), stack)
    except ConfigError as exc:
        return exc.problems
    return []


def only_problem(**overrides: Any) -> str:
    problems = problems_for(**overrides)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize("stack", STACKS)
def test_real_stack_files_are_valid(stack: str) -> None:
    assert problems_for(stack) == []


def test_optional_domain_defaults_to_none() -> None:
    assert parse(stack_config("dev"), "dev").domain is None
    assert parse(stack_config("dev", {"domain": "m.example.com"}), "dev").domain == "m.example.com"


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        ({"image": ""}, ["image = ''", "must not be empty"]),
        ({"image": "Not An Image"}, ["image", "image reference"]),
        ({"image": "repo@sha256:abc"}, ["image", "sha256"]),
        ({"containerPort": 0}, ["containerPort = '0'", "1..65535"]),
        ({"containerPort": 70000}, ["containerPort", "1..65535"]),
        ({"containerPort": "http"}, ["containerPort = 'http'", "whole number"]),
        ({"cpu": 300}, ["cpu = '300'", "256, 512, 1024"]),
        ({"cpu": 256, "memory": 4096}, ["memory = '4096'", "with cpu 256", "512, 1024, 2048"]),
        ({"cpu": 512, "memory": 512}, ["memory", "1024..4096 step 1024"]),
        ({"spot": "yes"}, ["spot = 'yes'", "true or false"]),
        ({"minCount": 3, "maxCount": 2, "desiredCount": 2}, ["minCount = '3'", "maxCount (2)"]),
        ({"desiredCount": 5}, ["desiredCount = '5'", "minCount..maxCount (1..2)"]),
        ({"maxCount": 0, "minCount": 0, "desiredCount": 0}, ["maxCount = '0'", "1..50"]),
        ({"minCount": -1}, ["minCount = '-1'", "0..50"]),
        ({"maxCount": 500}, ["maxCount = '500'", "1..50"]),
        ({"availabilityZones": 1}, ["availabilityZones = '1'", "2..6", "two zones"]),
        ({"availabilityZones": 7}, ["availabilityZones", "2..6"]),
        ({"vpcCidr": "10.0.0.0/25"}, ["vpcCidr = '10.0.0.0/25'", "too small", "/23"]),
        ({"vpcCidr": "10.0.0.0/8"}, ["vpcCidr", "too large"]),
        ({"vpcCidr": "10.1.2.3/16"}, ["vpcCidr", "not an IPv4 network"]),
        ({"vpcCidr": "52.0.0.0/16"}, ["vpcCidr", "RFC 1918"]),
        ({"natGateways": "two"}, ["natGateways = 'two'", "none, single, perAz"]),
        ({"natGateways": "PerAZ"}, ["natGateways", "none, single, perAz"]),
        ({"logRetentionDays": 10}, ["logRetentionDays = '10'", "1, 3, 5, 7, 14, 30"]),
        ({"containerInsights": "on"}, ["containerInsights = 'on'", "true or false"]),
        ({"deletionProtection": 1}, ["deletionProtection = '1'", "true or false"]),
        ({"domain": "localhost"}, ["domain = 'localhost'", "fully qualified"]),
        ({"domain": "-mario.example.com"}, ["domain", "'-mario'"]),
        ({"domain": "Mario.Example.com"}, ["domain", "lower case"]),
        ({"domain": "10.0.0.1"}, ["domain", "not an IP address"]),
        ({"domain": "a" * 64 + ".example.com"}, ["domain", "1-63"]),
        ({"aws:region": None}, ["aws:region = ''", "us-east-1"]),
        ({"hostedZoneId": "zone1", "domain": "m.example.com"}, ["hostedZoneId", "Route 53"]),
        ({"hostedZoneId": "Z0123456789ABC"}, ["hostedZoneId", "only used with domain"]),
        ({"domain": "example.com"}, ["domain = 'example.com'", "zone apex", "hostedZoneId"]),
        ({"alarmEmail": "ops"}, ["alarmEmail = 'ops'", "e-mail"]),
        ({"imageSource": "quay"}, ["imageSource = 'quay'", "dockerhub, ecrPullThroughCache"]),
        ({"dockerHubUsername": "Bad User"}, ["dockerHubUsername", "Docker Hub user name"]),
        ({"albAccessLogs": "maybe"}, ["albAccessLogs", "true or false"]),
        ({"vpcFlowLogs": "2"}, ["vpcFlowLogs", "true or false"]),
        ({"schedule": "weekdays"}, ["schedule = 'weekdays'", "MON-FRI 08:00-20:00 Europe/Paris"]),
        ({"schedule": "MON-FRI 20:00-08:00 UTC"}, ["schedule", "end time must be after"]),
        ({"schedule": "MON-FRI 08:00-20:00 Mars/Olympus"}, ["schedule", "unknown time zone"]),
        ({"schedule": "MON-FRI 08:00-20:00 Europe"}, ["schedule", "unknown time zone"]),
        ({"image": "Pengbai/docker-supermario"}, ["image", "image reference"]),
        ({"schedule": "MON-FUN 08:00-20:00 UTC"}, ["schedule", "unknown day FUN"]),
        ({"schedule": "FRI-MON 08:00-20:00 UTC"}, ["schedule", "runs backwards"]),
        ({"schedule": "MON 08:00-24:30 UTC"}, ["schedule", "not a time of day"]),
        ({"aws:region": "mars-1"}, ["aws:region = 'mars-1'"]),
    ],
)
def test_each_rule_refuses_a_bad_value(overrides: dict[str, Any], fragments: list[str]) -> None:
    problem = only_problem(**overrides)
    for fragment in fragments:
        assert fragment in problem, (fragment, problem)


@pytest.mark.parametrize(
    "overrides",
    [
        {"image": "pengbai/docker-supermario@sha256:" + "a" * 64},
        {"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub/pengbai/mario:latest"},
        {"domain": "mario.example.com"},
        {"vpcCidr": "192.168.0.0/23", "availabilityZones": 6},
        {"cpu": 16384, "memory": 122880},
        {"natGateways": "single"},
        {"spot": "True"},
        {"domain": "example.com", "hostedZoneId": "Z0123456789ABC"},
        {"alarmEmail": "ops+mario@example.co.uk"},
        {"schedule": "DAILY 07:30-23:00 America/New_York"},
        {"schedule": "MON,WED-FRI 09:00-17:00 UTC"},
        {"albAccessLogs": True, "vpcFlowLogs": True},
    ],
)
def test_good_values_are_accepted(overrides: dict[str, Any]) -> None:
    assert problems_for(**overrides) == []


def test_unknown_key_is_refused_with_a_suggestion() -> None:
    problem = only_problem(desiredcount=1)
    assert f"{NAMESPACE}:desiredcount: unknown key (did you mean desiredCount?)" in problem
    assert "known keys: image, containerPort" in problem


def test_missing_key_is_reported() -> None:
    assert "cpu: not set" in only_problem(cpu=None)


def test_all_problems_are_reported_in_one_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse(stack_config("prod", {"cpu": 3, "natGateways": "x", "logRetentionDays": 2}), "prod")
    message = str(caught.value)
    assert "stack 'prod' (3 problems)" in message
    for key in ("cpu = '3'", "natGateways = 'x'", "logRetentionDays = '2'"):
        assert key in message
    assert "Pulumi.prod.yaml" in message


def test_bad_config_stops_the_program_before_any_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[str] = []
    original = harness.RecordingMonitor.RegisterResource

    def spy(self: harness.RecordingMonitor, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            registered.append(request.type)
        return original(self, request)

    monkeypatch.setattr(harness.RecordingMonitor, "RegisterResource", spy)
    with pytest.raises(pulumi.RunError) as caught:
        harness.run_program("dev", {"memory": 3000, "maxCount": 0})
    assert registered == []
    message = str(caught.value)
    assert "memory = '3000'" in message and "maxCount = '0'" in message
    # Raised `from None`: the CLI shows the message, not a chain of Python exceptions.
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_valid_run_does_register_resources() -> None:
    # The counterpart of the test above, so that the spy is known to see registrations.
    assert len(harness.run_program("dev").resources) > 10


def cache_problems(secret: bool = True, **overrides: Any) -> list[str]:
    config = stack_config(
        "prod",
        {
            "imageSource": "ecrPullThroughCache",
            "dockerHubUsername": "marioteam",
            "dockerHubAccessToken": "dckr_pat_123",
            **overrides,
        },
    )
    secrets = frozenset({f"{NAMESPACE}:dockerHubAccessToken"} if secret else ())
    try:
        parse(config, "prod", secrets)
    except ConfigError as exc:
        return exc.problems
    return []


def test_pull_through_cache_settings_are_accepted() -> None:
    assert cache_problems() == []


def test_pull_through_cache_needs_credentials() -> None:
    problems = cache_problems(dockerHubUsername="", dockerHubAccessToken="")
    assert any(p.startswith("dockerHubUsername = '': is required") for p in problems)
    assert any(p.startswith("dockerHubAccessToken = '': is required") for p in problems)


def test_pull_through_cache_needs_a_docker_hub_image() -> None:
    (problem,) = cache_problems(image="ghcr.io/someone/mario:1")
    assert "must be a Docker Hub image" in problem


def test_token_must_be_secret_and_is_never_shown() -> None:
    (problem,) = cache_problems(secret=False)
    assert "--secret" in problem
    assert "dckr_pat_123" not in problem and "[secret]" in problem
    settings = parse(
        stack_config("prod", {"dockerHubAccessToken": "dckr_pat_123"}),
        "prod",
        frozenset({f"{NAMESPACE}:dockerHubAccessToken"}),
    )
    assert "dckr_pat_123" not in repr(settings)


def test_any_encrypted_value_is_masked_in_errors() -> None:
    leaked = "dckr_pat_LEAKED"
    with pytest.raises(ConfigError) as caught:
        parse(
            stack_config("dev", {"alarmEmail": leaked}),
            "dev",
            frozenset({f"{NAMESPACE}:alarmEmail"}),
        )
    message = str(caught.value)
    assert "alarmEmail = '[secret]'" in message and leaked not in message
