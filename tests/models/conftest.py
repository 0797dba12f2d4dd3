"""A real HTTP server on 127.0.0.1 (ephemeral port) serving files the tests make."""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    body: bytes
    claimed_length: int | None = None  # Content-Length sent, when it differs from len(body)
    delay: float = 0.0  # seconds to wait after the headers, before the body


@dataclass
class FileServer:
    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter = field(default_factory=Counter)

    def add(self, name: str, body: bytes, **kw) -> str:
        self.routes["/" + name] = Route(body, **kw)
        return f"{self.base}/{name}"


def _handler(server: FileServer):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            server.hits[self.path] += 1
            route = server.routes.get(self.path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            length = route.claimed_length if route.claimed_length is not None else len(route.body)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if route.delay:
                time.sleep(route.delay)
            try:
                self.wfile.write(route.body)
                self.wfile.flush()
            except OSError:
                pass  # the client gave up (timeout tests)
            # HTTP/1.0: the connection closes here, also when fewer bytes were sent than claimed.

        def log_message(self, *args):  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def file_server():
    srv = FileServer(base="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(srv))
    httpd.daemon_threads = True
    srv.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
