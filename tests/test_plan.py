"""The offline plan end to end: the real program and stack files, run through ``main``.

Expected values come from the stack files (read here with yaml), from the component constants
and from an independent ``run_program`` call, never from the plan's own helpers.
"""

from __future__ import annotations

import copy
import io
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components import game_service
from components.schedule import parse_schedule
from offline import plan, prices
from offline.harness import REPO, Resource, Run, is_placeholder, run_program

STACKS = ("dev", "prod")
DEPLOY_TIME = "(assigned by AWS at deploy time)"


def run_main(
    *argv: str, overrides: dict[str, dict[str, Any]] | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = plan.main(list(argv), config_overrides=overrides, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# Each stack is planned once per session: the suite stays fast and every test reads the same run.
@cache
def text_of(stack: str) -> str:
    code, out, err = run_main("--stack", stack)
    assert code == 0, err
    assert err == ""
    return out


@cache
def json_of(stack: str) -> dict[str, Any]:
    code, out, err = run_main("--stack", stack, "--json", "-")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


@cache
def stack_file(stack: str) -> dict[str, Any]:
    """Project defaults overlaid with the stack file, keys without the namespace."""
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    values = {k: spec["default"] for k, spec in project["config"].items()}
    config = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
    values.update({k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("mario-")})
    return values


def section(text: str, title: str) -> list[str]:
    """Lines of one top-level section of the text plan (from its title to the blank line)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    found = lines[start + 1 : end]
    assert found, f"section {title!r} is empty"
    return found


def settings_shown(text: str) -> dict[tuple[str, str], list[str]]:
    """(section title, key) -> the value's lines, parsed from the text plan's Settings."""
    table: dict[tuple[str, str], list[str]] = {}
    title = key = ""
    for line in section(text, "Settings"):
        if re.match(r"^  \S", line):
            title = line.strip()
            continue
        match = re.match(r"^    (\S+)\s+(.*)$", line)
        if match:
            key = match.group(1)
            table[(title, key)] = [match.group(2)]
        else:  # a long list continues on the next lines
            table[(title, key)].append(line.strip())
    return table


def setting(text: str, key: str, title: str | None = None) -> str:
    """The value shown for a settings key; ``title`` picks the section when a key repeats."""
    found = [
        lines
        for (shown_title, shown_key), lines in settings_shown(text).items()
        if shown_key == key and title in (None, shown_title)
    ]
    assert len(found) == 1, f"setting {key!r} shown {len(found)} times"
    return "\n".join(found[0])


def money(value: float) -> str:
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


@pytest.mark.parametrize("stack", STACKS)
def test_plan_shows_the_task_settings_from_the_stack_file(stack: str) -> None:
    text, config = text_of(stack), stack_file(stack)
    assert setting(text, "cpu").split()[0] == str(config["cpu"])
    assert setting(text, "memory").split()[0] == str(config["memory"])
    assert setting(text, "desiredCount") == str(config["desiredCount"])
    assert setting(text, "minCount") == str(config["minCount"])
    assert setting(text, "maxCount") == str(config["maxCount"])
    assert setting(text, "logRetentionDays").split()[0] == str(config["logRetentionDays"])
    assert setting(text, "containerInsights") == str(config["containerInsights"]).lower()
    assert setting(text, "deletionProtection") == str(config["deletionProtection"]).lower()
    assert setting(text, "image") == config["image"]
    expected = "Spot (FARGATE_SPOT" if config["spot"] else "on-demand (FARGATE"
    assert setting(text, "capacity").startswith(expected)


@pytest.mark.parametrize("stack", STACKS)
def test_plan_shows_network_settings_from_the_stack_file(stack: str) -> None:
    text, config = text_of(stack), stack_file(stack)
    azs = config["availabilityZones"]
    nat = {"none": ("None", 0), "single": ("Single", 1), "perAz": ("OnePerAz", azs)}
    strategy, gateways = nat[config["natGateways"]]
    assert setting(text, "availabilityZones", "Network") == str(azs)
    assert setting(text, "availabilityZones", "Load balancer") == str(azs)
    assert setting(text, "natStrategy") == strategy
    assert setting(text, "natGateways") == str(gateways)
    public = config["natGateways"] == "none"
    assert setting(text, "subnets") == ("public" if public else "private")
    assert setting(text, "assignPublicIp") == str(public).lower()
    assert len(setting(text, "publicSubnets").split(", ")) == azs
    private = setting(text, "privateSubnets")
    assert private == "none" if public else len(private.split(", ")) == azs


@pytest.mark.parametrize("stack", STACKS)
def test_plan_shows_the_load_balancer_as_the_component_declares_it(stack: str) -> None:
    text = text_of(stack)
    assert setting(text, "listeners") == "80/HTTP -> forward mario-tg"
    assert setting(text, "deregistrationDelay") == (
        f"{game_service.DEREGISTRATION_DELAY_SECONDS} s"
    )
    health = setting(text, "healthCheck")
    assert f"every {game_service.HEALTH_CHECK_INTERVAL_SECONDS} s" in health
    assert f"healthy {game_service.HEALTHY_THRESHOLD} " in health
    assert f"unhealthy {game_service.UNHEALTHY_THRESHOLD}," in health
    assert setting(text, "healthCheckGracePeriod") == (
        f"{game_service.HEALTH_CHECK_GRACE_SECONDS} s"
    )
    policies = "\n".join(section(text, "Settings"))
    assert "ECSServiceAverageCPUUtilization target 60" in policies
    assert "ALBRequestCountPerTarget target 1000" in policies


@pytest.mark.parametrize("stack", STACKS)
def test_plan_lists_every_resource_under_its_parent(stack: str) -> None:
    run = run_program(stack)
    lines = section(text_of(stack), "Resources")
    assert len(run.resources) > 10
    assert f"Resources ({len(run.resources)})" in text_of(stack)

    def depth(line: str) -> int:
        return (len(line) - len(line.lstrip())) // 2

    rows: list[tuple[int, str, str]] = []
    for line in lines:
        type_, name = line.split()
        rows.append((depth(line), type_, name))
    by_urn = {r.urn: r for r in run.resources}
    for resource in run.resources:
        matches = [i for i, row in enumerate(rows) if row[1:] == (resource.type, resource.name)]
        assert len(matches) == 1, f"{resource.urn} shown {len(matches)} times"
        index = matches[0]
        parent = by_urn.get(resource.parent)
        if parent is None:
            assert rows[index][0] == 1, f"{resource.urn} should be at the top level"
            continue
        # The nearest line above with a smaller indent is the parent's.
        above = next(row for row in reversed(rows[:index]) if row[0] < rows[index][0])
        assert above[1:] == (parent.type, parent.name), resource.urn


def test_resource_tree_is_the_same_on_every_run() -> None:
    first = section(text_of("prod"), "Resources")
    code, again, _ = run_main("--stack", "prod")
    assert code == 0
    assert section(again, "Resources") == first


@pytest.mark.parametrize("stack", STACKS)
def test_plan_shows_the_outputs_and_marks_deploy_time_values(stack: str) -> None:
    outputs = run_program(stack).outputs
    assert outputs["url"] == "http://<mario-alb.dnsName>"
    lines = section(text_of(stack), "Outputs")
    assert len(lines) == len(outputs)
    for key, value in outputs.items():
        line = next(line for line in lines if line.split()[0] == key)
        assert line.split()[1] == value
        assert line.endswith(DEPLOY_TIME) == is_placeholder(value)


@pytest.mark.parametrize("stack", STACKS)
def test_plan_shows_cost_lines_total_and_assumptions(stack: str) -> None:
    text, data = text_of(stack), json_of(stack)["cost"]
    assert "us-east-1 list prices, estimates only" in text
    assert f"prices as of {data['priceDate']}" in text
    modeled = [i["monthlyUsd"] for i in data["items"] if i["monthlyUsd"] is not None]
    assert data["totalUsd"] == pytest.approx(sum(modeled), abs=0.02)
    total_line = next(line for line in text.splitlines() if "Total per month" in line)
    assert total_line.split()[-1] == money(data["totalUsd"])
    assert "Assumptions:" in text
    assert "Spot discount: 70% off on-demand (assumed" in text
    assert "1 LCU" in text


@pytest.mark.parametrize("stack", STACKS)
def test_fargate_and_nat_cost_follow_the_stack_file(stack: str) -> None:
    config = stack_file(stack)
    items = {i["key"]: i["monthlyUsd"] for i in json_of(stack)["cost"]["items"]}
    tasks, vcpu, gb = config["desiredCount"], config["cpu"] / 1024, config["memory"] / 1024
    # Tasks run only in the schedule's office hours, if the stack has one.
    schedule = config["schedule"]
    hours = 730 * (parse_schedule(schedule).hours_per_week() / 168 if schedule else 1)
    assert items["fargate_vcpu"] == pytest.approx(tasks * vcpu * hours * 0.04048, abs=0.01)
    assert items["fargate_memory"] == pytest.approx(tasks * gb * hours * 0.004445, abs=0.01)
    on_demand = tasks * (vcpu * hours * 0.04048 + gb * hours * 0.004445)
    discount = -0.70 * on_demand if config["spot"] else 0.0
    assert items["fargate_spot_discount"] == pytest.approx(discount, abs=0.01)
    gateways = {"none": 0, "single": 1, "perAz": config["availabilityZones"]}
    nat = gateways[config["natGateways"]]
    assert items["nat_hours"] == pytest.approx(nat * 730 * 0.045, abs=0.01)
    public = config["natGateways"] == "none"
    assert items["task_ipv4"] == pytest.approx(tasks * hours * 0.005 if public else 0, abs=0.01)
    assert items["alb_ipv4"] == pytest.approx(config["availabilityZones"] * 730 * 0.005, abs=0.01)
    insights = items["container_insights"]
    assert insights is None if config["containerInsights"] else insights == 0


def test_dev_stays_within_its_budget() -> None:
    # The ceiling for the cheapest stack.
    assert 0 < json_of("dev")["cost"]["totalUsd"] <= 40
    assert json_of("prod")["cost"]["totalUsd"] > json_of("dev")["cost"]["totalUsd"]


@pytest.mark.parametrize("stack", STACKS)
def test_json_agrees_with_the_text(stack: str) -> None:
    text, data = text_of(stack), json_of(stack)
    assert data["stack"] == stack
    shown = settings_shown(text)
    expected: dict[tuple[str, str], list[str]] = {}
    for section_id, values in data["settings"].items():
        for key, value in values.items():
            one_line = plan.format_value(value) + plan.UNITS.get(key, "")
            long = isinstance(value, list) and len(plan.format_value(value)) > 60
            lines = list(value) if long else [one_line]
            expected[(plan.SECTION_TITLES[section_id], key)] = lines
    assert len(expected) > 20
    assert shown == expected
    for key, output in data["outputs"].items():
        assert any(line.split()[:2] == [key, output["value"]] for line in section(text, "Outputs"))
    cost_lines = section(text, "Modeled monthly cost")
    for item in data["cost"]["items"]:
        line = next(line for line in cost_lines if line.strip().startswith(item["label"]))
        amount = "not modeled" if item["monthlyUsd"] is None else money(item["monthlyUsd"])
        assert line.endswith(amount), line
        assert item["basis"] in line


def test_json_file_and_text_together(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    code, out, err = run_main("--stack", "dev", "--json", str(target))
    assert (code, err) == (0, "")
    assert out == text_of("dev")
    assert json.loads(target.read_text()) == json_of("dev")


def test_diff_shows_spot_and_nat_differences() -> None:
    code, out, err = run_main("--stack", "dev", "--diff", "prod")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    capacity = next(i for i, line in enumerate(lines) if line.strip().startswith("task.capacity"))
    assert "dev:" in lines[capacity] and "Spot (FARGATE_SPOT" in lines[capacity]
    assert "prod:" in lines[capacity + 1] and "on-demand (FARGATE" in lines[capacity + 1]
    gateways = next(i for i, line in enumerate(lines) if "network.natGateways" in line)
    assert lines[gateways].split()[-1] == "0"
    assert lines[gateways + 1].split()[-1] == "2"
    nat_row = next(line for line in lines if line.strip().startswith("NAT gateway hours"))
    assert nat_row.split()[-3:] == ["$0.00", "$65.70", "+$65.70"]
    dev_total, prod_total = (json_of(s)["cost"]["totalUsd"] for s in ("dev", "prod"))
    total_row = next(line for line in lines if line.strip().startswith("Total per month"))
    assert total_row.split()[-3:-1] == [money(dev_total), money(prod_total)]
    # Settings that are equal are not listed.
    assert "loadBalancer.listeners" not in out


def test_diff_json_agrees() -> None:
    code, out, _ = run_main("--stack", "dev", "--diff", "prod", "--json", "-")
    assert code == 0
    diff = json.loads(out)
    assert (diff["left"], diff["right"]) == ("dev", "prod")
    settings = {s["setting"]: (s["left"], s["right"]) for s in diff["settings"]}
    assert settings["network.natGateways"] == (0, 2)
    assert settings["task.assignPublicIp"] == (True, False)
    dev_total, prod_total = (json_of(s)["cost"]["totalUsd"] for s in ("dev", "prod"))
    total = diff["cost"]["total"]
    assert (total["left"], total["right"]) == (dev_total, prod_total)
    assert total["deltaUsd"] == pytest.approx(prod_total - dev_total, abs=0.001)
    assert "nat_hours" in {i["key"] for i in diff["cost"]["items"]}
    # By type and name, as an independent pair of runs sees them. NAT gateways live inside the
    # awsx VPC (one registration under mocks), so they show as settings and cost, not resources.
    dev, prod = ({(r.type, r.name) for r in run_program(s).resources} for s in ("dev", "prod"))
    shown = {
        side: {(r["type"], r["name"]) for r in diff["resources"][side]}
        for side in ("onlyInLeft", "onlyInRight")
    }
    assert shown == {"onlyInLeft": dev - prod, "onlyInRight": prod - dev}
    assert not any("natGateway" in t for t, _ in shown["onlyInRight"])


def test_diff_lists_resources_present_in_one_stack_only() -> None:
    left = json_of("dev")
    right = copy.deepcopy(json_of("prod"))
    extra = {"type": "aws:ec2/natGateway:NatGateway", "name": "mario-nat-1", "children": []}
    right["resources"][0]["children"].append(extra)
    removed = right["resources"].pop()  # the last top-level node and everything under it
    diff = plan.diff_of(left, right)
    assert {"type": extra["type"], "name": extra["name"]} in diff["resources"]["onlyInRight"]
    assert {"type": removed["type"], "name": removed["name"]} in diff["resources"]["onlyInLeft"]
    # Present in both: never listed.
    assert {"type": "aws:lb/loadBalancer:LoadBalancer", "name": "mario-alb"} not in (
        diff["resources"]["onlyInLeft"] + diff["resources"]["onlyInRight"]
    )
    text = plan.render_diff(diff)
    block = text.split("Resources only in 'prod':")[1].split("Monthly cost")[0]
    assert [extra["type"], extra["name"]] in [line.split() for line in block.splitlines()]
    block = text.split("Resources only in 'dev':")[1].split("Resources only in")[0]
    assert [removed["type"], removed["name"]] in [line.split() for line in block.splitlines()]


def test_bad_config_prints_only_the_programs_message_and_exits_2() -> None:
    bad = {"cpu": 300, "logRetentionDays": 8}
    with pytest.raises(pulumi.RunError) as raised:
        run_program("prod", bad)
    message = str(raised.value)
    assert "cpu" in message and "logRetentionDays" in message
    code, out, err = run_main("--stack", "prod", overrides={"prod": bad})
    assert code == 2
    assert out == ""
    assert err == message + "\n"


def test_bad_config_of_the_diff_stack_prints_nothing_else() -> None:
    code, out, err = run_main("--diff", "prod", overrides={"prod": {"natGateways": "many"}})
    assert code == 2
    assert out == ""
    assert err.startswith("Invalid configuration for stack 'prod'")
    assert "natGateways" in err


@pytest.mark.parametrize("argv", [("--stack", "staging"), ("--stack", "dev", "--diff", "qa")])
def test_unknown_stack_is_one_line_and_exit_2(argv: tuple[str, ...]) -> None:
    code, out, err = run_main(*argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: unknown stack") and "dev, prod" in err


@pytest.mark.parametrize("stack", STACKS)
def test_what_the_cost_leaves_out_is_named(stack: str) -> None:
    text, config = text_of(stack), stack_file(stack)
    lines = text.split("Not modeled (not in the total):")[1].split("Assumptions:")[0]
    assert "- Data transfer out to the internet" in lines
    assert ("- Container Insights" in lines) == config["containerInsights"]
    declared = {r.type for r in run_program(stack).resources}
    for prefix, label in plan.NOT_MODELED_TYPES:
        present = any(t.startswith(prefix) for t in declared)
        assert (label in lines) == present, label


def resource(type_: str, name: str, **inputs: Any) -> Resource:
    urn = f"urn:pulumi:t::p::{type_}::{name}"
    outputs = {"arn": f"<{name}.arn>", "id": f"<{name}.id>"}
    return Resource(urn, type_, name, inputs, outputs, "", "", {}, [], [], True)


def test_billable_resources_without_a_price_are_counted() -> None:
    resources = [
        resource("aws:route53/record:Record", "a"),
        resource("aws:route53/record:Record", "b"),
        resource("aws:sns/topic:Topic", "alarms"),
        resource("aws:iam/role:Role", "free"),
    ]
    assert plan.not_modeled_resources(resources) == [
        "Route 53 queries (alias queries to an ALB are free) (2 declared)",
        "SNS notifications (e-mail is free for the first 1,000 a month) (1 declared)",
    ]
    assert plan.not_modeled_resources(resources[3:]) == []


def test_listener_actions_are_described() -> None:
    tg = resource("aws:lb/targetGroup:TargetGroup", "web-tg")
    https = resource(
        "aws:lb/listener:Listener",
        "https",
        port=443.0,
        protocol="HTTPS",
        defaultActions=[{"type": "forward", "targetGroupArn": "<web-tg.arn>"}],
    )
    http = resource(
        "aws:lb/listener:Listener",
        "http",
        port=80.0,
        protocol="HTTP",
        defaultActions=[{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443"}}],
    )
    run = Run(stack="t", config={}, resources=[tg, https, http], outputs={})
    assert plan._listener(run, https) == "443/HTTPS -> forward web-tg"
    assert plan._listener(run, http) == "80/HTTP -> redirect HTTPS:443"


def test_plan_shows_https_alarm_mail_and_their_cost() -> None:
    overrides = {"prod": {"domain": "mario.example.com", "alarmEmail": "ops@example.com"}}
    code, out, err = run_main("--stack", "prod", "--json", "-", overrides=overrides)
    assert code == 0, err
    data = json.loads(out)
    balancer = data["settings"]["loadBalancer"]
    assert balancer["certificate"] == "mario.example.com"
    assert balancer["listeners"] == [
        "443/HTTPS -> forward mario-tg",
        "80/HTTP -> redirect HTTPS:443",
    ]
    assert data["settings"]["observability"]["alarmEmail"] == "ops@example.com"
    assert data["outputs"]["url"] == {
        "value": "https://mario.example.com",
        "assignedAtDeploy": False,
    }
    items = {i["key"]: i for i in data["cost"]["items"]}
    assert items["certificate"]["monthlyUsd"] == 0 and "free" in items["certificate"]["basis"]
    assert ("aws:acm/certificate:Certificate", "mario-cert") in plan._flat_resources(
        data["resources"]
    )


def test_plan_shows_the_dev_schedule_and_hardening_lines() -> None:
    data = json_of("dev")
    assert "cron(0 8 ? * MON-FRI *)" in data["settings"]["autoscaling"]["schedule"]
    assert "Europe/Paris" in data["settings"]["autoscaling"]["schedule"]
    prod = json_of("prod")
    assert prod["settings"]["autoscaling"]["schedule"] == "always on"
    assert prod["settings"]["network"]["flowLogs"] == "on"
    assert prod["settings"]["loadBalancer"]["accessLogs"] == "on"
    prod_items = {i["key"]: i["monthlyUsd"] for i in prod["cost"]["items"]}
    assert prod_items["flow_logs"] > 0 and prod_items["alb_access_logs"] > 0
    assert prod_items["alarms"] == pytest.approx(0.60)  # 6 alarm metrics


@pytest.mark.parametrize("stack", STACKS)
def test_readme_quotes_each_stacks_modeled_total_and_price_date(stack: str) -> None:
    readme = (REPO / "README.md").read_text()
    costs = readme.split("## Environments, cost and trade-offs", 1)[1].split("\n## ", 1)[0]
    assert f"${json_of(stack)['cost']['totalUsd']:,.2f}" in costs
    assert f"read in {prices.PRICE_DATE}" in costs
