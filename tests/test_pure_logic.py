"""Size tables and CIDR maths, tested without Pulumi."""

from __future__ import annotations

import ipaddress
import itertools
import re

import pytest

from components import aws_limits, image_ref
from components.schedule import parse_schedule, weekly_hours_from_crons
from components.subnet_plan import cidr_problem, plan_subnets


def test_fargate_table_matches_the_documented_sizes() -> None:
    assert aws_limits.memory_choices(256) == (512, 1024, 2048)
    assert aws_limits.memory_choices(512) == (1024, 2048, 3072, 4096)
    assert (
        aws_limits.memory_choices(1024)[0] == 2048 and aws_limits.memory_choices(1024)[-1] == 8192
    )
    assert aws_limits.memory_choices(4096)[-1] == 30720
    assert aws_limits.memory_choices(8192)[1] - aws_limits.memory_choices(8192)[0] == 4096
    assert aws_limits.memory_choices(16384) == tuple(range(32768, 122880 + 1, 8192))
    assert aws_limits.memory_choices(300) == ()


@pytest.mark.parametrize(
    ("cpu", "memory", "ok"),
    [
        (256, 512, True),
        (256, 4096, False),
        (512, 1536, False),
        (2048, 16384, True),
        (128, 512, False),
    ],
)
def test_task_size_validity(cpu: int, memory: int, ok: bool) -> None:
    assert aws_limits.is_valid_task_size(cpu, memory) is ok


def test_memory_choices_are_described_compactly() -> None:
    assert aws_limits.describe_memory_choices(256) == "512, 1024, 2048"
    assert aws_limits.describe_memory_choices(512) == "1024..4096 step 1024"


def test_retention_values_are_the_cloudwatch_set() -> None:
    assert 7 in aws_limits.LOG_RETENTION_DAYS and 30 in aws_limits.LOG_RETENTION_DAYS
    assert 10 not in aws_limits.LOG_RETENTION_DAYS and 0 not in aws_limits.LOG_RETENTION_DAYS
    assert len(aws_limits.LOG_RETENTION_DAYS) == 22


@pytest.mark.parametrize("azs", [2, 3, 6])
@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.20.0.0/20", "192.168.4.0/23"])
def test_subnets_are_disjoint_inside_the_vpc_and_big_enough_for_an_alb(cidr: str, azs: int) -> None:
    plan = plan_subnets(cidr, azs, with_private=True)
    vpc = ipaddress.IPv4Network(cidr)
    nets = [ipaddress.IPv4Network(c) for c in plan.public + plan.private]
    assert len(plan.public) == len(plan.private) == azs
    assert all(n.subnet_of(vpc) for n in nets)
    assert all(n.prefixlen <= 27 for n in nets)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(nets, 2))


def test_adding_a_zone_keeps_existing_subnets() -> None:
    two = plan_subnets("10.0.0.0/16", 2, with_private=True)
    three = plan_subnets("10.0.0.0/16", 3, with_private=True)
    assert three.public[:2] == two.public and three.private[:2] == two.private
    assert two.public == ("10.0.0.0/20", "10.0.16.0/20")
    assert two.private == ("10.0.128.0/20", "10.0.144.0/20")


def test_no_private_subnets_without_nat() -> None:
    assert plan_subnets("10.0.0.0/16", 2, with_private=False).private == ()


@pytest.mark.parametrize(
    ("cidr", "fragment"),
    [
        ("10.0.0.0/24", "too small"),
        ("10.0.0.0/8", "too large"),
        ("10.0.0.1/16", "not an IPv4 network"),
        ("banana", "not an IPv4 network"),
        ("8.8.0.0/16", "private"),
    ],
)
def test_bad_vpc_ranges_are_explained(cidr: str, fragment: str) -> None:
    problem = cidr_problem(cidr)
    assert problem is not None and fragment in problem
    with pytest.raises(ValueError, match=fragment):
        plan_subnets(cidr, 2, with_private=True)


def test_smallest_and_largest_vpc_are_accepted() -> None:
    assert cidr_problem("10.0.0.0/16") is None
    assert cidr_problem("10.0.0.0/23") is None


def test_schedule_becomes_two_crons_in_its_time_zone() -> None:
    schedule = parse_schedule("MON-FRI 08:00-20:30 Europe/Paris")
    assert schedule.scale_up_cron == "cron(0 8 ? * MON-FRI *)"
    assert schedule.scale_down_cron == "cron(30 20 ? * MON-FRI *)"
    assert schedule.timezone == "Europe/Paris"
    assert schedule.hours_per_week() == 5 * 12.5


def test_daily_and_listed_days() -> None:
    assert parse_schedule("DAILY 00:00-12:00 UTC").hours_per_week() == 7 * 12
    assert parse_schedule("DAILY 00:00-12:00 UTC").scale_up_cron == "cron(0 0 ? * * *)"
    assert parse_schedule("MON,WED-FRI 09:00-17:00 UTC").hours_per_week() == 4 * 8


@pytest.mark.parametrize(
    ("image", "path"),
    [
        ("pengbai/docker-supermario", "pengbai/docker-supermario:latest"),
        ("pengbai/docker-supermario:latest", "pengbai/docker-supermario:latest"),
        ("nginx:1.27", "library/nginx:1.27"),
        ("docker.io/pengbai/docker-supermario", "pengbai/docker-supermario:latest"),
        ("pengbai/mario@sha256:" + "c" * 64, "pengbai/mario@sha256:" + "c" * 64),
    ],
)
def test_docker_hub_paths(image: str, path: str) -> None:
    assert image_ref.is_docker_hub(image)
    assert image_ref.docker_hub_path(image) == path


@pytest.mark.parametrize("image", ["ghcr.io/a/b:1", "localhost:5000/mario", "public.ecr.aws/x/y"])
def test_other_registries_are_not_docker_hub(image: str) -> None:
    assert image_ref.is_valid(image) and not image_ref.is_docker_hub(image)
    with pytest.raises(ValueError, match="not a Docker Hub image"):
        image_ref.docker_hub_path(image)


# ECR's pattern for a pull-through cache rule's repository prefix (ECR API reference).
ECR_PREFIX = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")


@pytest.mark.parametrize(
    "stack", ["prod", "a--b", "Feature.Branch_with-A-very-long-name-indeed", "x_", "__", "dev-"]
)
def test_cache_prefix_is_valid_for_any_stack_name(stack: str) -> None:
    prefix = image_ref.cache_prefix(stack)
    assert 2 <= len(prefix) <= 30 and ECR_PREFIX.match(prefix), prefix
    assert image_ref.cache_prefix("prod") == "dockerhub-prod"


def test_repository_paths_must_be_lower_case() -> None:
    assert not image_ref.is_valid("Pengbai/mario")
    assert image_ref.is_valid("Registry.Example.com/pengbai/mario")


def test_weekly_hours_read_back_from_the_crons() -> None:
    schedule = parse_schedule("MON-FRI 08:00-20:30 Europe/Paris")
    hours = weekly_hours_from_crons(schedule.scale_up_cron, schedule.scale_down_cron)
    assert hours == schedule.hours_per_week() == 62.5
    with pytest.raises(ValueError, match="office-hours crons"):
        weekly_hours_from_crons("cron(0 8 ? * MON-FRI *)", "rate(1 hour)")
