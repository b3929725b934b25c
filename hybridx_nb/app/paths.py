"""Paths of notebook parameters, made absolute the same way for the CLI, the batch and a hand run."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def resolve_paths(raw: dict[str, Any], cwd: Path | None = None) -> dict[str, Any]:
    """Relative input/output paths made absolute: against the working folder, or against the repository root when
    the notebook was opened from ``notebooks/`` by hand (JupyterLab starts the kernel there)."""
    cwd = Path(cwd or Path.cwd())
    base = cwd.parent if cwd.name == "notebooks" and (cwd.parent / "hybridx_nb").is_dir() else cwd
    out = dict(raw)
    for name in ("snapshot", "ad", "entra", "okta", "okta_app_users", "tenant", "previous", "entra_groups",
                 "entra_contacts", "out"):
        value = out.get(name)
        if value and not Path(value).expanduser().is_absolute():
            out[name] = str((base / Path(value).expanduser()).resolve())
    return out
