"""Cluster: an ECS cluster with both Fargate capacity providers associated."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


@dataclass(frozen=True)
class ClusterArgs:
    container_insights: bool


class Cluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mario:infra:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            settings=[
                aws.ecs.ClusterSettingArgs(
                    name="containerInsights",
                    value="enabled" if args.container_insights else "disabled",
                )
            ],
            opts=child,
        )
        # A service whose strategy names a provider fails unless the provider is associated first.
        associations = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            cluster_name=cluster.name,
            capacity_providers=list(CAPACITY_PROVIDERS),
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider="FARGATE", weight=1
                )
            ],
            opts=child,
        )

        # Both outputs resolve only after the association, so whatever uses them (the service)
        # waits until both capacity providers are attached.
        self.name = associations.cluster_name
        self.arn = pulumi.Output.all(cluster.arn, associations.cluster_name).apply(lambda v: v[0])
        self.register_outputs({"name": self.name, "arn": self.arn})
