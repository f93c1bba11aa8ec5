"""Run ``__main__.py`` under the Pulumi SDK's mock runtime and record everything it declares.

The one recording layer shared by the unit tests and the offline plan. Configuration comes from
the real ``Pulumi.yaml`` defaults and ``Pulumi.<stack>.yaml``, merged the way the CLI merges them.
Nothing here opens a network connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import runpy
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime.config as runtime_config
import yaml
from pulumi.runtime import mocks, rpc
from pulumi.runtime.settings import ROOT
from pulumi.runtime.stack import wait_for_rpcs

REPO = Path(__file__).resolve().parent.parent
PROJECT = "mario-fargate"
# Region used for placeholders when the stack does not set one (validation reports it anyway).
_FALLBACK_REGION = "us-east-1"


def placeholder(logical_name: str, prop: str) -> str:
    """How a value that AWS assigns at deploy time is shown: ``<mario-alb.dnsName>``."""
    return f"<{logical_name}.{prop}>"


def is_placeholder(value: object) -> bool:
    return isinstance(value, str) and "<" in value and ">" in value


# ---------------------------------------------------------------------------------------------
# Configuration, as the CLI would pass it
# ---------------------------------------------------------------------------------------------


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _as_config_string(value: Any) -> str:
    # The CLI hands the program every value as a string; objects and arrays as JSON. Encrypted
    # values cannot be decrypted without the stack's key: a marked stand-in takes their place.
    if _is_secure(value):
        return "<encrypted in the stack file>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def stack_names(repo: Path = REPO) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in repo.glob("Pulumi.*.yaml"))


def stack_config(
    stack: str, overrides: Mapping[str, Any] | None = None, repo: Path = REPO
) -> dict[str, str]:
    """Project defaults from Pulumi.yaml, then the stack file, then ``overrides``.

    Keys of ``overrides`` without a namespace are taken as project keys; a value of None removes
    the key (to test a missing setting).
    """
    project = yaml.safe_load((repo / "Pulumi.yaml").read_text())
    config: dict[str, str] = {}
    for key, spec in (project.get("config") or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            full = key if ":" in key else f"{project['name']}:{key}"
            config[full] = _as_config_string(spec["default"])
    stack_file = repo / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        raise FileNotFoundError(f"no stack file {stack_file.name} (stacks: {stack_names(repo)})")
    for key, value in ((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}).items():
        config[key] = _as_config_string(value)
    for key, value in (overrides or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = _as_config_string(value)
    return config


def stack_secret_keys(stack: str, repo: Path = REPO) -> set[str]:
    """Keys the stack file stores encrypted (``key: {secure: ...}``)."""
    data = yaml.safe_load((repo / f"Pulumi.{stack}.yaml").read_text()) or {}
    return {k for k, v in (data.get("config") or {}).items() if _is_secure(v)}


# ---------------------------------------------------------------------------------------------
# What a run records
# ---------------------------------------------------------------------------------------------


@dataclass
class Resource:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str
    provider: str
    providers: dict[str, str]
    dependencies: list[str]
    ignore_changes: list[str]
    custom: bool

    def __getitem__(self, key: str) -> Any:
        return self.inputs[key]

    def __contains__(self, key: object) -> bool:
        return key in self.inputs

    def get(self, key: str, default: Any = None) -> Any:
        return self.inputs.get(key, default)


@dataclass
class Run:
    stack: str
    config: dict[str, str]
    resources: list[Resource]
    outputs: dict[str, Any]
    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> Resource:
        found = self.of_type(type_)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_}, found {[r.name for r in found]}")
        return found[0]

    def named(self, name: str, type_: str | None = None) -> Resource:
        found = [r for r in self.resources if r.name == name and type_ in (None, r.type)]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> Resource:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise KeyError(urn)

    def by_id(self, id_: str) -> Resource:
        """The resource whose id or ARN a value refers to (mock ids and ARNs are unique)."""
        for r in self.resources:
            if id_ in (r.outputs.get("id"), r.outputs.get("arn")):
                return r
        raise KeyError(id_)

    def children(self, parent: Resource) -> list[Resource]:
        return [r for r in self.resources if r.parent == parent.urn]


# ---------------------------------------------------------------------------------------------
# The mocks
# ---------------------------------------------------------------------------------------------


class RecordingMocks(pulumi.runtime.Mocks):
    """Return inputs plus plausible, clearly marked values for what AWS would compute."""

    def __init__(self, region: str) -> None:
        self.region = region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        state = dict(args.inputs)
        name, typ = args.name, args.typ
        if typ.startswith("pulumi:providers:"):
            return placeholder(name, "id"), state
        if typ == "awsx:ec2:Vpc":
            # Its inputs are not its outputs (natGateways is a config object in, resources out).
            return placeholder(name, "id"), self._vpc_outputs(name, state)
        resource_id = placeholder(name, "id")
        state.setdefault("id", resource_id)
        state.setdefault("name", placeholder(name, "name"))
        state.setdefault("arn", placeholder(name, "arn"))
        if typ == "aws:lb/loadBalancer:LoadBalancer":
            state["dnsName"] = placeholder(name, "dnsName")
            state["arnSuffix"] = placeholder(name, "arnSuffix")
            state["zoneId"] = placeholder(name, "zoneId")
        elif typ == "aws:lb/targetGroup:TargetGroup":
            state["arnSuffix"] = placeholder(name, "arnSuffix")
        elif typ == "aws:acm/certificate:Certificate":
            # One DNS record to prove control of the domain, as ACM hands out.
            state["domainValidationOptions"] = [
                {
                    "domainName": state.get("domainName"),
                    "resourceRecordName": placeholder(name, "validationRecordName"),
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": placeholder(name, "validationRecordValue"),
                }
            ]
        elif typ == "aws:route53/record:Record":
            state["fqdn"] = state.get("name")
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        # Results with an empty list of failures (the SDK iterates it; None is not accepted).
        return self._invoke(args), []

    def _invoke(self, args: pulumi.runtime.MockCallArgs) -> dict:
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if args.token == "aws:route53/getZone:getZone":
            zone = args.args.get("name", "")
            return {"zoneId": placeholder(f"zone {zone}", "zoneId"), "name": zone}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            account = placeholder("account", "id")
            return {"accountId": account, "arn": placeholder("caller", "arn"), "userId": ""}
        raise NotImplementedError(f"no mock for invoke {args.token}")

    @staticmethod
    def _vpc_outputs(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        # What awsx would return: one subnet id per CIDR block of each subnet spec.
        ids: dict[str, list[str]] = {"Public": [], "Private": [], "Isolated": []}
        for spec in inputs.get("subnetSpecs") or []:
            kind = spec["type"]
            for i, _ in enumerate(spec.get("cidrBlocks") or []):
                ids[kind].append(placeholder(f"{name}-{kind.lower()}-{i + 1}", "subnetId"))
        return {
            "vpcId": placeholder(name, "vpcId"),
            "publicSubnetIds": ids["Public"],
            "privateSubnetIds": ids["Private"],
            "isolatedSubnetIds": ids["Isolated"],
        }


class RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, also keeping what it drops: parent, dependencies, options."""

    def __init__(self, recorder: RecordingMocks) -> None:
        super().__init__(recorder)
        self.records: list[Resource] = []
        self.component_outputs: dict[str, dict[str, Any]] = {}
        # The SDK answers registrations and invokes on worker threads, each with an event loop of
        # its own; they are closed with the run so none is left for interpreter exit to reap.
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()

    def _note_thread_loop(self) -> None:
        if threading.current_thread() is threading.main_thread():
            return
        # RuntimeError: this call needed no loop (the stack's own registration).
        with contextlib.suppress(RuntimeError):
            self.thread_loops.add(asyncio.get_event_loop_policy().get_event_loop())

    def Invoke(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().Invoke(request)
        self._note_thread_loop()
        return response

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        self._note_thread_loop()
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = self.resources[response.urn]
        inputs = rpc.deserialize_properties(request.object)
        self.records.append(
            Resource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                inputs=_plain(inputs),
                outputs=_plain(registration.state),
                parent=request.parent,
                provider=request.provider,
                providers=dict(request.providers),
                dependencies=list(request.dependencies),
                ignore_changes=list(request.ignoreChanges),
                custom=bool(request.custom),
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        self.component_outputs[request.urn] = _plain(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)


@dataclass(frozen=True)
class Secret:
    """A value the program marked secret. It prints as [secret]; ``.value`` is for tests only."""

    value: Any = field(repr=False)

    def __str__(self) -> str:
        return "[secret]"

    def __repr__(self) -> str:
        return "Secret([secret])"


def _plain(value: Any) -> Any:
    """Deserialised properties as plain dicts, lists and scalars; secrets wrapped in Secret."""
    if isinstance(value, Mapping) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return Secret(_plain(value.get("value")))
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Running the program
# ---------------------------------------------------------------------------------------------


def run_program(
    stack: str,
    overrides: Mapping[str, Any] | None = None,
    repo: Path = REPO,
    secrets: Mapping[str, str] | None = None,
) -> Run:
    """Run ``__main__.py`` for ``stack`` under mocks; raises what the program raises.

    ``secrets`` are set like ``overrides`` but marked secret, as `pulumi config set --secret`.
    The program is deterministic for a given configuration, so a run is made once per process
    and configuration and then shared: treat the returned ``Run`` as read-only.
    """
    secret_values = {(k if ":" in k else f"{PROJECT}:{k}"): v for k, v in (secrets or {}).items()}
    config = stack_config(stack, {**(overrides or {}), **secret_values}, repo)
    secret_keys = sorted(stack_secret_keys(stack, repo) | set(secret_values))
    key = (stack, str(repo), tuple(sorted(config.items())), tuple(secret_keys))
    if key not in _RUNS:
        # A fresh context and event loop per run: the SDK keeps its settings, config and root
        # stack in context variables, so runs never see each other's state.
        _RUNS[key] = contextvars.copy_context().run(
            _run_in_context, stack, config, secret_keys, repo
        )
    return _RUNS[key]


_RUNS: dict[tuple[object, ...], Run] = {}


def _run_in_context(stack: str, config: dict[str, str], secret_keys: list[str], repo: Path) -> Run:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    recorder = RecordingMocks(config.get("aws:region") or _FALLBACK_REGION)
    monitor = RecordingMonitor(recorder)
    try:
        ROOT.set(None)
        runtime_config.set_all_config(config, secret_keys)
        pulumi.runtime.set_mocks(
            recorder, project=PROJECT, stack=stack, preview=False, monitor=monitor
        )
        if str(repo) not in sys.path:
            sys.path.insert(0, str(repo))
        try:
            runpy.run_path(str(repo / "__main__.py"), run_name="__main__")
        finally:
            # Let queued registrations finish (or surface their errors) before leaving the loop.
            loop.run_until_complete(wait_for_rpcs())
        root = ROOT.get()
        exported = dict(getattr(root, "outputs", {}) or {})
        outputs = {
            key: _plain(loop.run_until_complete(pulumi.Output.from_input(value).future()))
            for key, value in exported.items()
        }
        return Run(
            stack=stack,
            config=config,
            resources=list(monitor.records),
            outputs=outputs,
            component_outputs=dict(monitor.component_outputs),
        )
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
        for thread_loop in monitor.thread_loops:
            thread_loop.close()
