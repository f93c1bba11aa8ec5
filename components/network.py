"""Network: a VPC with public (and, behind NAT, private) subnets over N Availability Zones."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components.iam import service_trust_policy

# Our config speaks lower camel case; awsx's enum speaks Pascal case.
_NAT_STRATEGY = {
    "none": awsx.ec2.NatGatewayStrategy.NONE,
    "single": awsx.ec2.NatGatewayStrategy.SINGLE,
    "perAz": awsx.ec2.NatGatewayStrategy.ONE_PER_AZ,
}


@dataclass(frozen=True)
class NetworkArgs:
    cidr_block: str
    availability_zones: int
    nat_gateways: str  # one of components.config.NAT_MODES
    public_subnet_cidrs: Sequence[str]
    private_subnet_cidrs: Sequence[str]  # empty when tasks live in the public subnets
    flow_logs: bool = False
    flow_log_retention_days: int = 30


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[Sequence[str]]
    private_subnet_ids: pulumi.Output[Sequence[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mario:infra:Network", name, None, opts)

        specs = [
            awsx.ec2.SubnetSpecArgs(
                type=awsx.ec2.SubnetType.PUBLIC, cidr_blocks=list(args.public_subnet_cidrs)
            )
        ]
        if args.private_subnet_cidrs:
            specs.append(
                awsx.ec2.SubnetSpecArgs(
                    type=awsx.ec2.SubnetType.PRIVATE, cidr_blocks=list(args.private_subnet_cidrs)
                )
            )
        # awsx would default to 3 AZs and a NAT gateway in each (about $110 a month with their
        # addresses, before any traffic), so both are always passed. Explicit CIDR blocks keep
        # the layout ours to test.
        vpc = awsx.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr_block,
            number_of_availability_zones=args.availability_zones,
            nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(
                strategy=_NAT_STRATEGY[args.nat_gateways]
            ),
            subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO,
            subnet_specs=specs,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.vpc_id = vpc.vpc_id
        if args.flow_logs:
            self._create_flow_logs(name, args.flow_log_retention_days)
        self.public_subnet_ids = vpc.public_subnet_ids
        self.private_subnet_ids = vpc.private_subnet_ids
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
            }
        )

    def _create_flow_logs(self, name: str, retention_days: int) -> None:
        """Accepted and rejected connections of the VPC to CloudWatch Logs (Security Hub EC2.6)."""
        child = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", retention_in_days=retention_days, opts=child
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            description="Lets VPC Flow Logs write to its log group",
            assume_role_policy=service_trust_policy("vpc-flow-logs.amazonaws.com"),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=log_group.arn.apply(lambda arn: json.dumps(flow_log_policy(arn))),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=self.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            # 10-minute aggregation: the default, and half the log volume of 1-minute windows.
            max_aggregation_interval=600,
            # Delivery starts at once: the role must already be allowed to write.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )


def flow_log_policy(log_group_arn: str) -> dict[str, object]:
    """What VPC Flow Logs needs to deliver into one existing log group (VPC user guide's set,
    without CreateLogGroup: the group is ours). DescribeLogGroups cannot be scoped to a group."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            },
            {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
        ],
    }
