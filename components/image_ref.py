"""Container image references: validation and the Docker Hub path an ECR cache serves."""

from __future__ import annotations

import re

_REFERENCE = re.compile(
    r"^(?:(?P<host>[a-zA-Z0-9.-]+(?::[0-9]+)?)/)?"  # optional registry host[:port]
    r"(?P<path>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?P<tag>:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?P<digest>@sha256:[a-f0-9]{64})?$"
)
DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")


def is_valid(image: str) -> bool:
    try:
        _, path, _ = _split(image)
    except ValueError:
        return False
    # A registry host may have capitals; a repository path may not (Docker refuses to pull it).
    return path == path.lower()


def _split(image: str) -> tuple[str | None, str, str]:
    match = _REFERENCE.match(image)
    if match is None:
        raise ValueError(f"not an image reference: {image!r}")
    host, path = match["host"], match["path"]
    # Like Docker: the first component is a registry only if it looks like a host name.
    if host is not None and "." not in host and ":" not in host and host != "localhost":
        host, path = None, f"{host}/{path}"
    suffix = (match["tag"] or "") + (match["digest"] or "")
    return host, path, suffix


def is_docker_hub(image: str) -> bool:
    host, _, _ = _split(image)
    return host is None or host in DOCKER_HUB_HOSTS


def docker_hub_path(image: str) -> str:
    """``pengbai/mario:1`` -> ``pengbai/mario:1``; ``nginx`` -> ``library/nginx:latest``."""
    if not is_docker_hub(image):
        raise ValueError(f"{image!r} is not a Docker Hub image")
    _, path, suffix = _split(image)
    if "/" not in path:
        path = f"library/{path}"  # official images live under library/ on the registry
    return path + (suffix or ":latest")


def cache_prefix(stack: str) -> str:
    """ECR repository prefix for a stack's pull-through cache: unique per stack, 2-30 characters,
    runs of lower-case letters and digits joined by single separators (ECR's pattern)."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", stack.lower()).strip("-")
    return f"dockerhub-{cleaned}"[:30].rstrip("-")
