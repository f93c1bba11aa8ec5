"""ImageCache: an ECR pull-through cache of Docker Hub, so tasks stop pulling from Docker Hub.

Anonymous Docker Hub pulls are limited to 10 per hour per address, and every task behind one NAT
gateway shares that address. Through the cache, AWS pulls each image once with the team's Docker
Hub credentials (100 pulls per hour for a free account) and tasks pull from ECR inside AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import image_ref

DOCKER_HUB_REGISTRY = "registry-1.docker.io"
# ECR requires the credentials' secret name to start with this prefix.
SECRET_PREFIX = "ecr-pullthroughcache/"


@dataclass(frozen=True)
class ImageCacheArgs:
    image: str  # a Docker Hub reference, as configured
    repository_prefix: str  # unique per account and region, see image_ref.cache_prefix
    region: str
    docker_hub_username: str
    docker_hub_access_token: pulumi.Input[str]  # a secret Output


class ImageCache(pulumi.ComponentResource):
    image_uri: pulumi.Output[str]
    pull_policy: pulumi.Output[str]  # what the task execution role needs on top of ECS's policy

    def __init__(
        self, name: str, args: ImageCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mario:infra:ImageCache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        secret = aws.secretsmanager.Secret(
            f"{name}-dockerhub",
            name_prefix=f"{SECRET_PREFIX}{args.repository_prefix}-",
            description="Docker Hub credentials for the ECR pull-through cache",
            opts=child,
        )
        version = aws.secretsmanager.SecretVersion(
            f"{name}-dockerhub",
            secret_id=secret.id,
            # The token arrives as a secret Output, so the JSON is secret too; listing the
            # property as secret again guards against a caller passing a plain string.
            secret_string=pulumi.Output.json_dumps(
                {"username": args.docker_hub_username, "accessToken": args.docker_hub_access_token}
            ),
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secretString"]),
        )
        rule = aws.ecr.PullThroughCacheRule(
            f"{name}-dockerhub",
            ecr_repository_prefix=args.repository_prefix,
            upstream_registry_url=DOCKER_HUB_REGISTRY,
            credential_arn=secret.arn,
            # ECR reads the credentials when the rule is created: the value must exist by then.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[version]),
        )

        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        path = image_ref.docker_hub_path(args.image)
        # Depend on the rule so that no task asks for the cached image before the rule exists.
        self.image_uri = pulumi.Output.all(identity.account_id, rule.ecr_repository_prefix).apply(
            lambda v: f"{v[0]}.dkr.ecr.{args.region}.amazonaws.com/{v[1]}/{path}"
        )
        self.pull_policy = pulumi.Output.all(
            partition.partition, identity.account_id, rule.ecr_repository_prefix
        ).apply(lambda v: json.dumps(pull_policy(v[0], args.region, v[1], v[2])))
        self.register_outputs({"imageUri": self.image_uri})


def pull_policy(partition: str, region: str, account: str, prefix: str) -> dict[str, object]:
    """The first pull of an image through the cache creates its repository and imports the image,
    both as the pulling role; later pulls need only what ECS's managed policy already grants."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FillPullThroughCache",
                "Effect": "Allow",
                "Action": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
                "Resource": f"arn:{partition}:ecr:{region}:{account}:repository/{prefix}/*",
            }
        ],
    }
