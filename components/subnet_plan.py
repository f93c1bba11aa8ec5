"""Subnet layout for the VPC, computed here (not by awsx) so that it is known, tested and stable.

The VPC range is cut into 16 equal slots. Public subnet *i* takes slot *i* and private subnet *i*
takes slot ``8 + i``. Because the slot size does not depend on the number of Availability Zones,
adding a zone later adds subnets without renumbering (and so replacing) the existing ones.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

SLOT_BITS = 4  # 16 slots
PRIVATE_OFFSET = 8
# An ALB needs subnets of at least /27 with 8 free addresses (Elastic Load Balancing guide).
MAX_SUBNET_PREFIX = 27
MIN_VPC_PREFIX = 16  # the largest VPC AWS allows
MAX_VPC_PREFIX = MAX_SUBNET_PREFIX - SLOT_BITS  # /23: the smallest VPC whose slots are still /27

PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


@dataclass(frozen=True)
class SubnetPlan:
    public: tuple[str, ...]
    private: tuple[str, ...]


def cidr_problem(cidr: str) -> str | None:
    """Why ``cidr`` cannot hold our layout, or None when it can."""
    try:
        net = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as exc:
        return f"not an IPv4 network in CIDR form such as 10.0.0.0/16 ({exc})"
    if not any(net.subnet_of(r) for r in PRIVATE_RANGES):
        return (
            "must lie inside a private (RFC 1918) range: "
            "10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"
        )
    if net.prefixlen < MIN_VPC_PREFIX:
        return f"AWS allows VPC ranges from /{MIN_VPC_PREFIX} to /28; /{net.prefixlen} is too large"
    if net.prefixlen > MAX_VPC_PREFIX:
        return (
            f"too small: 16 subnet slots of at least /{MAX_SUBNET_PREFIX} (the ALB minimum) "
            f"need /{MAX_VPC_PREFIX} or larger, got /{net.prefixlen}"
        )
    return None


def plan_subnets(cidr: str, az_count: int, with_private: bool) -> SubnetPlan:
    """CIDR blocks for ``az_count`` public subnets and, if asked, as many private ones."""
    problem = cidr_problem(cidr)
    if problem:
        raise ValueError(f"vpcCidr {cidr}: {problem}")
    if not 1 <= az_count <= PRIVATE_OFFSET:
        raise ValueError(f"az_count must be 1..{PRIVATE_OFFSET}, got {az_count}")
    slots = list(ipaddress.IPv4Network(cidr).subnets(prefixlen_diff=SLOT_BITS))
    public = tuple(str(slots[i]) for i in range(az_count))
    private = tuple(str(slots[PRIVATE_OFFSET + i]) for i in range(az_count)) if with_private else ()
    return SubnetPlan(public=public, private=private)
