"""Shared test fixtures. Helpers for fake servers and fixtures live in tests/support/ (importable as ``support``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import ROOT

ARTIFACTS = ROOT / "test-artifacts"


def require(env_var: str, reason: str) -> None:
    """Skip for a missing tool on a laptop; fail instead where CI sets ``env_var=1`` (see .ci/run)."""
    if os.environ.get(env_var) == "1":
        pytest.fail(f"{reason} (required because {env_var}=1)")
    pytest.skip(reason)


@pytest.fixture
def artifacts_dir() -> Path:
    """A folder kept after the run for screenshots and rendered reports (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(params=["in memory", "streamed"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Readers' tests run twice where a reader streams big files: on the file in memory (as a small export is
    read), and streamed in blocks of a few hundred bytes, so that every test file is "big" and characters, lines
    and pages are cut at block ends."""
    if request.param == "streamed":
        from hybridx_nb.sources import stream

        monkeypatch.setattr(stream, "BLOCK", 509)
    return request.param
