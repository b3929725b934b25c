"""Readiness rows the anchor fix resolves: a duplicate's own addresses and UPN, held by its own cloud user.

A duplicated AD user (``anchor_mismatch``) collides with its own cloud user on UPN, mail and proxy addresses, so
the readiness rules report AttributeValueMustBeUnique for it. Once the plan writes the right anchor, the first sync
matches the two and the collision is gone: those rows are marked "resolved by the anchor fix", carry no EDIT
proposal (PROPOSEDACTION COMPLETE, no UPDATE) and are not counted as open problems. Any other holder of the value
stays a real conflict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hybridx_nb.core import columns

RESOLVED = "resolved by the anchor fix"
_UNIQUE = "AttributeValueMustBeUnique"


def fix_pairs(findings: pd.DataFrame) -> pd.DataFrame:
    """(ad_dn, entra_upn) of the duplicates whose anchor the plan fixes."""
    dup = findings["category"].eq("anchor_mismatch") & findings["ad_dn"].notna() & findings["entra_upn"].notna()
    return findings.loc[dup, ["ad_dn", "entra_upn"]].reset_index(drop=True)


def mark_resolved_by_fix(readiness: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The readiness frame with a ``resolved`` column; rows the fix resolves are marked and lose their proposal."""
    out = readiness.assign(resolved=pd.Series(np.nan, index=readiness.index, dtype="str"))
    if out.empty or pairs.empty or "conflict_with" not in out.columns:
        return out
    key = out["DISTINGUISHEDNAME"].str.lower() + "\n" + out["conflict_with"].str.lower()
    own = pairs["ad_dn"].str.lower() + "\n" + pairs["entra_upn"].str.lower()
    hit = out["ERROR"].eq(_UNIQUE).to_numpy(dtype=bool) & columns.isin(key, own)
    if hit.any():
        out.loc[hit, "resolved"] = RESOLVED
        out.loc[hit, "PROPOSEDACTION"] = "COMPLETE"
        out.loc[hit, "UPDATE"] = np.nan
        out.loc[hit, "description"] = ("Resolved by the anchor fix: the cloud user holding this value is this "
                                       "user's own, which the first sync matches once its ImmutableID is fixed.")
    return out


def open_problems(readiness: pd.DataFrame) -> pd.DataFrame:
    """The readiness rows still to fix in AD (those the anchor fix does not resolve)."""
    if "resolved" not in readiness.columns:
        return readiness
    return readiness[readiness["resolved"].isna().to_numpy()]
