"""HTTPS, alarms, the office-hours schedule, the image cache, access and flow logs.

Each feature is checked on both stacks, on and off; the "on" runs apply overrides to the real
stack files, so the rest of each stack is as configured.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.parts.https import TLS_POLICY
from offline.harness import Resource, Run, Secret, run_program

from .conftest import STACKS, recorded, settings_of

DOMAIN = "mario.example.com"
LISTENER = "aws:lb/listener:Listener"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOKEN = "dckr_pat_not_a_real_token"


def alarm(run: Run, suffix: str) -> Resource:
    return run.named(f"mario-{suffix}", ALARM)


@pytest.fixture(params=STACKS)
def https_run(request: pytest.FixtureRequest) -> Run:
    return run_program(request.param, {"domain": DOMAIN})


# --- HTTPS ---------------------------------------------------------------------------------------


def test_https_certificate_is_dns_validated_in_the_parent_zone(https_run: Run) -> None:
    cert = https_run.one("aws:acm/certificate:Certificate")
    assert cert["domainName"] == DOMAIN and cert["validationMethod"] == "DNS"
    record = https_run.named("mario-cert-validation", "aws:route53/record:Record")
    option = cert.outputs["domainValidationOptions"][0]
    assert record["name"] == option["resourceRecordName"]
    assert record["records"] == [option["resourceRecordValue"]]
    assert record["type"] == "CNAME"
    # Looked up from the parent domain, example.com.
    assert record["zoneId"] == "<zone example.com.zoneId>"
    validation = https_run.one("aws:acm/certificateValidation:CertificateValidation")
    assert validation["certificateArn"] == cert.outputs["arn"]
    assert validation["validationRecordFqdns"] == [record.outputs["fqdn"]]


def test_https_listener_and_redirect(https_run: Run) -> None:
    alb = https_run.one("aws:lb/loadBalancer:LoadBalancer")
    tg = https_run.one("aws:lb/targetGroup:TargetGroup")
    secure = https_run.named("mario-https", LISTENER)
    assert (secure["port"], secure["protocol"], secure["sslPolicy"]) == (443, "HTTPS", TLS_POLICY)
    assert "TLS13" in secure["sslPolicy"]
    validation = https_run.one("aws:acm/certificateValidation:CertificateValidation")
    assert secure["certificateArn"] == validation.outputs["certificateArn"]
    assert secure["defaultActions"] == [{"type": "forward", "targetGroupArn": tg.outputs["arn"]}]
    assert secure["loadBalancerArn"] == alb.outputs["arn"]
    http = https_run.named("mario-http", LISTENER)
    assert http["port"] == 80
    assert http["defaultActions"] == [
        {
            "type": "redirect",
            "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
        }
    ]
    service = https_run.one("aws:ecs/service:Service")
    assert {secure.urn, http.urn} <= set(service.dependencies)


def test_https_alias_security_group_and_url(https_run: Run) -> None:
    alb = https_run.one("aws:lb/loadBalancer:LoadBalancer")
    alias = https_run.named("mario-alias", "aws:route53/record:Record")
    assert (alias["name"], alias["type"]) == (DOMAIN, "A")
    assert alias["aliases"] == [
        {
            "name": alb.outputs["dnsName"],
            "zoneId": alb.outputs["zoneId"],
            "evaluateTargetHealth": True,
        }
    ]
    alb_sg = https_run.named("mario-alb-sg", "aws:ec2/securityGroup:SecurityGroup")
    ports = sorted(
        r["fromPort"]
        for r in https_run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r["securityGroupId"] == alb_sg.outputs["id"]
    )
    assert ports == [80, 443]
    assert https_run.outputs["url"] == f"https://{DOMAIN}"


def test_configured_zone_is_used_as_is() -> None:
    run = run_program("prod", {"domain": "example.com", "hostedZoneId": "Z0123456789ABC"})
    assert run.named("mario-alias", "aws:route53/record:Record")["zoneId"] == "Z0123456789ABC"
    assert run.named("mario-cert-validation", "aws:route53/record:Record")["zoneId"] == (
        "Z0123456789ABC"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_without_domain_there_is_no_https(stack: str) -> None:
    run = recorded(stack)
    assert run.of_type("aws:acm/certificate:Certificate") == []
    assert run.of_type("aws:route53/record:Record") == []
    assert [listener["port"] for listener in run.of_type(LISTENER)] == [80]
    assert run.outputs["url"].startswith("http://")


# --- alarms --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_alarm_notifies_the_topic_and_is_quiet_without_data(stack: str) -> None:
    run = recorded(stack)
    topic = run.one("aws:sns/topic:Topic").outputs["arn"]
    alarms = run.of_type(ALARM)
    assert len(alarms) >= 3
    for a in alarms:
        assert a["alarmActions"] == [topic] and a["okActions"] == [topic], a.name
        if a.name != "mario-tasks-below-minimum":
            assert a["treatMissingData"] == "notBreaching", a.name
    assert run.of_type("aws:sns/topicSubscription:TopicSubscription") == []


@pytest.mark.parametrize("stack", STACKS)
def test_deployments_roll_back_on_player_facing_alarms(stack: str) -> None:
    run = recorded(stack)
    service = run.one("aws:ecs/service:Service")
    names = [
        alarm(run, "5xx-rate").outputs["name"],
        alarm(run, "unhealthy-targets").outputs["name"],
    ]
    assert service["alarms"] == {"alarmNames": names, "enable": True, "rollback": True}


def test_error_rate_and_unhealthy_alarms_watch_the_game_targets() -> None:
    run = recorded("prod")
    alb = run.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    tg = run.one("aws:lb/targetGroup:TargetGroup").outputs["arnSuffix"]
    rate = alarm(run, "5xx-rate")
    queries = {q["id"]: q for q in rate["metricQueries"]}
    assert queries["errors"]["metric"]["metricName"] == "HTTPCode_Target_5XX_Count"
    assert queries["requests"]["metric"]["dimensions"] == {"LoadBalancer": alb}
    assert queries["rate"]["returnData"] is True and "errors" in queries["rate"]["expression"]
    assert rate["threshold"] == 5 and rate["comparisonOperator"] == "GreaterThanThreshold"
    unhealthy = alarm(run, "unhealthy-targets")
    assert unhealthy["metricName"] == "UnHealthyHostCount"
    assert unhealthy["dimensions"] == {"LoadBalancer": alb, "TargetGroup": tg}
    cpu = alarm(run, "cpu-high")
    service = run.one("aws:ecs/service:Service").outputs["name"]
    assert cpu["dimensions"]["ServiceName"] == service and cpu["metricName"] == "CPUUtilization"


def test_prod_alarms_when_tasks_run_below_desired() -> None:
    run = recorded("prod")
    assert settings_of("prod").container_insights
    below = alarm(run, "tasks-below-desired")
    queries = {q["id"]: q for q in below["metricQueries"]}
    assert queries["running"]["metric"]["namespace"] == "ECS/ContainerInsights"
    assert queries["desired"]["metric"]["metricName"] == "DesiredTaskCount"
    assert queries["missing"]["expression"] == "desired - running"
    # Desired drops to 0 with a schedule, so the alarm cannot fire on a scheduled scale-in.
    assert below["threshold"] == 0


def test_dev_schedule_without_insights_has_no_task_count_alarm() -> None:
    # A scheduled scale-to-zero is indistinguishable from an outage without Container Insights.
    names = {a.name for a in recorded("dev").of_type(ALARM)}
    assert names == {"mario-5xx-rate", "mario-unhealthy-targets", "mario-cpu-high"}


def test_always_on_stack_without_insights_alarms_below_minimum() -> None:
    run = run_program("dev", {"schedule": "", "minCount": 1})
    below = alarm(run, "tasks-below-minimum")
    assert below["metricName"] == "HealthyHostCount" and below["threshold"] == 1
    assert below["comparisonOperator"] == "LessThanThreshold"
    assert below["treatMissingData"] == "breaching"


def test_alarm_email_subscribes_the_address() -> None:
    run = run_program("prod", {"alarmEmail": "ops@example.com"})
    sub = run.one("aws:sns/topicSubscription:TopicSubscription")
    assert (sub["protocol"], sub["endpoint"]) == ("email", "ops@example.com")
    assert sub["topic"] == run.one("aws:sns/topic:Topic").outputs["arn"]


# --- schedule ------------------------------------------------------------------------------------


def test_dev_scales_to_zero_outside_office_hours() -> None:
    run = recorded("dev")
    schedule = settings_of("dev").schedule
    assert schedule is not None
    target = run.one("aws:appautoscaling/target:Target")
    actions = {a.name: a for a in run.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")}
    assert set(actions) == {"mario-open", "mario-close"}
    for action in actions.values():
        assert action["resourceId"] == target["resourceId"]
        assert action["timezone"] == schedule.timezone == "Europe/Paris"
    assert actions["mario-open"]["schedule"] == "cron(0 8 ? * MON-FRI *)"
    assert actions["mario-close"]["schedule"] == "cron(0 20 ? * MON-FRI *)"
    assert actions["mario-close"]["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 0}
    settings = settings_of("dev")
    assert actions["mario-open"]["scalableTargetAction"] == {
        "minCapacity": settings.min_count,
        "maxCapacity": settings.max_count,
    }
    assert sorted(target.ignore_changes) == ["maxCapacity", "minCapacity"]


def test_prod_is_always_on() -> None:
    run = recorded("prod")
    assert run.of_type("aws:appautoscaling/scheduledAction:ScheduledAction") == []
    assert run.one("aws:appautoscaling/target:Target").ignore_changes == []


# --- image source --------------------------------------------------------------------------------


def cached_run(stack: str, **overrides: Any) -> Run:
    return run_program(
        stack,
        {"imageSource": "ecrPullThroughCache", "dockerHubUsername": "marioteam", **overrides},
        secrets={"dockerHubAccessToken": TOKEN},
    )


@pytest.mark.parametrize("stack", STACKS)
def test_pull_through_cache_serves_the_task_image(stack: str) -> None:
    run = cached_run(stack)
    secret = run.one("aws:secretsmanager/secret:Secret")
    assert secret["namePrefix"].startswith("ecr-pullthroughcache/")
    version = run.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert version["secretId"] == secret.outputs["id"]
    assert isinstance(version["secretString"], Secret)  # stays encrypted in the state
    assert json.loads(version["secretString"].value) == {
        "username": "marioteam",
        "accessToken": TOKEN,
    }
    rule = run.one("aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    assert version.urn in rule.dependencies  # ECR reads the credentials when creating the rule
    assert rule["upstreamRegistryUrl"] == "registry-1.docker.io"
    assert rule["credentialArn"] == secret.outputs["arn"]
    assert rule["ecrRepositoryPrefix"] == f"dockerhub-{stack}"
    container = json.loads(run.one("aws:ecs/taskDefinition:TaskDefinition")["containerDefinitions"])
    assert container[0]["image"] == (
        f"<account.id>.dkr.ecr.us-east-1.amazonaws.com/dockerhub-{stack}/"
        "pengbai/docker-supermario:latest"
    )


def test_execution_role_gets_exactly_the_cache_permissions() -> None:
    run = cached_run("prod")
    role = run.named("mario-execution", "aws:iam/role:Role")
    (extra,) = [
        p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p["role"] == role.outputs["id"]
    ]
    assert json.loads(extra["policy"])["Statement"] == [
        {
            "Sid": "FillPullThroughCache",
            "Effect": "Allow",
            "Action": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
            "Resource": "arn:aws:ecr:us-east-1:<account.id>:repository/dockerhub-prod/*",
        }
    ]
    assert extra.urn in run.one("aws:ecs/service:Service").dependencies


def test_digest_pinned_image_through_the_cache() -> None:
    digest = "sha256:" + "b" * 64
    run = cached_run("dev", image=f"pengbai/docker-supermario@{digest}")
    container = json.loads(run.one("aws:ecs/taskDefinition:TaskDefinition")["containerDefinitions"])
    assert container[0]["image"].endswith(f"/dockerhub-dev/pengbai/docker-supermario@{digest}")


@pytest.mark.parametrize("stack", STACKS)
def test_docker_hub_source_creates_no_cache(stack: str) -> None:
    run = recorded(stack)
    assert run.of_type("aws:ecr/pullThroughCacheRule:PullThroughCacheRule") == []
    assert run.of_type("aws:secretsmanager/secret:Secret") == []


# --- access logs and flow logs -------------------------------------------------------------------


def test_prod_writes_alb_access_logs_to_a_locked_down_bucket() -> None:
    run = recorded("prod")
    assert settings_of("prod").alb_access_logs
    bucket = run.one("aws:s3/bucket:Bucket")
    block = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert block["bucket"] == bucket.outputs["id"]
    assert all(
        block[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    sse = run.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    lifecycle = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle["rules"][0]["status"] == "Enabled"
    assert lifecycle["rules"][0]["expiration"]["days"] > 0
    policy = run.one("aws:s3/bucketPolicy:BucketPolicy")
    statements = json.loads(policy["policy"])["Statement"]
    assert statements[0]["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}  # us-east-1
    assert statements[0]["Action"] == "s3:PutObject"
    assert statements[1]["Effect"] == "Deny"  # no plain-HTTP access
    alb = run.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb["accessLogs"] == {"bucket": bucket.outputs["id"], "prefix": "alb", "enabled": True}
    assert policy.urn in alb.dependencies
    # With deletion protection on, a destroy cannot silently empty the log bucket either.
    assert bucket["forceDestroy"] is False


def test_prod_sends_vpc_flow_logs_to_cloudwatch() -> None:
    run = recorded("prod")
    flow = run.one("aws:ec2/flowLog:FlowLog")
    logs = run.named("mario-flow-logs", "aws:cloudwatch/logGroup:LogGroup")
    role = run.named("mario-flow-logs", "aws:iam/role:Role")
    assert flow["vpcId"] == run.one("awsx:ec2:Vpc").outputs["vpcId"]
    assert flow["trafficType"] == "ALL"
    assert flow["logDestinationType"] == "cloud-watch-logs"
    assert flow["logDestination"] == logs.outputs["arn"]
    assert flow["iamRoleArn"] == role.outputs["arn"]
    assert logs["retentionInDays"] == settings_of("prod").log_retention_days
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    policy = run.named("mario-flow-logs", "aws:iam/rolePolicy:RolePolicy")
    assert policy.urn in flow.dependencies  # delivery starts at once
    write, describe = json.loads(policy["policy"])["Statement"]
    assert write["Resource"] == [logs.outputs["arn"], logs.outputs["arn"] + ":*"]
    assert "logs:PutLogEvents" in write["Action"]
    assert describe == {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"}


def test_dev_has_neither_access_nor_flow_logs() -> None:
    run = recorded("dev")
    assert run.of_type("aws:s3/bucket:Bucket") == []
    assert run.of_type("aws:ec2/flowLog:FlowLog") == []
    assert "accessLogs" not in run.one("aws:lb/loadBalancer:LoadBalancer")
