"""HTTPS on a custom domain: a DNS-validated ACM certificate and the alias record to the ALB."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

# TLS 1.3 with TLS 1.2 fallback: AWS's recommended policy for HTTPS listeners. The 1.3-only
# policy (ELBSecurityPolicy-TLS13-1-3-2021-06) would turn away older browsers for little gain.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def hosted_zone_id(parent: pulumi.Resource, domain: str, zone_id: str | None) -> pulumi.Input[str]:
    """The configured zone, or the public zone of the domain's parent (mario.example.com ->
    example.com); config validation makes sure an apex domain comes with its zone id."""
    if zone_id:
        return zone_id
    zone = aws.route53.get_zone_output(
        name=domain.split(".", 1)[1],
        private_zone=False,
        opts=pulumi.InvokeOutputOptions(parent=parent),
    )
    return zone.zone_id


def validated_certificate(
    parent: pulumi.Resource, name: str, domain: str, zone_id: pulumi.Input[str]
) -> pulumi.Output[str]:
    """ARN of a certificate for ``domain``; it resolves only once ACM has validated it."""
    child = pulumi.ResourceOptions(parent=parent)
    # Pulumi's default create-before-delete matters here: a replacement certificate exists before
    # the listener lets go of the old one.
    certificate = aws.acm.Certificate(
        f"{name}-cert", domain_name=domain, validation_method="DNS", opts=child
    )
    option = certificate.domain_validation_options[0]
    record = aws.route53.Record(
        f"{name}-cert-validation",
        zone_id=zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=60,
        # Re-running after a failed validation must not trip over the record it already wrote.
        allow_overwrite=True,
        opts=child,
    )
    validation = aws.acm.CertificateValidation(
        f"{name}-cert-validation",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        opts=child,
    )
    return validation.certificate_arn


def alias_record(
    parent: pulumi.Resource,
    name: str,
    domain: str,
    zone_id: pulumi.Input[str],
    alb: aws.lb.LoadBalancer,
) -> aws.route53.Record:
    return aws.route53.Record(
        f"{name}-alias",
        zone_id=zone_id,
        name=domain,
        type="A",
        aliases=[
            aws.route53.RecordAliasArgs(
                name=alb.dns_name, zone_id=alb.zone_id, evaluate_target_health=True
            )
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )
