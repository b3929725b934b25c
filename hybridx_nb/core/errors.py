"""Errors a consultant reads: what is wrong, where (file, line, column), and what to do."""

from __future__ import annotations

from pathlib import Path


class HybridxError(Exception):
    """Base of every error hybridx reports as a message rather than a traceback."""


class InputError(HybridxError):
    """An input file that cannot be used as it is."""

    def __init__(self, path: str | Path | None, problem: str, *, line: int | None = None,
                 column: str | None = None, fix: str | None = None) -> None:
        self.path, self.problem, self.line, self.column, self.fix = path, problem, line, column, fix
        where = str(path) if path is not None else "input"
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        text = f"{where}: {problem}"
        if fix:
            text += f"\n  what to do: {fix}"
        super().__init__(text)


class CollectionError(HybridxError):
    """A live source that could not be read completely; no partial snapshot is written."""
