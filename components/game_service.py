"""GameService: the game container on Fargate behind a public Application Load Balancer.

Built from plain ``pulumi_aws`` resources (not awsx) so that every resource and input is visible
to the unit tests and to the offline plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy
from components.parts import alarms, https
from components.parts.access_logs import LOG_PREFIX, access_log_bucket
from components.schedule import Schedule

CONTAINER_NAME = "game"

# Health check tuned for fast rollouts: a new task is healthy after 2 checks 10 s apart (~20 s)
# instead of the ELB default of 5 checks 30 s apart (2.5 min). See AWS's ECS best-practice guide.
HEALTH_CHECK_PATH = "/"
HEALTH_CHECK_INTERVAL_SECONDS = 10
HEALTH_CHECK_TIMEOUT_SECONDS = 5
HEALTHY_THRESHOLD = 2
UNHEALTHY_THRESHOLD = 3
# The game is static files: requests finish in milliseconds, so draining a task for the 300 s
# default only slows every rollout and teardown.
DEREGISTRATION_DELAY_SECONDS = 15
# Tomcat needs a few seconds to start the JVM; ECS ignores ALB health for this long after start.
HEALTH_CHECK_GRACE_SECONDS = 60
# Autoscaling targets: average CPU of the service, and ALB requests per task per minute.
CPU_TARGET_PERCENT = 60.0
REQUESTS_PER_TARGET = 1000.0
SCALE_IN_COOLDOWN_SECONDS = 300
SCALE_OUT_COOLDOWN_SECONDS = 60


@dataclass(frozen=True)
class GameServiceArgs:
    vpc_id: pulumi.Input[str]
    alb_subnet_ids: pulumi.Input[Sequence[str]]
    task_subnet_ids: pulumi.Input[Sequence[str]]
    assign_public_ip: bool
    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    region: str
    image: pulumi.Input[str]
    container_port: int
    cpu: int
    memory: int
    desired_count: int
    min_count: int
    max_count: int
    spot: bool
    log_retention_days: int
    deletion_protection: bool
    container_insights: bool = False  # picks the task-count alarm, see parts/alarms.py
    domain: str | None = None  # HTTPS on this name when set
    hosted_zone_id: str | None = None  # else looked up from the domain's parent
    alarm_email: str | None = None
    access_logs: bool = False
    schedule: Schedule | None = None  # office hours; scaled to zero outside them
    # Extra permissions for the execution role (IAM policy JSON), e.g. to fill an image cache.
    execution_policy: pulumi.Input[str] | None = None


class GameService(pulumi.ComponentResource):
    url: pulumi.Output[str]
    alb_dns_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: GameServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mario:infra:GameService", name, None, opts)
        self._name = name
        self._args = args

        alb_sg, task_sg = self._create_security_groups()
        alb, target_group, listeners = self._create_load_balancer(alb_sg)
        topic = alarms.create_topic(self, name, args.alarm_email)
        deployment_alarms = alarms.deployment_alarms(self, name, topic, alb, target_group)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            retention_in_days=args.log_retention_days,
            opts=self._child(),
        )
        role, role_policies = self._create_execution_role()
        task = self._create_task_definition(role, log_group)
        service = aws.ecs.Service(
            f"{name}-service",
            cluster=args.cluster_arn,
            task_definition=task.arn,
            desired_count=args.desired_count,
            # Always a strategy (never launch_type) so that switching Spot on or off is an
            # in-place update rather than a replacement of the service. ECS applies a changed
            # strategy only with a new deployment, hence force_new_deployment below.
            capacity_provider_strategies=[
                aws.ecs.ServiceCapacityProviderStrategyArgs(
                    capacity_provider="FARGATE_SPOT" if args.spot else "FARGATE", weight=1
                )
            ],
            # Any update of the service rolls the tasks: needed for a new capacity strategy, and
            # it also picks up a new push of a floating tag such as :latest.
            force_new_deployment=True,
            platform_version="LATEST",
            availability_zone_rebalancing="ENABLED",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=args.task_subnet_ids,
                security_groups=[task_sg.id],
                assign_public_ip=args.assign_public_ip,
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=target_group.arn,
                    container_name=CONTAINER_NAME,
                    container_port=args.container_port,
                )
            ],
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True
            ),
            # A release whose tasks pass health checks but answer errors is rolled back too.
            alarms=aws.ecs.ServiceAlarmsArgs(
                alarm_names=[a.name for a in deployment_alarms], enable=True, rollback=True
            ),
            # Start the new task before stopping the old one, even with a single task.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=HEALTH_CHECK_GRACE_SECONDS,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            # `pulumi up` returns only once the game answers through the ALB (or rolled back).
            wait_for_steady_state=True,
            opts=self._child(
                # ECS rejects a target group that no listener uses yet, and tasks cannot pull or
                # write logs before the execution role's policies are attached.
                depends_on=[*listeners, *role_policies],
                # Autoscaling owns the running count after creation; `pulumi up` must not reset it.
                ignore_changes=["desiredCount"],
            ),
        )
        self._create_autoscaling(service, alb, target_group)
        alarms.service_alarms(
            self,
            name,
            topic,
            cluster_name=args.cluster_name,
            service_name=service.name,
            target_group=target_group,
            alb=alb,
            min_count=args.min_count,
            container_insights=args.container_insights,
            scheduled=args.schedule is not None,
        )

        self.alb_dns_name = alb.dns_name
        self.url = (
            pulumi.Output.from_input(f"https://{args.domain}")
            if args.domain
            else pulumi.Output.concat("http://", alb.dns_name)
        )
        self.service_name = service.name
        self.log_group_name = log_group.name
        self.alarm_topic_arn = topic.arn
        self.register_outputs(
            {
                "url": self.url,
                "albDnsName": self.alb_dns_name,
                "serviceName": self.service_name,
                "logGroupName": self.log_group_name,
                "alarmTopicArn": self.alarm_topic_arn,
            }
        )

    def _child(self, **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)  # type: ignore[arg-type]

    def _create_security_groups(self) -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup]:
        name, args = self._name, self._args
        alb_sg = aws.ec2.SecurityGroup(
            f"{name}-alb-sg",
            vpc_id=args.vpc_id,
            description="Game ALB: HTTP(S) from the internet, to the game tasks only",
            opts=self._child(),
        )
        task_sg = aws.ec2.SecurityGroup(
            f"{name}-task-sg",
            vpc_id=args.vpc_id,
            description="Game tasks: the container port from the game ALB only",
            opts=self._child(),
        )
        # Standalone rule resources (not inline rules) so the two groups can reference each other
        # without a dependency cycle.
        # Port 80 stays open with HTTPS too: it answers with a redirect to 443.
        public_ports = {"http": 80, "https": 443} if args.domain else {"http": 80}
        for label, port in public_ports.items():
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-{label}-in",
                security_group_id=alb_sg.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4="0.0.0.0/0",
                description=f"{label.upper()} from anywhere",
                opts=self._child(),
            )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-tasks",
            security_group_id=alb_sg.id,
            ip_protocol="tcp",
            from_port=args.container_port,
            to_port=args.container_port,
            referenced_security_group_id=task_sg.id,
            description="Forward to the game tasks",
            opts=self._child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-task-from-alb",
            security_group_id=task_sg.id,
            ip_protocol="tcp",
            from_port=args.container_port,
            to_port=args.container_port,
            referenced_security_group_id=alb_sg.id,
            description="Game traffic from the ALB only",
            opts=self._child(),
        )
        # Tasks only need HTTPS out: the image pull (Docker Hub) and the awslogs driver. DNS to the
        # VPC resolver is never filtered by security groups.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-task-https-out",
            security_group_id=task_sg.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            description="HTTPS out: image pulls and CloudWatch Logs",
            opts=self._child(),
        )
        return alb_sg, task_sg

    def _create_load_balancer(
        self, alb_sg: aws.ec2.SecurityGroup
    ) -> tuple[aws.lb.LoadBalancer, aws.lb.TargetGroup, list[aws.lb.Listener]]:
        name, args = self._name, self._args
        access_logs = None
        depends_on: list[pulumi.Resource] = []
        if args.access_logs:
            bucket, policy = access_log_bucket(
                self, name, args.region, force_destroy=not args.deletion_protection
            )
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(
                bucket=bucket.id, prefix=LOG_PREFIX, enabled=True
            )
            depends_on.append(policy)  # ELB checks that it may write before it accepts the bucket
        alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            subnets=args.alb_subnet_ids,
            security_groups=[alb_sg.id],
            drop_invalid_header_fields=True,  # Security Hub ELB.4
            enable_deletion_protection=args.deletion_protection,  # Security Hub ELB.6
            access_logs=access_logs,  # Security Hub ELB.5
            opts=self._child(depends_on=depends_on),
        )
        target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            target_type="ip",  # Fargate tasks use awsvpc networking: targets are ENI addresses
            port=args.container_port,
            protocol="HTTP",
            vpc_id=args.vpc_id,
            deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=HEALTH_CHECK_PATH,
                protocol="HTTP",
                port="traffic-port",
                matcher="200",
                interval=HEALTH_CHECK_INTERVAL_SECONDS,
                timeout=HEALTH_CHECK_TIMEOUT_SECONDS,
                healthy_threshold=HEALTHY_THRESHOLD,
                unhealthy_threshold=UNHEALTHY_THRESHOLD,
            ),
            opts=self._child(),
        )
        forward = aws.lb.ListenerDefaultActionArgs(
            type="forward", target_group_arn=target_group.arn
        )
        if not args.domain:
            http = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[forward],
                opts=self._child(),
            )
            return alb, target_group, [http]

        zone_id = https.hosted_zone_id(self, args.domain, args.hosted_zone_id)
        certificate_arn = https.validated_certificate(self, name, args.domain, zone_id)
        secure = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=https.TLS_POLICY,
            certificate_arn=certificate_arn,
            default_actions=[forward],
            opts=self._child(),
        )
        # Same logical name as without a domain, so adding one updates the listener in place.
        http = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=alb.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port="443", status_code="HTTP_301"
                    ),
                )
            ],  # Security Hub ELB.1
            opts=self._child(),
        )
        https.alias_record(self, name, args.domain, zone_id, alb)
        return alb, target_group, [secure, http]

    def _create_execution_role(self) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        # The execution role lets the ECS agent pull the image and write logs. The game itself
        # calls no AWS API, so there is deliberately no task role.
        role = aws.iam.Role(
            f"{self._name}-execution",
            description="ECS task execution role for the game (image pull, logs)",
            assume_role_policy=service_trust_policy("ecs-tasks.amazonaws.com"),
            opts=self._child(),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{self._name}-execution-policy",
            role=role.name,
            policy_arn=aws.iam.ManagedPolicy.AMAZON_ECS_TASK_EXECUTION_ROLE_POLICY.value,
            opts=self._child(),
        )
        if self._args.execution_policy is None:
            return role, [attachment]
        extra = aws.iam.RolePolicy(
            f"{self._name}-execution-extra",
            role=role.id,
            policy=self._args.execution_policy,
            opts=self._child(),
        )
        return role, [attachment, extra]

    def _create_task_definition(
        self, role: aws.iam.Role, log_group: aws.cloudwatch.LogGroup
    ) -> aws.ecs.TaskDefinition:
        args = self._args
        container = {
            "name": CONTAINER_NAME,
            "image": args.image,
            "essential": True,
            "privileged": False,  # Security Hub ECS.4
            # Not readonlyRootFilesystem (Security Hub ECS.5): Tomcat writes to work/ and logs/
            # inside the image, so a read-only root needs writable volumes for those first.
            "portMappings": [
                {
                    "containerPort": args.container_port,
                    "hostPort": args.container_port,
                    "protocol": "tcp",
                }
            ],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group.name,
                    "awslogs-region": args.region,
                    "awslogs-stream-prefix": CONTAINER_NAME,
                },
            },
        }
        return aws.ecs.TaskDefinition(
            f"{self._name}-task",
            # The family is an account-wide name: include the stack so dev and prod never share
            # one revision history.
            family=f"{self._name}-{pulumi.get_stack()}",
            cpu=str(args.cpu),
            memory=str(args.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            # The image is published for linux/amd64 only.
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            execution_role_arn=role.arn,
            container_definitions=pulumi.Output.json_dumps([container]),
            opts=self._child(),
        )

    def _create_autoscaling(
        self,
        service: aws.ecs.Service,
        alb: aws.lb.LoadBalancer,
        target_group: aws.lb.TargetGroup,
    ) -> None:
        name, args = self._name, self._args
        target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", args.cluster_name, "/", service.name),
            min_capacity=args.min_count,
            max_capacity=args.max_count,
            # With a schedule, the scheduled actions move these bounds every day; a refresh must
            # not read that as drift and put the daytime bounds back at night.
            opts=self._child(
                ignore_changes=["minCapacity", "maxCapacity"] if args.schedule else None
            ),
        )
        if args.schedule:
            self._create_schedule(target, args.schedule)
        metrics = {
            "cpu": ("ECSServiceAverageCPUUtilization", CPU_TARGET_PERCENT, None),
            "requests": (
                "ALBRequestCountPerTarget",
                REQUESTS_PER_TARGET,
                pulumi.Output.concat(alb.arn_suffix, "/", target_group.arn_suffix),
            ),
        }
        for suffix, (metric, value, label) in metrics.items():
            aws.appautoscaling.Policy(
                f"{name}-scale-{suffix}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=value,
                    scale_in_cooldown=SCALE_IN_COOLDOWN_SECONDS,
                    scale_out_cooldown=SCALE_OUT_COOLDOWN_SECONDS,
                    predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type=metric, resource_label=label
                    ),
                ),
                opts=self._child(),
            )

    def _create_schedule(self, target: aws.appautoscaling.Target, schedule: Schedule) -> None:
        """Scale to zero outside office hours and back to the configured bounds inside them."""
        args = self._args
        windows = {
            "open": (schedule.scale_up_cron, args.min_count, args.max_count),
            "close": (schedule.scale_down_cron, 0, 0),
        }
        for label, (cron, low, high) in windows.items():
            aws.appautoscaling.ScheduledAction(
                f"{self._name}-{label}",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                schedule=cron,
                timezone=schedule.timezone,
                scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(
                    min_capacity=low, max_capacity=high
                ),
                opts=self._child(),
            )
