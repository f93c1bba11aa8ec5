"""ALB access logs: a private, encrypted S3 bucket with expiry that only ELB may write to."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components.aws_limits import ELB_LOG_ACCOUNTS

LOG_PREFIX = "alb"
EXPIRE_AFTER_DAYS = 90


def access_log_bucket(
    parent: pulumi.Resource, name: str, region: str, force_destroy: bool
) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(f"{name}-alb-logs", force_destroy=force_destroy, opts=child)
    aws.s3.BucketPublicAccessBlock(
        f"{name}-alb-logs",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-alb-logs",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=child,
    )
    # ALB access logs support only SSE-S3 (AES256), not KMS keys.
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-alb-logs",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                )
            )
        ],
        opts=child,
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-alb-logs",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{LOG_PREFIX}/"),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=EXPIRE_AFTER_DAYS
                ),
            )
        ],
        opts=child,
    )
    policy = aws.s3.BucketPolicy(
        f"{name}-alb-logs",
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: json.dumps(write_policy(arn, region))),
        opts=child,
    )
    return bucket, policy


def write_policy(bucket_arn: str, region: str) -> dict[str, object]:
    """Who may write the logs: regions older than August 2022 deliver from a regional ELB account,
    newer ones from the log-delivery service principal (Elastic Load Balancing user guide)."""
    account = ELB_LOG_ACCOUNTS.get(region)
    principal = (
        {"AWS": f"arn:aws:iam::{account}:root"}
        if account
        else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ElbWritesAccessLogs",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{LOG_PREFIX}/AWSLogs/*",
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
