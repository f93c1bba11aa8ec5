"""The public interface stays in step: Pulumi.yaml, the stack files, the README and the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from components.config import KEYS, NAMESPACE, parse
from offline.harness import REPO, stack_config

from .conftest import STACKS

PROJECT = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
README = (REPO / "README.md").read_text()
PULUMI_TYPES = {"string": str, "integer": int, "boolean": bool}


def test_project_declares_exactly_the_keys_the_program_reads() -> None:
    assert PROJECT["name"] == NAMESPACE
    assert list(PROJECT["config"]) == list(KEYS)


@pytest.mark.parametrize("key", list(KEYS))
def test_each_key_has_type_default_and_description(key: str) -> None:
    spec = PROJECT["config"][key]
    assert spec["type"] in PULUMI_TYPES
    # Without a default, a typed key would be required in every stack file.
    assert isinstance(spec["default"], PULUMI_TYPES[spec["type"]])
    assert len(spec["description"]) > 20


def test_project_defaults_alone_are_valid() -> None:
    # A new stack that sets only its region gets the safe (production-grade) defaults.
    defaults = {
        f"{NAMESPACE}:{k}": str(v["default"]).lower()
        if isinstance(v["default"], bool)
        else str(v["default"])
        for k, v in PROJECT["config"].items()
    }
    settings = parse({**defaults, "aws:region": "eu-west-1"}, "new")
    assert settings.deletion_protection and not settings.spot and settings.min_count >= 2


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_set_only_known_keys_and_a_region(stack: str) -> None:
    config = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert "aws:region" in config
    for key in config:
        namespace, _, name = key.partition(":")
        assert (namespace, name) == ("aws", "region") or (namespace == NAMESPACE and name in KEYS)


def test_dev_and_prod_list_the_same_keys() -> None:
    # Side by side, the two files show exactly how the environments differ.
    keys = [set(yaml.safe_load((REPO / f"Pulumi.{s}.yaml").read_text())["config"]) for s in STACKS]
    assert all(k == keys[0] for k in keys)


def _reference_rows() -> dict[str, list[str]]:
    section = README.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*`([A-Za-z:]+)`\s*\|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_readme_reference_documents_every_key_with_each_stacks_value() -> None:
    rows = _reference_rows()
    assert set(rows) == set(KEYS) | {"aws:region"}
    for key in KEYS:
        default, dev, prod = rows[key][1:4]
        expected_default = PROJECT["config"][key]["default"]
        assert default.strip("`") == _shown(expected_default), key
        assert dev.strip("`") == _shown_raw(stack_config("dev")[f"{NAMESPACE}:{key}"]), key
        assert prod.strip("`") == _shown_raw(stack_config("prod")[f"{NAMESPACE}:{key}"]), key


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value != "" else "(empty)"


def _shown_raw(text: str) -> str:
    return text if text != "" else "(empty)"


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in README and "make test" in ci


def test_no_file_mentions_a_stack_that_does_not_exist() -> None:
    mentioned = set(re.findall(r"Pulumi\.([a-z]+)\.yaml", README))
    assert mentioned <= set(STACKS) | {"stack"}, mentioned
    assert Path(REPO / "Pulumi.dev.yaml").exists()
