"""Shared fixtures: the recorded run of the real program for each stack, and its settings.

``offline.harness.run_program`` makes each run once per configuration and shares it (each run
gets its own context and event loop), so tests that only read a run cost nothing after the first.
"""

from __future__ import annotations

import functools

import pytest

from components.config import Settings, parse
from offline.harness import Run, run_program, stack_config, stack_names

STACKS = stack_names()


def recorded(stack: str) -> Run:
    return run_program(stack)


@functools.cache
def settings_of(stack: str) -> Settings:
    """What the real stack file (plus Pulumi.yaml defaults) asks for."""
    return parse(stack_config(stack), stack)


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def run(stack: str) -> Run:
    return recorded(stack)


@pytest.fixture
def settings(stack: str) -> Settings:
    return settings_of(stack)
