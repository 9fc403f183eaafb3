"""Fixtures of the built-in procedure tests: the packages, a local HTTP server, runs executed here."""

import gzip
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.processes import PACKAGES

BUILTIN_PACKAGES = ["mod", "builtin", *PACKAGES.split(",")[1:], "tests.builtin.procs"]


@pytest.fixture(autouse=True)
def _builtin_packages(_procedure_packages, settings):
    settings.WORKFLOW_PROCEDURE_PACKAGES = BUILTIN_PACKAGES
    settings.WORKFLOW_SQL_DATABASES = ["default"]  # the test database, opted in


@pytest.fixture
def logger():
    return logging.getLogger("workflow.test.builtin")


class _Handler(BaseHTTPRequestHandler):
    """The routes the HTTP tests call; each answers from the path alone."""

    def do_GET(self) -> None:
        self._answer()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _answer(self) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        if parts[0] == "echo":  # what the request was, as JSON
            data = {
                "method": self.command,
                "query": parse_qs(url.query),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
            self._send(200, json.dumps(data).encode(), "application/json")
        elif parts[0] == "status":  # /status/503: that status, with a text body
            self._send(int(parts[1]), f"status {parts[1]} says no".encode(), "text/plain")
        elif parts[0] == "text":
            self._send(200, "héllo".encode("latin-1"), "text/plain; charset=iso-8859-1")
        elif parts[0] == "big":  # /big/N: N bytes of JSON-typed text, sent in small chunks
            self._send(200, b"x" * int(parts[1]), "application/json", chunk=4096)
        elif parts[0] == "gzip":  # a body that is much bigger once decompressed
            self._send(200, gzip.compress(b"y" * int(parts[1])), "text/plain", encoding="gzip")
        elif parts[0] == "slow":  # answers after /slow/SECONDS
            time.sleep(float(parts[1]))
            self._send(200, b"late", "text/plain")
        elif parts[0] == "redirect":
            self.send_response(302)
            self.send_header("Location", "/echo?redirected=1")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts[0] == "nan":
            self._send(200, b'{"value": NaN}', "application/json")
        else:
            self._send(404, b"not here", "text/plain")

    def _send(self, status: int, body: bytes, kind: str, *, chunk: int = 0, encoding: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Test", "yes")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            for start in range(0, len(body), chunk or len(body) or 1):
                self.wfile.write(body[start : start + (chunk or len(body))])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client read what it wanted and left

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def http_server():
    """A local HTTP server in a thread: its base URL, like http://127.0.0.1:PORT."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def execute(settings, tmp_path):
    """Create and execute a run of a flow here, as runflow does (a supervised child process)."""
    from runner import services
    from runner.log import shutdown_logging

    settings.WORKFLOW_LOG_FILE = str(tmp_path / "workflow.log")

    def run(flow, input: dict | None = None):
        created = services.create_run(flow, input=input or {}, trigger="test", triggered_by="t")
        return services.execute_run(created.pk)

    yield run
    shutdown_logging()  # the Log object (console, file, wf_syslog writer) is one per process
