"""What the live HTTP collectors refuse: redirects, oversized answers and answers that are not UTF-8 text.

A read-only collector talks to one origin. A 3xx answer is a failed source, never followed: following it sent
the okta SDK's request to another origin (aiohttp drops the Authorization header there), which answered an empty
list, and a snapshot with 0 Okta users was written. An answer larger than ``MAX_BODY`` is not read into memory,
and one that is not UTF-8 is named as such rather than decoded with replacement characters (which would change
directory values silently).

The okta SDK reads through an aiohttp session it is given; ``okta_session`` builds one whose requests never
follow redirects and whose answers are capped. msgraph-sdk reads through httpx, under kiota's middleware (whose
RedirectHandler follows 3xx); ``GuardTransport`` sits below that middleware and raises before it sees one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx

from hybridx_nb.core.errors import CollectionError
from hybridx_nb.core.secrets import scrub

#: Largest answer read (bytes): a page of 999 Graph users or 500 Okta app users is a few MB.
MAX_BODY = 64 * 1024 * 1024


class RefusedAnswer(aiohttp.ClientPayloadError):
    """An answer hybridx will not use (a redirect, too large, not UTF-8); the text says which and what to do.

    A subclass of aiohttp's ClientError so that the okta SDK hands it back as the request's error."""


def redirect_text(status: int, location: str | None, origin: str) -> str:
    """One line for a refused redirect: where it pointed (host only, without any credential)."""
    target = urlsplit(location or "")
    where = f" to {target.scheme}://{target.hostname}" if target.hostname else (" within the same host" if location
                                                                                   else "")
    return (f"HTTP {status} redirect{where} refused: hybridx does not follow redirects; check that the URL "
            f"({origin}) is the service's own address, not an alias, proxy or sign-in page")


def _too_large(size: int | None) -> str:
    shown = f"{size:,} bytes" if size is not None else "more"
    return (f"the answer is too large ({shown}, limit {MAX_BODY:,} bytes): not read; a smaller page size "
            "(page_size in client.toml) keeps each answer small")


class _CappedResponse(aiohttp.ClientResponse):
    """An aiohttp response that refuses redirects, bodies over ``MAX_BODY`` and text that is not UTF-8."""

    async def read(self) -> bytes:
        if 300 <= self.status < 400:
            self.close()
            raise RefusedAnswer(redirect_text(self.status, self.headers.get("Location"),
                                              f"{self.url.scheme}://{self.url.host}"))
        if self._body is None:
            if self.content_length is not None and self.content_length > MAX_BODY:
                self.close()
                raise RefusedAnswer(_too_large(self.content_length))
            chunks, size = [], 0
            try:
                async for chunk in self.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise RefusedAnswer(_too_large(None))
                    chunks.append(chunk)
            except BaseException:
                self.close()
                raise
            self._body = b"".join(chunks)
        return await super().read()

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        body = await self.read()
        try:
            return body.decode(encoding or "utf-8")
        except (UnicodeDecodeError, LookupError):
            raise RefusedAnswer("the answer is not UTF-8 text (Okta and Graph answer UTF-8 JSON): check that the "
                                "URL points at the service, not a proxy or an error page") from None


class _NoRedirects:
    """The one method of an aiohttp session the okta SDK calls, with redirects switched off."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    def request(self, **params: Any) -> Any:
        return self.session.request(**params, allow_redirects=False)

    async def close(self) -> None:
        await self.session.close()


def okta_session() -> tuple[aiohttp.ClientSession, _NoRedirects]:
    """An aiohttp session for the okta SDK (to close) and the guarded view of it to hand to the SDK."""
    session = aiohttp.ClientSession(response_class=_CappedResponse)
    return session, _NoRedirects(session)


class _CappedStream(httpx.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self.stream, self.size = stream, 0

    async def __aiter__(self) -> Any:
        async for chunk in self.stream:
            self.size += len(chunk)
            if self.size > MAX_BODY:
                raise CollectionError(_too_large(None))
            yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()


class GuardTransport(httpx.AsyncBaseTransport):
    """The innermost httpx transport of the Graph client: refuses 3xx answers and caps the body."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if 300 <= response.status_code < 400:
            await response.aclose()
            raise CollectionError(scrub(redirect_text(response.status_code, response.headers.get("location"),
                                                      f"{request.url.scheme}://{request.url.host}")))
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY:
            await response.aclose()
            raise CollectionError(_too_large(int(length)))
        return httpx.Response(response.status_code, headers=response.headers, stream=_CappedStream(response.stream),
                              extensions=response.extensions, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()
