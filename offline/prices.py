"""us-east-1 list prices the offline plan's cost model uses: a dated table, for estimates only.

Source: AWS's public pricing pages for AWS Fargate, Elastic Load Balancing, Amazon VPC (NAT gateway
and public IPv4 addresses), Amazon CloudWatch (logs and alarms), Amazon S3 Standard, AWS Secrets
Manager, Amazon ECR storage and AWS Certificate Manager, read in late 2026 for the region
us-east-1 (the project's fact sheet keeps the compute, network and logs figures). List prices
change: when they do, update the table and PRICE_DATE together, and the plan's sample output in
the README.
"""

from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east-1"
# When the prices below were read. The pricing pages carry no version, so the month is the
# best reference we have.
PRICE_DATE = "late 2026"
SOURCE = (
    "AWS public pricing pages (Fargate, Elastic Load Balancing, VPC, CloudWatch, S3, "
    "Secrets Manager, ECR, Certificate Manager)"
)

# AWS bills hourly services on a 730-hour month (365 days * 24 h / 12).
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class Prices:
    """USD list prices; one field per billing dimension the plan models."""

    fargate_vcpu_hour: float = 0.04048  # Linux/x86, per vCPU-hour
    fargate_gb_hour: float = 0.004445  # Linux/x86, per GB of memory per hour
    alb_hour: float = 0.0225  # per Application Load Balancer-hour
    alb_lcu_hour: float = 0.008  # per Load Balancer Capacity Unit-hour
    nat_gateway_hour: float = 0.045
    nat_gateway_gb: float = 0.045  # per GB processed
    public_ipv4_hour: float = 0.005  # every public IPv4 address, in use or idle
    logs_ingest_gb: float = 0.50  # CloudWatch Logs standard ingestion, per GB
    logs_storage_gb_month: float = 0.03  # CloudWatch Logs archived storage, per GB-month
    # Flow logs are "vended logs": their first-tier ingestion price equals standard ingestion.
    vended_logs_ingest_gb: float = 0.50
    alarm_metric_month: float = 0.10  # standard-resolution alarm, per metric it reads
    s3_standard_gb_month: float = 0.023
    secret_month: float = 0.40  # Secrets Manager, per secret
    ecr_storage_gb_month: float = 0.10
    public_certificate_month: float = 0.0  # ACM public certificates are free


US_EAST_1 = Prices()
