"""The GitHub workflows: valid against GitHub's schema (offline), doing what the README's CI/CD
section says.

The schema is the one check-jsonschema bundles, so no test here touches the network. The other tests
read the YAML and check the facts the deployment relies on: every stack previewed on pull
requests, AWS reached through OIDC only, one lock per stack, the policy pack on every preview and
update, prod behind an approval, and a smoke test after every update.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
WORKFLOW_FILES = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
# Every stack with a Pulumi.<stack>.yaml: CI must cover each of them.
STACKS = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO.glob("Pulumi.*.yaml"))

PULUMI_ACTION = "pulumi/actions@"
AWS_CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"
MUTATING_COMMANDS = {"up", "update", "destroy", "refresh"}
# The state backend, identical wherever the CLI runs (README, CI/CD, "One-time setup").
BACKEND_ENV = {
    "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
    "PULUMI_BACKEND_URL": "${{ vars.PULUMI_BACKEND_URL }}",
    "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
}
_MATRIX_REF = re.compile(r"\$\{\{\s*matrix\.(\w+)\s*\}\}")


# ---------------------------------------------------------------------------------------------
# Reading workflows
# ---------------------------------------------------------------------------------------------


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path.name}: not a mapping"
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` section as a mapping of event -> settings.

    YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True, so look under both.
    """
    on = workflow.get("on", workflow.get(True))
    assert on is not None, "workflow has no `on:` section"
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


@dataclass(frozen=True)
class Job:
    file: str
    id: str
    spec: dict[str, Any]
    workflow: dict[Any, Any]

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.spec.get("steps") or [])

    @property
    def permissions(self) -> Any:
        # A job's own `permissions` replace the workflow's entirely; they do not merge.
        return self.spec.get("permissions", self.workflow.get("permissions"))

    @property
    def concurrency(self) -> Any:
        return self.spec.get("concurrency", self.workflow.get("concurrency"))

    @property
    def env(self) -> dict[str, Any]:
        return {**(self.workflow.get("env") or {}), **(self.spec.get("env") or {})}

    @property
    def environment(self) -> str | None:
        env = self.spec.get("environment")
        return env.get("name") if isinstance(env, dict) else env

    def matrix_rows(self) -> list[dict[str, Any]]:
        """Each combination of the job's matrix (only plain lists are used here)."""
        matrix = (self.spec.get("strategy") or {}).get("matrix") or {}
        rows: list[dict[str, Any]] = [{}]
        for key, values in matrix.items():
            if isinstance(values, list):
                rows = [{**row, key: value} for row in rows for value in values]
        return rows

    def __str__(self) -> str:
        return f"{self.file}:{self.id}"


def substitute(text: str, row: dict[str, Any]) -> str:
    return _MATRIX_REF.sub(lambda m: str(row.get(m.group(1), m.group(0))), text)


def all_jobs() -> Iterator[Job]:
    for path in WORKFLOW_FILES:
        workflow = load(path)
        for job_id, spec in (workflow.get("jobs") or {}).items():
            yield Job(path.name, job_id, spec, workflow)


def uses(step: dict[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).startswith(action)


def run_text(step: dict[str, Any]) -> str:
    return str(step.get("run", ""))


@dataclass(frozen=True)
class PulumiRun:
    """One `pulumi/actions` step with a command, for one concrete stack."""

    job: Job
    index: int
    step: dict[str, Any]
    command: str
    stack: str
    concurrency_group: str | None


def pulumi_runs() -> list[PulumiRun]:
    found = []
    for job in all_jobs():
        for row in job.matrix_rows():
            for index, step in enumerate(job.steps):
                settings = step.get("with") or {}
                if not uses(step, PULUMI_ACTION) or "command" not in settings:
                    continue
                concurrency = job.concurrency
                group = concurrency.get("group") if isinstance(concurrency, dict) else concurrency
                found.append(
                    PulumiRun(
                        job=job,
                        index=index,
                        step=step,
                        command=settings["command"],
                        stack=substitute(str(settings.get("stack-name", "")), row),
                        concurrency_group=substitute(group, row) if group else None,
                    )
                )
    return found


def on_pull_request(job: Job) -> bool:
    return "pull_request" in triggers(job.workflow)


def touches_aws(job: Job) -> bool:
    """Jobs that reach the cloud: Pulumi commands, or the integration test."""
    return any(
        (uses(s, PULUMI_ACTION) and "command" in (s.get("with") or {}))
        or uses(s, AWS_CREDENTIALS_ACTION)
        or "tests/integration" in run_text(s)
        for s in job.steps
    )


def needs(job: Job) -> set[str]:
    """The ids of the jobs ``job`` waits for, directly or not."""
    jobs = job.workflow.get("jobs") or {}
    seen: set[str] = set()
    todo = [job.id]
    while todo:
        wanted = jobs[todo.pop()].get("needs") or []
        for dep in [wanted] if isinstance(wanted, str) else wanted:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


# ---------------------------------------------------------------------------------------------
# Schema, offline
# ---------------------------------------------------------------------------------------------


def check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    # The vendored schema ships inside check-jsonschema: nothing is downloaded.
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema"]
    return subprocess.run(
        [*command, "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_workflows_exist() -> None:
    names = {p.name for p in WORKFLOW_FILES}
    expected = {"pull-request.yml", "deploy-dev.yml", "deploy-prod.yml", "integration.yml"}
    assert expected <= names, f"missing: {sorted(expected - names)}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_workflow_matches_githubs_schema(path: Path) -> None:
    result = check_schema(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    # Proof that the check above can fail: `runs-on` must be a string, `steps` a list.
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: 1\n    steps: nope\n")
    result = check_schema(broken)
    assert result.returncode != 0
    assert "runs-on" in result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------
# Pull requests
# ---------------------------------------------------------------------------------------------


def test_pull_requests_run_the_tests_and_plan_every_stack_offline() -> None:
    pr_jobs = [job for job in all_jobs() if on_pull_request(job)]
    runs = [(job, run_text(step)) for job in pr_jobs for step in job.steps]
    assert any("make test" in text for _, text in runs), "no `make test` on pull requests"
    for stack in STACKS:
        plans = [
            (job, m.group(1))
            for job, text in runs
            if (m := re.search(rf"make plan STACK={stack} JSON=(\S+)", text))
        ]
        assert plans, f"no offline plan of {stack} with a JSON file on pull requests"
        for job, json_file in plans:
            uploaded = [
                pattern
                for step in job.steps
                if uses(step, "actions/upload-artifact@")
                for pattern in str((step.get("with") or {}).get("path", "")).split()
            ]
            assert any(fnmatch.fnmatch(json_file, p) for p in uploaded), (
                f"{job}: {json_file} is written but not uploaded as an artifact"
            )


def test_pull_requests_preview_every_stack_and_comment() -> None:
    previews = [r for r in pulumi_runs() if on_pull_request(r.job) and r.command == "preview"]
    assert sorted({r.stack for r in previews}) == STACKS
    for run in previews:
        assert run.step["with"].get("comment-on-pr") is True, f"{run.job}: no comment-on-pr"


def test_pull_requests_never_change_a_stack() -> None:
    for job in all_jobs():
        # pull_request_target runs with the base repository's secrets on untrusted code.
        assert "pull_request_target" not in triggers(job.workflow), job.file
    for run in pulumi_runs():
        if on_pull_request(run.job):
            assert run.command not in MUTATING_COMMANDS, f"{run.job}: {run.command} on a PR"


def test_cloud_jobs_skip_pull_requests_from_forks() -> None:
    # Forks get neither secrets nor an OIDC token: such a job could only fail.
    cloud_pr_jobs = [job for job in all_jobs() if on_pull_request(job) and touches_aws(job)]
    assert cloud_pr_jobs
    for job in cloud_pr_jobs:
        condition = str(job.spec.get("if", ""))
        assert "head.repo.full_name" in condition and "github.repository" in condition, str(job)


# ---------------------------------------------------------------------------------------------
# Credentials and permissions
# ---------------------------------------------------------------------------------------------


def test_aws_is_reached_through_oidc_only() -> None:
    cloud_jobs = [job for job in all_jobs() if touches_aws(job)]
    assert cloud_jobs
    for job in cloud_jobs:
        assert (job.permissions or {}).get("id-token") == "write", f"{job}: no id-token: write"
        assume = [i for i, s in enumerate(job.steps) if uses(s, AWS_CREDENTIALS_ACTION)]
        assert assume, f"{job}: reaches AWS without assuming a role"
        settings = job.steps[assume[0]].get("with") or {}
        assert settings.get("role-to-assume") == "${{ vars.AWS_ROLE_ARN }}", str(job)
        first_use = min(
            (
                i
                for i, s in enumerate(job.steps)
                if uses(s, PULUMI_ACTION) or "pytest" in run_text(s)
            ),
            default=len(job.steps),
        )
        assert assume[0] < first_use, f"{job}: credentials are configured after they are needed"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_stored_aws_keys(path: Path) -> None:
    text = path.read_text().lower()
    for key in ("aws-access-key-id", "aws-secret-access-key", "aws_access_key_id", "aws_secret"):
        assert key not in text, f"{path.name} mentions {key}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_workflow_permissions_default_to_read_only(path: Path) -> None:
    assert load(path).get("permissions") == {"contents": "read"}


def test_job_permissions_are_least_privilege() -> None:
    for job in all_jobs():
        permissions = job.permissions
        assert isinstance(permissions, dict), f"{job}: permissions {permissions!r}"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        allowed = set()
        if any(uses(s, AWS_CREDENTIALS_ACTION) for s in job.steps):
            allowed.add("id-token")
        if any((s.get("with") or {}).get("comment-on-pr") is True for s in job.steps):
            allowed.add("pull-requests")
        assert writes <= allowed, f"{job}: writes {sorted(writes - allowed)} it does not need"


# ---------------------------------------------------------------------------------------------
# Stacks: locks, backend, policies
# ---------------------------------------------------------------------------------------------


def test_each_stack_has_one_lock_shared_by_every_workflow() -> None:
    groups: dict[str, set[str | None]] = {}
    for run in pulumi_runs():
        concurrency = run.job.concurrency
        assert isinstance(concurrency, dict), f"{run.job}: no concurrency group"
        # Cancelling a running update can leave pending operations in the state.
        assert concurrency.get("cancel-in-progress") is False, str(run.job)
        groups.setdefault(run.stack, set()).add(run.concurrency_group)
    assert sorted(groups) == STACKS
    for stack, names in groups.items():
        assert len(names) == 1, f"{stack} is locked by several groups: {names}"
        assert stack in str(next(iter(names))), f"{stack}'s group does not name it"
    assert len({next(iter(names)) for names in groups.values()}) == len(groups)


def test_every_pulumi_job_uses_the_same_backend() -> None:
    jobs = {str(r.job): r.job for r in pulumi_runs()}
    jobs |= {str(job): job for job in all_jobs() if touches_aws(job)}
    for job in jobs.values():
        env = job.env
        assert {key: env.get(key) for key in BACKEND_ENV} == BACKEND_ENV, str(job)
    for run in pulumi_runs():
        assert run.step["with"].get("cloud-url") == "${{ vars.PULUMI_BACKEND_URL }}", str(run.job)


def test_the_policy_pack_runs_on_every_preview_and_update_with_its_stack_config() -> None:
    runs = [r for r in pulumi_runs() if r.command in {"preview", "up", "update"}]
    assert runs
    for run in runs:
        settings = run.step["with"]
        packs = str(settings.get("policyPacks", "")).replace(",", " ").split()
        assert "policy" in packs, f"{run.job}: {run.command} {run.stack} without the policy pack"
        # Without its config file the pack falls back to its strictest default on every stack.
        configs = str(settings.get("policyPackConfigs", "")).replace("${{ matrix.stack }}", "{}")
        assert configs.format(run.stack) == f"policy/config.{run.stack}.json", str(run.job)
        # The CLI runs the pack with the interpreter PulumiPolicy.yaml names; nothing creates it
        # unless an earlier step does.
        earlier = " ".join(run_text(step) for step in run.job.steps[: run.index])
        assert "policy/requirements.txt" in earlier, f"{run.job}: the pack's venv is not built"


def test_the_policy_pack_and_configs_the_workflows_name_exist() -> None:
    # Without them every preview and update fails in CI, long after the pull request was merged.
    assert (REPO / "policy" / "PulumiPolicy.yaml").is_file(), "no policy pack at ./policy"
    assert (REPO / "policy" / "requirements.txt").is_file()
    for stack in STACKS:
        assert (REPO / "policy" / f"config.{stack}.json").is_file(), f"no policy config for {stack}"


# ---------------------------------------------------------------------------------------------
# Deployments
# ---------------------------------------------------------------------------------------------


def test_dev_is_deployed_on_push_to_main() -> None:
    ups = [r for r in pulumi_runs() if r.stack == "dev" and r.command in {"up", "update"}]
    assert ups
    for run in ups:
        push = triggers(run.job.workflow).get("push") or {}
        assert "main" in push.get("branches", []), f"{run.job}: not on push to main"


def test_dev_smoke_test_is_skipped_only_when_the_schedule_holds_zero_tasks() -> None:
    steps = load(WORKFLOWS / "deploy-dev.yml")["jobs"]["deploy"]["steps"]
    smoke = next(s for s in steps if "smoke_test.py" in str(s.get("run", "")))
    wanted = next(s for s in steps if s.get("id") == "wanted")
    assert steps.index(wanted) < steps.index(smoke)
    assert "desiredCount" in wanted["run"] and "GITHUB_OUTPUT" in wanted["run"]
    assert smoke["if"] == "steps.wanted.outputs.desired != '0'"


def test_prod_is_changed_only_behind_the_production_environment() -> None:
    changes = [r for r in pulumi_runs() if r.stack == "prod" and r.command in MUTATING_COMMANDS]
    assert changes
    for run in changes:
        assert run.job.environment == "production", f"{run.job}: prod changed without approval"
        events = set(triggers(run.job.workflow))
        assert events <= {"workflow_dispatch", "push"}, f"{run.job}: triggered by {events}"
        push = triggers(run.job.workflow).get("push") or {}
        assert not push.get("branches"), f"{run.job}: prod deployed on every push"


def test_prod_update_comes_after_a_preview() -> None:
    runs = pulumi_runs()
    for up in (r for r in runs if r.stack == "prod" and r.command in {"up", "update"}):
        earlier = needs(up.job)
        previewed = [
            r
            for r in runs
            if r.stack == "prod"
            and r.command == "preview"
            and r.job.file == up.job.file
            and (r.job.id in earlier or (r.job.id == up.job.id and r.index < up.index))
        ]
        assert previewed, f"{up.job}: prod updated without a preview first"


def test_every_update_is_followed_by_a_smoke_test_of_its_url() -> None:
    ups = [r for r in pulumi_runs() if r.command in {"up", "update"}]
    assert ups
    for up in ups:
        step_id = up.step.get("id")
        smoke = [
            step
            for step in up.job.steps[up.index + 1 :]
            if "scripts/smoke_test.py" in run_text(step)
        ]
        assert smoke, f"{up.job}: no smoke test after `up`"
        source = run_text(smoke[0]) + str(smoke[0].get("env", ""))
        from_step = step_id is not None and f"steps.{step_id}.outputs.url" in source
        from_cli = f"pulumi stack output url --stack {up.stack}" in source
        assert from_step or from_cli, f"{up.job}: the smoke test does not get this stack's url"


def test_integration_workflow_is_scheduled_and_opts_in() -> None:
    workflow = load(WORKFLOWS / "integration.yml")
    assert {"schedule", "workflow_dispatch"} <= set(triggers(workflow))
    jobs = [job for job in all_jobs() if job.file == "integration.yml"]
    runs = [
        (job, i)
        for job in jobs
        for i, step in enumerate(job.steps)
        if "pytest" in run_text(step) and "tests/integration" in run_text(step)
    ]
    assert runs, "the integration workflow does not run tests/integration"
    for job, index in runs:
        assert job.env.get("MARIO_INTEGRATION") == "1", str(job)
        assert any(uses(s, PULUMI_ACTION) for s in job.steps[:index]), f"{job}: no Pulumi CLI"


# ---------------------------------------------------------------------------------------------
# Hygiene
# ---------------------------------------------------------------------------------------------


def test_actions_are_pinned_to_a_release() -> None:
    refs: dict[str, set[str]] = {}
    for job in all_jobs():
        for step in job.steps:
            if "uses" not in step:
                continue
            action, _, ref = str(step["uses"]).partition("@")
            # A branch moves under you; a major tag or a commit does not change without a release.
            assert re.fullmatch(r"v\d+(\.\d+){0,2}|[0-9a-f]{40}", ref), f"{job}: {step['uses']}"
            refs.setdefault(action, set()).add(ref)
    for action, versions in refs.items():
        assert len(versions) == 1, f"{action} at several versions: {sorted(versions)}"


def test_the_pulumi_cli_matches_the_pinned_sdk() -> None:
    pinned = re.search(r"^pulumi==(\S+)", (REPO / "requirements.txt").read_text(), re.MULTILINE)
    assert pinned, "requirements.txt does not pin pulumi"
    for job in all_jobs():
        for step in job.steps:
            if uses(step, PULUMI_ACTION):
                requested = str((step.get("with") or {}).get("pulumi-version", ""))
                resolved = (
                    job.env.get("PULUMI_VERSION")
                    if "env.PULUMI_VERSION" in requested
                    else requested
                )
                assert str(resolved) == pinned.group(1), f"{job}: CLI {resolved!r}"


def test_python_jobs_use_the_projects_python_and_venv() -> None:
    for job in all_jobs():
        runs = [run_text(step) for step in job.steps]
        if not any("make " in text or "pytest" in text for text in runs):
            continue
        pythons = [
            str((s.get("with") or {}).get("python-version"))
            for s in job.steps
            if uses(s, "actions/setup-python@")
        ]
        assert pythons == ["3.11"], f"{job}: python {pythons}"
        assert "make venv" in runs, f"{job}: no `make venv`"


def test_every_job_has_a_timeout() -> None:
    # The default is six hours; a stuck deployment should not burn them.
    for job in all_jobs():
        assert isinstance(job.spec.get("timeout-minutes"), int), str(job)
