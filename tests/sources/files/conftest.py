"""Readers' tests run twice where a reader streams big files: once on the file in memory (as a small export is
read) and once streamed in blocks of a few hundred bytes, so every test file is "big" and characters, lines and
pages are cut at block ends."""

from __future__ import annotations

import pytest

from hybridx_nb.sources import stream


@pytest.fixture(params=["in memory", "streamed"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "streamed":
        monkeypatch.setattr(stream, "BLOCK", 509)
    return request.param
