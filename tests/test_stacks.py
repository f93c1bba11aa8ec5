"""The deployment contract, asserted on the resource inputs each real stack declares.

Every test runs for every Pulumi.<stack>.yaml. Expected values come from the stack files (through
``settings``), so a wrong value there, or wiring that ignores it, fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import Settings
from components.game_service import CONTAINER_NAME
from offline.harness import Resource, Run, run_program

from .conftest import recorded, settings_of

AWS_PROVIDER = "pulumi:providers:aws"
COMPONENTS = ("mario:infra:Network", "mario:infra:Cluster", "mario:infra:GameService")
NAT_STRATEGY = {"none": "None", "single": "Single", "perAz": "OnePerAz"}


def vpc(run: Run) -> Resource:
    return run.one("awsx:ec2:Vpc")


def sg(run: Run, suffix: str) -> Resource:
    return run.named(f"mario-{suffix}", "aws:ec2/securityGroup:SecurityGroup")


def rules(run: Run, kind: str, group: Resource) -> list[Resource]:
    type_ = f"aws:vpc/securityGroup{kind}Rule:SecurityGroup{kind}Rule"
    return [r for r in run.of_type(type_) if r["securityGroupId"] == group.outputs["id"]]


def container(run: Run) -> dict[str, Any]:
    definitions = json.loads(
        run.one("aws:ecs/taskDefinition:TaskDefinition")["containerDefinitions"]
    )
    assert len(definitions) == 1
    return dict(definitions[0])


# --- provider, tags, component structure -------------------------------------------------------


def test_one_tagging_provider_in_the_stack_region(run: Run, settings: Settings) -> None:
    provider = run.one(AWS_PROVIDER)
    assert provider["region"] == settings.region == run.config["aws:region"]
    # Providers receive nested inputs JSON-encoded.
    assert json.loads(provider["defaultTags"])["tags"] == {
        "Project": "mario-fargate",
        "Environment": run.stack,
        "ManagedBy": "pulumi",
    }


def test_every_aws_resource_uses_the_tagging_provider(run: Run) -> None:
    provider = run.one(AWS_PROVIDER)
    aws_resources = [r for r in run.resources if r.type.startswith("aws:")]
    assert len(aws_resources) > 15
    for r in aws_resources:
        assert r.provider.startswith(provider.urn + "::"), r.urn
    # awsx builds its children remotely; it must be handed the same provider.
    assert vpc(run).providers["aws"].startswith(provider.urn + "::")


def test_components_parent_every_resource_and_register_outputs(run: Run) -> None:
    components = {c: run.one(c) for c in COMPONENTS}
    component_urns = {c.urn for c in components.values()}
    for r in run.resources:
        if r.type == AWS_PROVIDER or r.type in COMPONENTS:
            continue
        assert r.parent in component_urns, r.urn
        assert r.name.startswith("mario-"), r.name  # child names derive from the component name
    assert set(run.component_outputs[components["mario:infra:Network"].urn]) == {
        "vpcId",
        "publicSubnetIds",
        "privateSubnetIds",
    }
    assert set(run.component_outputs[components["mario:infra:Cluster"].urn]) == {"name", "arn"}
    assert set(run.component_outputs[components["mario:infra:GameService"].urn]) == {
        "url",
        "albDnsName",
        "serviceName",
        "logGroupName",
        "alarmTopicArn",
    }


def test_stacks_differ_only_by_configuration() -> None:
    # With the optional features set alike, both stacks declare exactly the same resources.
    alike = {
        "albAccessLogs": False,
        "vpcFlowLogs": False,
        "schedule": "",
        "containerInsights": False,
    }
    shapes = {}
    for stack in ("dev", "prod"):
        shapes[stack] = sorted((r.type, r.name) for r in run_program(stack, alike).resources)
    assert shapes["dev"] == shapes["prod"]
    assert len(shapes["dev"]) > 25


# --- network -----------------------------------------------------------------------------------


def test_vpc_gets_the_configured_zones_range_and_nat(run: Run, settings: Settings) -> None:
    v = vpc(run)
    assert v["cidrBlock"] == settings.vpc_cidr
    assert v["numberOfAvailabilityZones"] == settings.availability_zones
    assert v["natGateways"] == {"strategy": NAT_STRATEGY[settings.nat_gateways]}
    assert v["subnetStrategy"] == "Auto"
    specs = {s["type"]: s["cidrBlocks"] for s in v["subnetSpecs"]}
    assert specs["Public"] == list(settings.subnets.public)
    assert len(specs["Public"]) == settings.availability_zones
    if settings.nat_gateways == "none":
        assert "Private" not in specs
    else:
        assert specs["Private"] == list(settings.subnets.private)


# --- cluster -----------------------------------------------------------------------------------


def test_cluster_insights_and_capacity_providers(run: Run, settings: Settings) -> None:
    cluster = run.one("aws:ecs/cluster:Cluster")
    expected = "enabled" if settings.container_insights else "disabled"
    assert cluster["settings"] == [{"name": "containerInsights", "value": expected}]
    capacity = run.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert capacity["clusterName"] == cluster.outputs["name"]
    assert sorted(capacity["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]


# --- load balancer -----------------------------------------------------------------------------


def test_alb_is_public_in_the_public_subnets(run: Run, settings: Settings) -> None:
    alb = run.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb["loadBalancerType"] == "application"
    assert alb["internal"] is False
    assert alb["subnets"] == vpc(run).outputs["publicSubnetIds"]
    assert len(alb["subnets"]) >= 2
    assert alb["securityGroups"] == [sg(run, "alb-sg").outputs["id"]]
    assert alb["dropInvalidHeaderFields"] is True
    assert alb["enableDeletionProtection"] is settings.deletion_protection


def test_target_group_and_health_check(run: Run, settings: Settings) -> None:
    tg = run.one("aws:lb/targetGroup:TargetGroup")
    assert tg["targetType"] == "ip"
    assert tg["port"] == settings.container_port
    assert tg["protocol"] == "HTTP"
    assert tg["vpcId"] == vpc(run).outputs["vpcId"]
    assert 0 <= tg["deregistrationDelay"] <= 30
    check = tg["healthCheck"]
    assert check["path"] == "/" and check["matcher"] == "200" and check["enabled"] is True
    # A new task turns healthy after healthyThreshold checks `interval` apart: about 20 s.
    assert check["interval"] * check["healthyThreshold"] <= 20
    assert check["timeout"] < check["interval"]


def test_listener_forwards_port_80_to_the_target_group(run: Run) -> None:
    listener = run.one("aws:lb/listener:Listener")
    assert listener["port"] == 80 and listener["protocol"] == "HTTP"
    assert listener["loadBalancerArn"] == run.one("aws:lb/loadBalancer:LoadBalancer").outputs["arn"]
    tg_arn = run.one("aws:lb/targetGroup:TargetGroup").outputs["arn"]
    assert listener["defaultActions"] == [{"type": "forward", "targetGroupArn": tg_arn}]


def test_security_groups_admit_only_what_is_needed(run: Run, settings: Settings) -> None:
    alb_sg, task_sg = sg(run, "alb-sg"), sg(run, "task-sg")
    vpc_id = vpc(run).outputs["vpcId"]
    assert alb_sg["vpcId"] == vpc_id and task_sg["vpcId"] == vpc_id
    port = settings.container_port

    (alb_in,) = rules(run, "Ingress", alb_sg)
    assert (alb_in["fromPort"], alb_in["toPort"], alb_in["cidrIpv4"]) == (80, 80, "0.0.0.0/0")
    (alb_out,) = rules(run, "Egress", alb_sg)
    assert (alb_out["fromPort"], alb_out["toPort"]) == (port, port)
    assert alb_out["referencedSecurityGroupId"] == task_sg.outputs["id"]

    (task_in,) = rules(run, "Ingress", task_sg)
    assert (task_in["fromPort"], task_in["toPort"], task_in["ipProtocol"]) == (port, port, "tcp")
    assert task_in["referencedSecurityGroupId"] == alb_sg.outputs["id"]
    assert "cidrIpv4" not in task_in and "cidrIpv6" not in task_in
    (task_out,) = rules(run, "Egress", task_sg)
    assert (task_out["fromPort"], task_out["toPort"]) == (443, 443)


# --- logs, role, task ----------------------------------------------------------------------------


def test_log_group_retention(run: Run, settings: Settings) -> None:
    logs = run.named("mario-logs", "aws:cloudwatch/logGroup:LogGroup")
    assert logs["retentionInDays"] == settings.log_retention_days


def test_execution_role_trusts_ecs_tasks_with_the_managed_policy_only(run: Run) -> None:
    role = run.named("mario-execution", "aws:iam/role:Role")
    trust = json.loads(role["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    attachment = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment["role"] == role.outputs["name"]
    assert attachment["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    )
    # No inline policy on the execution role unless an image cache needs one (see test_hardening).
    inline = [
        p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p["role"] == role.outputs["id"]
    ]
    assert inline == []


def test_task_definition(run: Run, settings: Settings) -> None:
    task = run.one("aws:ecs/taskDefinition:TaskDefinition")
    assert (task["cpu"], task["memory"]) == (str(settings.cpu), str(settings.memory))
    assert task["networkMode"] == "awsvpc"
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["runtimePlatform"] == {
        "operatingSystemFamily": "LINUX",
        "cpuArchitecture": "X86_64",
    }
    assert (
        task["executionRoleArn"] == run.named("mario-execution", "aws:iam/role:Role").outputs["arn"]
    )
    assert "taskRoleArn" not in task  # the game calls no AWS API
    assert task["family"] == f"mario-{run.stack}"


def test_container_definition(run: Run, settings: Settings) -> None:
    c = container(run)
    assert c["name"] == CONTAINER_NAME
    assert c["image"] == settings.image
    assert c["essential"] is True and c["privileged"] is False
    assert c["portMappings"] == [
        {
            "containerPort": settings.container_port,
            "hostPort": settings.container_port,
            "protocol": "tcp",
        }
    ]
    log = c["logConfiguration"]
    assert log["logDriver"] == "awslogs"
    assert log["options"] == {
        "awslogs-group": run.named("mario-logs", "aws:cloudwatch/logGroup:LogGroup").outputs[
            "name"
        ],
        "awslogs-region": settings.region,
        "awslogs-stream-prefix": CONTAINER_NAME,
    }


# --- service -----------------------------------------------------------------------------------


def test_service_wiring(run: Run, settings: Settings) -> None:
    service = run.one("aws:ecs/service:Service")
    assert service["cluster"] == run.one("aws:ecs/cluster:Cluster").outputs["arn"]
    assert (
        service["taskDefinition"] == run.one("aws:ecs/taskDefinition:TaskDefinition").outputs["arn"]
    )
    assert service["desiredCount"] == settings.desired_count
    assert service["loadBalancers"] == [
        {
            "targetGroupArn": run.one("aws:lb/targetGroup:TargetGroup").outputs["arn"],
            "containerName": container(run)["name"],
            "containerPort": container(run)["portMappings"][0]["containerPort"],
        }
    ]
    assert service["networkConfiguration"]["securityGroups"] == [sg(run, "task-sg").outputs["id"]]
    assert service["platformVersion"] == "LATEST"


def test_service_capacity_follows_spot_setting(run: Run, settings: Settings) -> None:
    service = run.one("aws:ecs/service:Service")
    provider = "FARGATE_SPOT" if settings.spot else "FARGATE"
    assert service["capacityProviderStrategies"] == [{"capacityProvider": provider, "weight": 1}]
    assert "launchType" not in service  # a strategy and a launch type exclude each other


def test_service_subnets_and_public_ip_follow_nat(run: Run, settings: Settings) -> None:
    network = run.one("aws:ecs/service:Service")["networkConfiguration"]
    outputs = vpc(run).outputs
    if settings.nat_gateways == "none":
        assert network["subnets"] == outputs["publicSubnetIds"]
        assert network["assignPublicIp"] is True
    else:
        assert network["subnets"] == outputs["privateSubnetIds"]
        assert network["assignPublicIp"] is False
    assert len(network["subnets"]) == settings.availability_zones


def test_service_rollouts_are_safe(run: Run) -> None:
    service = run.one("aws:ecs/service:Service")
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    # A changed capacity strategy (spot on/off) is applied by ECS only with a new deployment.
    assert service["forceNewDeployment"] is True
    assert service["healthCheckGracePeriodSeconds"] >= 30
    assert service["deploymentMinimumHealthyPercent"] == 100
    assert service["deploymentMaximumPercent"] == 200
    assert service.ignore_changes == ["desiredCount"]
    listener = run.one("aws:lb/listener:Listener")
    policy = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert listener.urn in service.dependencies
    assert policy.urn in service.dependencies


def test_autoscaling_between_min_and_max(run: Run, settings: Settings) -> None:
    target = run.one("aws:appautoscaling/target:Target")
    cluster_name = run.one("aws:ecs/cluster:Cluster").outputs["name"]
    service_name = run.one("aws:ecs/service:Service").outputs["name"]
    assert target["resourceId"] == f"service/{cluster_name}/{service_name}"
    assert (target["minCapacity"], target["maxCapacity"]) == (
        settings.min_count,
        settings.max_count,
    )
    assert target["scalableDimension"] == "ecs:service:DesiredCount"
    assert target["serviceNamespace"] == "ecs"

    alb = run.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]
    tg = run.one("aws:lb/targetGroup:TargetGroup").outputs["arnSuffix"]
    metrics = {}
    for policy in run.of_type("aws:appautoscaling/policy:Policy"):
        assert policy["policyType"] == "TargetTrackingScaling"
        assert policy["resourceId"] == target["resourceId"]
        spec = policy["targetTrackingScalingPolicyConfiguration"]
        metric = spec["predefinedMetricSpecification"]
        metrics[metric["predefinedMetricType"]] = (spec["targetValue"], metric.get("resourceLabel"))
    assert set(metrics) == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
    assert metrics["ALBRequestCountPerTarget"][1] == f"{alb}/{tg}"
    assert 0 < metrics["ECSServiceAverageCPUUtilization"][0] < 100


# --- outputs -----------------------------------------------------------------------------------


def test_stack_outputs(run: Run) -> None:
    alb = run.one("aws:lb/loadBalancer:LoadBalancer")
    assert run.outputs == {
        "url": "http://" + alb.outputs["dnsName"],
        "albDnsName": alb.outputs["dnsName"],
        "clusterName": run.one("aws:ecs/cluster:Cluster").outputs["name"],
        "serviceName": run.one("aws:ecs/service:Service").outputs["name"],
        "logGroupName": run.named("mario-logs", "aws:cloudwatch/logGroup:LogGroup").outputs["name"],
        "alarmTopicArn": run.one("aws:sns/topic:Topic").outputs["arn"],
    }


# --- what each environment promises --------------------------------------------------------------


def test_dev_is_the_cheap_stack() -> None:
    run = recorded("dev")
    service = run.one("aws:ecs/service:Service")
    assert service["desiredCount"] == 1
    assert service["capacityProviderStrategies"][0]["capacityProvider"] == "FARGATE_SPOT"
    assert vpc(run)["natGateways"] == {"strategy": "None"}
    assert vpc(run)["numberOfAvailabilityZones"] == 2
    assert service["networkConfiguration"]["assignPublicIp"] is True
    assert run.named("mario-logs", "aws:cloudwatch/logGroup:LogGroup")["retentionInDays"] == 7
    assert run.one("aws:lb/loadBalancer:LoadBalancer")["enableDeletionProtection"] is False
    assert run.one("aws:ecs/cluster:Cluster")["settings"][0]["value"] == "disabled"


def test_prod_is_highly_available_and_hardened() -> None:
    run = recorded("prod")
    service = run.one("aws:ecs/service:Service")
    target = run.one("aws:appautoscaling/target:Target")
    assert service["desiredCount"] >= 2 and target["minCapacity"] >= 2
    assert target["maxCapacity"] >= 6
    assert vpc(run)["numberOfAvailabilityZones"] >= 2
    assert service["capacityProviderStrategies"][0]["capacityProvider"] == "FARGATE"
    assert vpc(run)["natGateways"]["strategy"] in ("Single", "OnePerAz")
    assert service["networkConfiguration"]["assignPublicIp"] is False
    assert service["networkConfiguration"]["subnets"] == vpc(run).outputs["privateSubnetIds"]
    assert run.named("mario-logs", "aws:cloudwatch/logGroup:LogGroup")["retentionInDays"] == 30
    assert run.one("aws:lb/loadBalancer:LoadBalancer")["enableDeletionProtection"] is True
    assert run.one("aws:ecs/cluster:Cluster")["settings"][0]["value"] == "enabled"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_settings_fixture_reads_the_real_file(stack: str) -> None:
    # Guards the fixture itself: the values above must come from the files, not from defaults.
    assert (
        settings_of(stack).desired_count
        == recorded(stack).one("aws:ecs/service:Service")["desiredCount"]
    )
