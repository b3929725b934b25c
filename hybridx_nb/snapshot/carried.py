"""Which columns a snapshot's sources actually carried: an attribute that was not exported is unknown, not empty.

The readers record it in the snapshot's coverage (``snapshot/coverage.py``, docs/domain.md §8): per canonical
column ``exported``, ``partial`` (some records lacked the key; they name it in their ``not_exported`` cell) or
``missing``. The takeover comparison and the Exchange checks compare a column only where it was carried
(docs/domain.md §14).
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from hybridx_nb.core.columns import one_array
from hybridx_nb.snapshot.coverage import MISSING
from hybridx_nb.snapshot.store import Snapshot


def carried_columns(snap: Snapshot, table: str) -> frozenset[str]:
    """The columns of ``table`` that its export carried for at least some records."""
    if not snap.has(table):
        return frozenset()
    return frozenset(c for c in snap[table].columns if snap.coverage.status(table, c) != MISSING)


def not_carried_rows(snap: Snapshot, table: str, column: str) -> np.ndarray:
    """Per row of ``table``, whether its record lacked ``column`` (a partial export's ``not_exported`` cell)."""
    frame = snap[table]
    if "not_exported" not in frame.columns or not len(frame):
        return np.zeros(len(frame), dtype=bool)
    lists = one_array(frame["not_exported"].array.__arrow_array__())
    hit = pc.equal(pc.list_flatten(lists), column).fill_null(False).to_numpy(zero_copy_only=False)
    rows = pc.list_parent_indices(lists).to_numpy()[hit]
    out = np.zeros(len(frame), dtype=bool)
    out[rows] = True
    return out
