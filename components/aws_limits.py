"""What AWS accepts, as plain data and functions (no Pulumi here, so tests need no runtime).

Sources: AWS Fargate task size table, CloudWatch Logs PutRetentionPolicy, Elastic Load Balancing
subnet requirements (summarised with dates in ../shared/aws-facts.md and the README).
"""

from __future__ import annotations

# Fargate task sizes: CPU units -> the memory sizes (MiB) allowed with them. Any other pair is
# rejected at deploy time with "Invalid 'cpu' setting for task", long after `pulumi up` started.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# CloudWatch Logs accepts only these retention periods (days); no retention means "keep forever".
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# An ALB needs subnets in at least two Availability Zones. Six is the most any region offers.
MIN_AZS = 2
MAX_AZS = 6

# Hard ceiling on tasks per service we are willing to plan for; the ECS quota is far higher,
# but a typo such as 600 instead of 6 should be refused rather than billed.
MAX_TASKS = 50


def memory_choices(cpu: int) -> tuple[int, ...]:
    """Memory sizes (MiB) Fargate accepts with ``cpu`` units; empty when ``cpu`` is invalid."""
    return FARGATE_SIZES.get(cpu, ())


def is_valid_task_size(cpu: int, memory: int) -> bool:
    return memory in memory_choices(cpu)


def describe_memory_choices(cpu: int) -> str:
    """Short human text for an error message, e.g. ``1024..4096 step 1024``."""
    choices = memory_choices(cpu)
    if len(choices) <= 3:
        return ", ".join(str(m) for m in choices)
    step = choices[1] - choices[0]
    return f"{choices[0]}..{choices[-1]} step {step}"


# Elastic Load Balancing's log-delivery account per region, for regions that opened before
# August 2022 (Elastic Load Balancing user guide, "Enable access logs"). Newer regions deliver
# through the service principal logdelivery.elasticloadbalancing.amazonaws.com instead.
ELB_LOG_ACCOUNTS: dict[str, str] = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-south-1": "718504428378",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-north-1": "897822967062",
    "eu-south-1": "635631232127",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}
