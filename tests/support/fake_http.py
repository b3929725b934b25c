"""A small HTTP server for fake APIs: 127.0.0.1, a free port, a daemon thread, keep-alive, injectable faults.

``FakeServer.handle`` is implemented by each fake (Okta, Graph); it calls ``take_fault(path, page)`` before
serving a page so that tests can make page N of an endpoint fail once, a few times or for good.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Fault:
    """Answer requests for ``path`` (page ``page``; None = any) with ``status``, ``times`` times (None = always)."""

    path: str
    status: int
    page: int | None = None
    times: int | None = 1
    headers: dict[str, str] = field(default_factory=dict)
    code: str | None = None
    served: int = 0


@dataclass
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int = 0
    form: dict[str, str] = field(default_factory=dict)
    body: str = ""  # the raw request body (JSON APIs read this rather than ``form``)


class FakeServer:
    """Base of the fake APIs: subclasses implement ``handle`` and ``error``."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> FakeServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                self.answer("POST")

            def answer(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                seen = Seen(method, parts.path, query, {k.lower(): v for k, v in self.headers.items()})
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    body = self.rfile.read(length).decode("utf-8", "replace")
                    seen.body = body
                    seen.form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
                with server._lock:
                    server.requests.append(seen)
                try:
                    response = server.handle(seen)
                except Exception as exc:  # a bug in the fake shows up as a 500 with the reason
                    response = server.error(500, "fakeServerBug", repr(exc))
                seen.status = response.status
                self.send_response(response.status)
                for name, value in response.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name=type(self).__name__, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # faults ------------------------------------------------------------------------------------------------
    def fail(self, path: str, status: int, *, page: int | None = None, times: int | None = 1,
             headers: dict[str, str] | None = None, code: str | None = None) -> Fault:
        fault = Fault(path, status, page, times, dict(headers or {}), code)
        with self._lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, path: str, page: int) -> Response | None:
        """The error response of the first active fault for this path and page, if any."""
        with self._lock:
            for fault in self.faults:
                if fault.path == path and fault.page in (None, page) and (fault.times is None
                                                                          or fault.served < fault.times):
                    fault.served += 1
                    break
            else:
                return None
        response = self.error(fault.status, fault.code)
        response.headers.extend(fault.headers.items())
        return response

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    # to implement ------------------------------------------------------------------------------------------
    def handle(self, request: Seen) -> Response:
        raise NotImplementedError

    def error(self, status: int, code: str | None = None, message: str | None = None) -> Response:
        raise NotImplementedError


def json_response(status: int, payload: object, headers: list[tuple[str, str]] | None = None,
                  content_type: str = "application/json") -> Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, [("Content-Type", content_type), *(headers or [])])


class Sleeps:
    """A ``RetryPolicy.sleep`` that records the waits instead of sleeping, so retry tests take no time."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
