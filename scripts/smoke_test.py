"""Smoke test: wait until a deployed stack's URL serves the game page.

Usage: python scripts/smoke_test.py URL [--timeout SECONDS]

Polls URL with capped exponential backoff until it answers HTTP 200 with the game's <title>; exits 0
then. After the timeout it exits 1 and prints what it last saw. Standard library only, so it runs
before (or without) the project's virtual environment.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# The game page's title (see the image's facts in the README): a Tomcat error page, an ALB "503"
# page or an empty 200 from a half-ready target cannot contain it.
EXPECTED_TITLE = "<title>Infinite Mario - JavaScript</title>"

DEFAULT_TIMEOUT = 300.0
# The first pull of the ~640 MB image takes tens of seconds, then the target group's health checks
# must pass: early retries are cheap, later ones need not hammer the ALB.
FIRST_DELAY = 0.5
MAX_DELAY = 10.0
# One request may not hang for the whole budget (a black-holed address never refuses).
MAX_REQUEST_TIMEOUT = 10.0
# The page is a few KiB; reading more than this only wastes time on a wrong answer.
MAX_BODY_BYTES = 256 * 1024
EXCERPT_CHARS = 200


@dataclass(frozen=True)
class Observation:
    """What one request saw."""

    ok: bool
    summary: str


def _excerpt(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS] + "..."


def _error_body(error: urllib.error.HTTPError) -> str:
    try:
        with error:
            return error.read(MAX_BODY_BYTES).decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException, AttributeError):
        return ""  # The status line is the useful part; a body that will not read adds nothing.


def probe(url: str, timeout: float) -> Observation:
    """One GET of ``url``: ok only for HTTP 200 with the game's title in the body."""
    request = urllib.request.Request(url, headers={"User-Agent": "mario-fargate-smoke-test"})
    try:
        # urlopen follows redirects, so an HTTP -> HTTPS redirect on the load balancer still passes.
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
            body = response.read(MAX_BODY_BYTES).decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        # 4xx/5xx arrive as exceptions; the body (an ALB or Tomcat error page) says why.
        return Observation(False, f"HTTP {error.code}; body: {_excerpt(_error_body(error))!r}")
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        # Refused, reset, timed out, DNS not yet propagated for a new ALB, a malformed response.
        reason = getattr(error, "reason", error)
        return Observation(False, f"error: {reason}")
    if status != 200:
        return Observation(False, f"HTTP {status}; body: {_excerpt(body)!r}")
    if EXPECTED_TITLE not in body:
        return Observation(False, f"HTTP 200 without {EXPECTED_TITLE!r}; body: {_excerpt(body)!r}")
    return Observation(True, "HTTP 200 with the game page")


def _log(line: str) -> None:
    # Flushed: CI pipes stdout, and progress that shows up only at exit is no progress at all.
    print(line, flush=True)


def wait_for_game(
    url: str,
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = _log,
) -> tuple[bool, Observation, int]:
    """Probe until success or ``timeout`` seconds; returns (ok, last observation, attempts)."""
    deadline = clock() + timeout
    delay = FIRST_DELAY
    attempts = 0
    while True:
        attempts += 1
        remaining = deadline - clock()
        seen = probe(url, timeout=max(0.1, min(MAX_REQUEST_TIMEOUT, remaining)))
        if seen.ok:
            return True, seen, attempts
        remaining = deadline - clock()
        if remaining <= 0:
            return False, seen, attempts
        # Never sleep past the deadline: the last attempt lands on it rather than after it.
        pause = min(delay, remaining)
        log(f"attempt {attempts}: {seen.summary} (retrying in {pause:.1f} s)")
        sleep(pause)
        delay = min(delay * 2, MAX_DELAY)


def _positive_seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def _http_url(text: str) -> str:
    # Refuse file:// and friends, and catch an empty `pulumi stack output url` early.
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// URL, got {text!r}")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Wait until URL serves the Super Mario game page.")
    parser.add_argument("url", type=_http_url, help="the stack's `url` output")
    parser.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=DEFAULT_TIMEOUT,
        help=f"seconds to keep trying (default {DEFAULT_TIMEOUT:.0f})",
    )
    args = parser.parse_args(argv)

    started = time.monotonic()
    ok, last, attempts = wait_for_game(args.url, args.timeout)
    elapsed = time.monotonic() - started
    if ok:
        print(f"OK: {args.url} served the game page (attempt {attempts}, {elapsed:.1f} s)")
        return 0
    print(
        f"FAIL: {args.url} did not serve the game page within {args.timeout:g} s "
        f"({attempts} attempts). Last seen: {last.summary}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
