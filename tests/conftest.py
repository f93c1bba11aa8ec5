"""Shared fixtures: one recorded run of the real program per stack, reused by read-only tests.

A run is deterministic for a given stack file, and tests only read it, so it is computed once per
session (each run still gets its own context and event loop inside ``offline.harness``).
"""

from __future__ import annotations

import functools

import pytest

from components.config import Settings, parse
from offline.harness import Run, run_program, stack_config, stack_names

STACKS = stack_names()


@functools.cache
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
