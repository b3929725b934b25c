"""An earlier assessment as the verify commands read it: its ``findings.csv`` (and ``readiness.csv``,
``summary.json``), or a snapshot folder assessed on the spot."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from hybridx_nb.core.errors import InputError

FIX = "give the --out folder of `hybridx assess` (it holds findings.csv), or a snapshot folder (manifest.json)"


@dataclass
class AssessmentView:
    """The findings (text columns, missing = NaN) and readiness rows of one assessment."""

    folder: Path
    findings: pd.DataFrame
    readiness: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def read_csv_text(path: Path) -> pd.DataFrame:
    """A CSV hybridx wrote, every column as text; empty fields are missing values."""
    try:
        table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 26),
                               parse_options=pacsv.ParseOptions(newlines_in_values=True),
                               convert_options=pacsv.ConvertOptions(strings_can_be_null=True, column_types={}))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(path, f"cannot read it as CSV ({exc})", fix=FIX) from None
    table = table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get)
    frame.columns = [c.lstrip("\ufeff") for c in frame.columns]
    return frame


def load_assessment(path: str | Path, *, anchor: str = "auto") -> AssessmentView:
    """The findings of an assessment folder, or of a snapshot folder run through the engine with ``anchor``."""
    path = Path(path)
    if (path / "findings.csv").is_file():
        findings = read_csv_text(path / "findings.csv")
        if "category" not in findings.columns:
            raise InputError(path / "findings.csv", "no 'category' column: not hybridx's findings.csv", fix=FIX)
        readiness = (read_csv_text(path / "readiness.csv") if (path / "readiness.csv").is_file()
                     else pd.DataFrame(columns=["DISTINGUISHEDNAME", "ATTRIBUTE", "ERROR", "VALUE"]))
        summary = {}
        if (path / "summary.json").is_file():
            summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        return AssessmentView(path, findings, readiness, summary)
    if (path / "manifest.json").is_file():
        from hybridx_nb.engine.match import EngineSettings, predict
        from hybridx_nb.readiness.rules import run_rules
        from hybridx_nb.snapshot.store import load_snapshot

        snap = load_snapshot(path)
        findings = predict(snap, EngineSettings(anchor=anchor)).findings
        joined = findings["category"].isin(["hard_match", "soft_match"]).to_numpy()
        readiness = run_rules(snap, pairs=findings.loc[joined, ["ad_dn", "entra_id"]].reset_index(drop=True))
        text = findings.astype({c: "str" for c in findings.columns})
        return AssessmentView(path, text.replace({"<NA>": np.nan}), readiness.astype("str"), {})
    if not path.exists():
        raise InputError(path, "folder not found", fix=FIX)
    raise InputError(path, "neither findings.csv nor manifest.json in this folder", fix=FIX)
