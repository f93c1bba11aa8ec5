"""Opt-in integration test: deploy a throw-away stack to AWS, smoke-test it, destroy it.

Runs only with MARIO_INTEGRATION=1, the `pulumi` CLI on PATH, a logged-in (or configured) state
backend and AWS credentials; otherwise it is skipped with the reason. It creates real resources and
costs money (the dev configuration: one Spot task, no NAT gateway) for about a quarter of an hour.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest
from pulumi import automation as auto

from scripts import smoke_test

REPO = Path(__file__).resolve().parents[2]
# The cheapest stack: its settings are what the ephemeral stack deploys.
TEMPLATE_STACK = "dev"
SMOKE_TIMEOUT_SECONDS = 600


def _has_aws_credentials() -> bool:
    """A cheap look for credentials; the deployment itself is the real check."""
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return True
    if os.environ.get("AWS_PROFILE") or os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        return True
    files = [
        os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
        os.environ.get("AWS_CONFIG_FILE", "~/.aws/config"),
    ]
    return any(Path(f).expanduser().is_file() for f in files)


def _why_skipped() -> str | None:
    if os.environ.get("MARIO_INTEGRATION") != "1":
        return "opt-in: set MARIO_INTEGRATION=1 to deploy a real stack to AWS (costs money)"
    if shutil.which("pulumi") is None:
        return "MARIO_INTEGRATION=1, but the pulumi CLI is not on PATH"
    if not _has_aws_credentials():
        return (
            "MARIO_INTEGRATION=1, but no AWS credentials were found "
            "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity or ~/.aws files)"
        )
    return None


_SKIP_REASON = _why_skipped()
pytestmark = pytest.mark.skipif(_SKIP_REASON is not None, reason=_SKIP_REASON or "")


def test_ephemeral_stack_serves_the_game() -> None:
    # A unique name: parallel runs and leftovers of a failed run never collide.
    stack_name = f"it-{secrets.token_hex(4)}"
    # The stack's settings are a copy of dev's file, so its typed values stay exactly as written
    # (`stack init` keeps an existing file and only adds what its secrets provider needs).
    config_file = REPO / f"Pulumi.{stack_name}.yaml"
    shutil.copyfile(REPO / f"Pulumi.{TEMPLATE_STACK}.yaml", config_file)
    try:
        stack = auto.create_stack(stack_name, work_dir=str(REPO))
    except BaseException:
        config_file.unlink(missing_ok=True)
        raise

    try:
        # The same policy pack and strictness CI applies to the stack whose settings it copies.
        result = stack.up(
            on_output=print,
            policy_packs=[str(REPO / "policy")],
            policy_pack_configs=[str(REPO / "policy" / f"config.{TEMPLATE_STACK}.json")],
        )
        url = result.outputs["url"].value
        assert smoke_test.main([url, "--timeout", str(SMOKE_TIMEOUT_SECONDS)]) == 0
    finally:
        _tear_down(stack, config_file)


def _tear_down(stack: auto.Stack, config_file: Path) -> None:
    """Destroy the resources, then forget the stack, whatever the test's outcome."""
    try:
        stack.destroy(on_output=print)
    except auto.CommandError as error:
        # Removing the stack now would orphan whatever is left in the account: keep it (and its
        # config file) so a person can finish the job.
        raise RuntimeError(
            f"destroying {stack.name} failed; it is kept so its resources can be found: "
            f"pulumi destroy --stack {stack.name} && pulumi stack rm {stack.name}"
        ) from error
    # `stack rm` also deletes Pulumi.<stack>.yaml; the unlink covers a CLI that keeps it.
    stack.workspace.remove_stack(stack.name)
    config_file.unlink(missing_ok=True)
