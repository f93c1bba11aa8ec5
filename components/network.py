"""Network: a VPC with public (and, behind NAT, private) subnets over N Availability Zones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_awsx as awsx

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
        # awsx would default to 3 AZs and a NAT gateway in each (about $100 a month before any
        # traffic), so both are always passed. Explicit CIDR blocks keep the layout ours to test.
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
        self.public_subnet_ids = vpc.public_subnet_ids
        self.private_subnet_ids = vpc.private_subnet_ids
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
            }
        )
