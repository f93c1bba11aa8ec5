"""scripts/smoke_test.py against real HTTP servers on the loopback interface."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts import smoke_test

GAME_PAGE = (
    "<!DOCTYPE html><html><head><title>Infinite Mario - JavaScript</title></head>"
    '<body><canvas id="canvas" width="640" height="480"></canvas></body></html>'
)
# Short budgets keep the file fast; success cases return long before them.
TIMEOUT = "3"
SHORT_TIMEOUT = "1"


@dataclass(frozen=True)
class Reply:
    status: int
    body: str


class Server:
    """Answers GET with ``replies`` in turn, repeating the last one; counts the requests."""

    def __init__(self, replies: Sequence[Reply]) -> None:
        self.replies = list(replies)
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                reply = server.replies[min(server.requests, len(server.replies) - 1)]
                server.requests += 1
                payload = reply.body.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass  # Keep test output to the smoke test's own messages.

        # Port 0: the OS picks a free port, so parallel runs never collide.
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


Serve = Callable[[Sequence[Reply]], Server]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start servers on demand; all are stopped after the test."""
    servers: list[Server] = []

    def start(replies: Sequence[Reply]) -> Server:
        servers.append(Server(replies))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_game_page_passes(serve: Serve, capsys: pytest.CaptureFixture[str]) -> None:
    server = serve([Reply(200, GAME_PAGE)])

    assert smoke_test.main([server.url, "--timeout", TIMEOUT]) == 0
    assert server.requests == 1
    assert "OK" in capsys.readouterr().out


def test_page_without_the_title_fails_and_says_what_it_saw(
    serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve([Reply(200, "<html><head><title>Apache Tomcat</title></head></html>")])

    assert smoke_test.main([server.url, "--timeout", SHORT_TIMEOUT]) != 0
    message = capsys.readouterr().err
    assert "FAIL" in message
    assert "HTTP 200" in message
    assert "Apache Tomcat" in message  # a short part of the body it got instead
    assert server.requests >= 2  # it kept trying until the timeout


def test_retries_until_the_service_is_ready(
    serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    # What an ALB answers while no target is healthy yet, then the game.
    server = serve([Reply(503, "no healthy targets"), Reply(200, GAME_PAGE)])

    assert smoke_test.main([server.url, "--timeout", TIMEOUT]) == 0
    assert server.requests == 2
    assert "HTTP 503" in capsys.readouterr().out  # the retries are logged


def test_nothing_listening_fails_within_the_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    # A port that was free a moment ago: connections to it are refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    assert smoke_test.main([f"http://127.0.0.1:{port}/", "--timeout", SHORT_TIMEOUT]) != 0
    message = capsys.readouterr().err
    assert "FAIL" in message
    assert "error:" in message


@pytest.mark.parametrize("url", ["", "file:///etc/passwd", "127.0.0.1:8080"])
def test_only_http_urls_are_accepted(url: str) -> None:
    # An empty `pulumi stack output url` must fail loudly, not poll nothing for minutes.
    with pytest.raises(SystemExit) as exited:
        smoke_test.main([url, "--timeout", SHORT_TIMEOUT])
    assert exited.value.code == 2


def test_backoff_doubles_up_to_the_cap_and_never_passes_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Fake time: the real servers above show it works; this shows the schedule it keeps.
    now = [0.0]
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(
        smoke_test, "probe", lambda url, timeout: smoke_test.Observation(False, "HTTP 503")
    )
    ok, last, attempts = smoke_test.wait_for_game(
        "http://example.invalid/", 30.0, clock=lambda: now[0], sleep=sleep, log=lambda _: None
    )

    assert not ok
    assert last.summary == "HTTP 503"
    assert pauses[:6] == [0.5, 1.0, 2.0, 4.0, 8.0, smoke_test.MAX_DELAY]
    assert max(pauses) == smoke_test.MAX_DELAY
    assert sum(pauses) == pytest.approx(30.0)  # the last attempt lands on the deadline
    assert attempts == len(pauses) + 1
