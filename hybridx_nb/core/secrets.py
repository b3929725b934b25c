"""Secrets: one resolver for references, one scrubber for text that may carry a credential.

A secret is never written in a file or a parameter. It is a reference, ``env:NAME`` (an environment variable) or
``keyring:service/user`` (the OS keyring, when the ``keyring`` package is installed), resolved by
``resolve_secret`` at the moment it is needed, and checked by the same function before any work starts. Every
value resolved in this process is remembered (in memory only), so that ``scrub`` removes it from any text, along
with what looks like a credential whatever its origin: Authorization header values (Bearer, SSWS, Basic, DPoP),
JWTs, ``client_secret``/``password``/``token`` fields of forms, query strings and JSON, and the password of a
URL (``scheme://user:password@host``). Error text from a server (Graph, Okta, LDAP) goes through ``scrub``
before it reaches a message, a log or a file.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from hybridx_nb.core.errors import HybridxError

SECRET_FIX = ("write a reference, never the secret itself: env:NAME (an environment variable that holds it) or "
              "keyring:service/user (the OS keyring)")
REDACTED = "[redacted]"

_REVEALED: set[str] = set()
_LOCK = threading.Lock()


class SecretError(HybridxError):
    """A secret reference that cannot be resolved (the message names the reference, never a value)."""


def is_secret_ref(text: object) -> bool:
    """True for ``env:NAME`` and ``keyring:service/user``."""
    return isinstance(text, str) and bool(
        re.fullmatch(r"env:[A-Za-z_][A-Za-z0-9_]*|keyring:[^/]+(?:/[^/]+)*/[^/]+", text))


def _remember(value: str) -> str:
    if len(value) >= 4:  # shorter values would scrub ordinary words; no real credential is that short
        with _LOCK:
            _REVEALED.add(value)
    return value


def resolve_secret(ref: str, what: str = "secret") -> str:
    """The value behind a reference; a ``SecretError`` naming the reference (never a value) when there is none."""
    if not isinstance(ref, str) or not is_secret_ref(ref):
        raise SecretError(f"{what} is not a secret reference: {SECRET_FIX}")
    if ref.startswith("env:"):
        value = os.environ.get(ref[4:])
        if not value:
            raise SecretError(f"{what} {ref}: the environment variable {ref[4:]} is not set or empty; set it in "
                              "the shell that runs hybridx (it is read, never stored)")
        return _remember(value)
    try:
        import keyring
    except ImportError:
        raise SecretError(f"{what} {ref}: the keyring package is not installed (pip install keyring), "
                          "or use env:NAME") from None
    service, user = ref[8:].rsplit("/", 1)
    try:
        value = keyring.get_password(service, user)
    except Exception as exc:  # any backend failure (locked keyring, no backend) is the user's to fix
        raise SecretError(f"{what} {ref}: the keyring could not be read ({type(exc).__name__})") from None
    if not value:
        raise SecretError(f"{what} {ref}: no keyring entry for service {service!r}, user {user!r}")
    return _remember(value)


@dataclass(frozen=True)
class Secret:
    """A reference to a secret; ``str``/``repr`` show the reference only."""

    ref: str

    def reveal(self) -> str:
        """The secret's value, read now from its environment variable or keyring entry."""
        return resolve_secret(self.ref)

    def __repr__(self) -> str:
        return f"Secret({self.ref!r})"

    __str__ = __repr__


def url_has_password(url: str) -> bool:
    """True when a URL carries a password in its user part (``scheme://user:password@host``)."""
    try:
        return urlsplit(url.strip()).password is not None
    except ValueError:  # a malformed URL: treat an '@' after '://' with a ':' before it as a password
        return bool(re.search(r"://[^/@\s]*:[^/@\s]*@", url))


_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/:@\s]*):[^/@\s]+@")
_AUTH_HEADER = re.compile(r"(?i)\b((?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?"
                          r"(?:(?:Bearer|SSWS|Basic|DPoP|Negotiate|NTLM)\s+)?)[^\s\"',}]+")
_SCHEME_TOKEN = re.compile(r"(?i)\b((?:Bearer|SSWS|Basic|DPoP|Negotiate|NTLM)\s+)[A-Za-z0-9._~+/=-]{6,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_KEYS = (r"(?:client_secret|client_assertion|password|passwd|pwd|secret|api[_-]?key|access_token|refresh_token|"
         r"id_token|token)")
#: ``"key": "value"`` (JSON) or ``key=value`` (forms, query strings); ``key: text`` in prose is left alone.
_FIELD = re.compile(rf"(?i)([\"']{_KEYS}[\"']\s*:\s*|\b{_KEYS}\s*=\s*)"
                    r"(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s\"'&,;}]+)")


def _field(match: re.Match[str]) -> str:
    value = match[2]
    if value.strip("\"'") == REDACTED:
        return match[0]
    quote = value[0] if value[:1] in ("\"", "'") else ""
    return f"{match[1]}{quote}{REDACTED}{quote}"


def scrub(text: object, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without ``secrets``, without every secret this process resolved, and without anything shaped
    like a credential (Authorization values, JWTs, secret fields of forms/JSON, URL passwords)."""
    out = str(text)
    with _LOCK:
        known = sorted({s for s in [*secrets, *_REVEALED] if s}, key=len, reverse=True)
    for secret in known:
        out = out.replace(secret, REDACTED)
    out = _AUTH_HEADER.sub(lambda m: m[1] + REDACTED, out)
    out = _SCHEME_TOKEN.sub(lambda m: m[1] + REDACTED, out)
    out = _JWT.sub(REDACTED, out)
    out = _FIELD.sub(_field, out)
    return _URL_USERINFO.sub(lambda m: m[1] + ":" + REDACTED + "@", out)


def server_text(text: object, limit: int = 300) -> str:
    """Text a server sent (an error message, a diagnostic), scrubbed and cut to ``limit`` characters on one
    line: a hostile or verbose server cannot flood a message or smuggle a credential into it."""
    flat = " ".join(scrub(text).split())
    return flat if len(flat) <= limit else flat[:limit] + f"… ({len(flat):,} characters)"


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs every record it sees (the message with its arguments merged, and the
    exception text), so that an SDK that logs whole requests cannot print a credential."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep what can be shown
            message = str(record.msg)
        record.msg, record.args = scrub(message, self.secrets), None
        if record.exc_info:
            import traceback

            record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)), self.secrets)
            record.exc_info = None
        return True
