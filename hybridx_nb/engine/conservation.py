"""The engine's promise, asserted on every run: each input row ends in exactly one finding, with the sides its
category needs (README, Outputs)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hybridx_nb.core import columns
from hybridx_nb.core.vocabulary import CATEGORIES, PAIR_CATEGORIES
from hybridx_nb.engine.detail import factorize
from hybridx_nb.snapshot.store import Snapshot

_CAT = {name: i for i, name in enumerate(CATEGORIES)}


def check_rows(rows: pd.DataFrame, ad: pd.DataFrame, cloud: pd.DataFrame) -> None:
    """``check_conservation`` on the row numbers the findings are taken from: every AD row and every cloud row
    exactly once, with the sides its category needs (counting row numbers instead of hashing a million ids)."""
    problems = []
    for side, col, frame, key in (("AD", "_ad", ad, "object_guid"), ("cloud", "_cl", cloud, "id")):
        ids = rows[col].to_numpy()
        count = np.bincount(ids[ids >= 0], minlength=len(frame))
        for i in np.flatnonzero(count != 1)[:20]:
            problems.append(f"{side} row {frame[key].iloc[i]}: " + ("missing" if count[i] == 0 else
                                                                    f"appears {count[i] - 1} extra time(s)"))
    cat = rows["cat"].to_numpy()
    has_ad, has_cl = rows["_ad"].to_numpy() >= 0, rows["_cl"].to_numpy() >= 0
    pair = columns.isin_codes(cat, [_CAT[c] for c in PAIR_CATEGORIES])
    unknown = cat == _CAT["unknown"]  # one side or both (docs/domain.md §8)
    wrong = (pair & ~(has_ad & has_cl)) | (~pair & ~unknown & (has_ad == has_cl)) | (unknown & ~(has_ad | has_cl))
    wrong |= columns.isin_codes(cat, [_CAT["orphan_anchor"], _CAT["cloud_only"]]) & has_ad
    wrong |= (cat == _CAT["new_user"]) & has_cl
    if wrong.any():
        problems.append(f"{int(wrong.sum())} row(s) with the wrong sides for their category")
    if problems:
        raise AssertionError("findings do not account for every input row exactly once:\n  " + "\n  ".join(problems))


def check_conservation(snap: Snapshot, findings: pd.DataFrame) -> None:
    """Raise AssertionError naming every AD or cloud row that is missing from the findings or appears twice."""
    problems = []
    bad = sorted(set(findings["category"].dropna().unique()) - set(CATEGORIES))
    if bad or findings["category"].isna().any():
        problems.append(f"unknown categories: {bad or ['<missing>']}")
    for side, table, key, col in (("AD", "ad_users", "object_guid", "ad_object_guid"),
                                  ("cloud", "entra_users", "id", "entra_id")):
        want, got = snap[table][key], findings[col].dropna()
        codes, values = factorize(want, got)
        diff = (np.bincount(codes[len(want):], minlength=len(values))
                - np.bincount(codes[:len(want)][codes[:len(want)] >= 0], minlength=len(values)))
        for i in np.flatnonzero(diff)[:20]:
            problems.append(f"{side} row {values[int(i)].as_py()}: " + (f"appears {diff[i]} extra time(s)"
                                                                     if diff[i] > 0 else "missing"))
    has_ad, has_cl = findings["ad_object_guid"].notna(), findings["entra_id"].notna()
    pair = columns.isin(findings["category"], pd.Series(PAIR_CATEGORIES))
    unknown = (findings["category"] == "unknown").to_numpy(dtype=bool)
    wrong = (pair & ~(has_ad & has_cl)) | (~pair & ~unknown & (has_ad == has_cl)) | (unknown & ~(has_ad | has_cl))
    wrong |= columns.isin(findings["category"], pd.Series(["orphan_anchor", "cloud_only"])) & has_ad
    wrong |= (findings["category"] == "new_user") & has_cl
    if wrong.any():
        problems.append(f"{int(wrong.sum())} row(s) with the wrong sides for their category, e.g. "
                        f"{findings.loc[wrong, ['category', 'ad_dn', 'entra_id']].head(3).to_dict('records')}")
    if problems:
        raise AssertionError("findings do not account for every input row exactly once:\n  " + "\n  ".join(problems))
