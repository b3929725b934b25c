"""What the live collectors (Okta, Microsoft Graph) share: a bounded retry policy, progress reporting, and
running their asyncio code from synchronous callers.

Both SDKs retry on their own, but with waits that cannot be bounded or shortened (msgraph-sdk adds up to a
second of jitter and honours any ``Retry-After``; the okta SDK sleeps until ``X-Rate-Limit-Reset`` plus a second
and never retries a 500). The collectors switch the SDK retries off and retry each page under one
``RetryPolicy`` instead, so a page that keeps failing ends in a ``CollectionError`` naming it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

#: ``progress(table, objects_so_far, pages_so_far)``, called after every page.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a request that failed with 429, 5xx or a network error."""

    attempts: int = 5  # tries per request, the first one included
    backoff: float = 1.0  # seconds before the second try, doubled for each further one
    max_wait: float = 120.0  # cap on any one wait, including the server's Retry-After / X-Rate-Limit-Reset
    sleep: Callable[[float], Awaitable[Any]] = field(default=asyncio.sleep, repr=False)

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based): the server's hint, else backoff."""
        wait = hint if hint is not None and hint >= 0 else self.backoff * 2 ** (attempt - 1)
        return min(max(wait, 0.0), self.max_wait)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion, also from a thread that already runs an event loop (a notebook)."""
    try:
        asyncio.get_running_loop()
        in_loop = True
    except RuntimeError:
        in_loop = False
    if not in_loop:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="hybridx-collect")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def report(progress: Progress | None, table: str, objects: int, pages: int) -> None:
    if progress is not None:
        progress(table, objects, pages)
