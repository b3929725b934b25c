"""Shared test helpers (importable as ``support``): fake servers, fixtures and the repository's fixed paths."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
DATA = ROOT / "tests" / "data" / "exports"  # export files written by the team in the shapes of real exports
