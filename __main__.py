"""Super Mario on ECS Fargate: one program, one stack per environment (Pulumi.<stack>.yaml)."""

import pulumi
import pulumi_aws as aws

from components import image_ref
from components.cluster import Cluster, ClusterArgs
from components.config import load
from components.game_service import GameService, GameServiceArgs
from components.image_cache import ImageCache, ImageCacheArgs
from components.network import Network, NetworkArgs

# Validate everything first: a bad key stops the program before any resource is declared.
settings = load()

# Tags through the provider's default tags reach every taggable resource, including those awsx
# creates, and (unlike a stack transform) they are visible to the unit tests.
provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags=aws.ProviderDefaultTagsArgs(
        tags={
            "Project": pulumi.get_project(),
            "Environment": settings.stack,
            "ManagedBy": "pulumi",
        }
    ),
)
opts = pulumi.ResourceOptions(providers=[provider])

subnets = settings.subnets
network = Network(
    "mario",
    NetworkArgs(
        cidr_block=settings.vpc_cidr,
        availability_zones=settings.availability_zones,
        nat_gateways=settings.nat_gateways,
        public_subnet_cidrs=subnets.public,
        private_subnet_cidrs=subnets.private,
        flow_logs=settings.vpc_flow_logs,
        flow_log_retention_days=settings.log_retention_days,
    ),
    opts,
)
cluster = Cluster("mario", ClusterArgs(container_insights=settings.container_insights), opts)

# Tasks pull from Docker Hub directly, or through an ECR pull-through cache of it (see README).
image: pulumi.Input[str] = settings.image
execution_policy: pulumi.Input[str] | None = None
if settings.image_source == "ecrPullThroughCache":
    assert settings.docker_hub_username and settings.docker_hub_access_token  # validated
    cache = ImageCache(
        "mario",
        ImageCacheArgs(
            image=settings.image,
            repository_prefix=image_ref.cache_prefix(settings.stack),
            region=settings.region,
            docker_hub_username=settings.docker_hub_username,
            docker_hub_access_token=pulumi.Output.secret(settings.docker_hub_access_token),
        ),
        opts,
    )
    image, execution_policy = cache.image_uri, cache.pull_policy

game = GameService(
    "mario",
    GameServiceArgs(
        vpc_id=network.vpc_id,
        alb_subnet_ids=network.public_subnet_ids,
        task_subnet_ids=(
            network.public_subnet_ids
            if settings.tasks_in_public_subnets
            else network.private_subnet_ids
        ),
        assign_public_ip=settings.tasks_in_public_subnets,
        cluster_arn=cluster.arn,
        cluster_name=cluster.name,
        region=settings.region,
        image=image,
        execution_policy=execution_policy,
        container_port=settings.container_port,
        cpu=settings.cpu,
        memory=settings.memory,
        desired_count=settings.desired_count,
        min_count=settings.min_count,
        max_count=settings.max_count,
        spot=settings.spot,
        log_retention_days=settings.log_retention_days,
        deletion_protection=settings.deletion_protection,
        container_insights=settings.container_insights,
        domain=settings.domain,
        hosted_zone_id=settings.hosted_zone_id,
        alarm_email=settings.alarm_email,
        access_logs=settings.alb_access_logs,
        schedule=settings.schedule,
    ),
    opts,
)

pulumi.export("url", game.url)
pulumi.export("albDnsName", game.alb_dns_name)
pulumi.export("clusterName", cluster.name)
pulumi.export("serviceName", game.service_name)
pulumi.export("logGroupName", game.log_group_name)
pulumi.export("alarmTopicArn", game.alarm_topic_arn)
