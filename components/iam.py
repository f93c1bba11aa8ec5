"""IAM policy documents shared by the components (plain functions, no resources)."""

from __future__ import annotations

import json


def service_trust_policy(service: str) -> str:
    """A role trust policy letting one AWS service principal assume the role, and nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
