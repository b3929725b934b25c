"""What changed between two assessments of one client (``hybridx diff``, the report's "since the last assessment").

An identity is its AD user (objectGUID) when it has one, else its cloud user (object id), so a pair that went
from ``anchor_mismatch`` to ``hard_match`` is one identity. Statuses (``DIFF_STATUSES``): ``fixed`` (needed
action before, needs none now), ``regressed`` (the reverse), ``still_open`` (needs action in both; the category
may have changed), ``new``/``gone`` (in one assessment only), ``unchanged``. "Needs no action" is a category of
``NO_ACTION`` (hard match, cloud only, excluded). ImmutableID changes of the cloud user are listed with both
values; readiness rows (IdFix's columns) are compared as whole rows: ``fixed`` or ``added``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hybridx_nb.core.vocabulary import DIFF_STATUSES, NO_ACTION

DIFF_COLUMNS = ("status", "before", "after", "person", "ad_dn", "ad_upn", "entra_id", "entra_upn",
                "immutable_id_before", "immutable_id_after", "anchor_changed", "expected_immutable_id", "action")
READINESS_KEY = ("DISTINGUISHEDNAME", "ATTRIBUTE", "ERROR", "VALUE")


@dataclass
class Diff:
    """Per-identity changes (every identity, ``unchanged`` included), readiness changes and the counts."""

    identities: pd.DataFrame
    readiness: pd.DataFrame
    counts: dict[str, int]
    transitions: pd.DataFrame  # before × after category counts of the identities present in both

    def changed(self) -> pd.DataFrame:
        """The identities whose status is not ``unchanged`` or whose anchor changed."""
        i = self.identities
        return i[i["status"].ne("unchanged") | i["anchor_changed"].eq("yes")].reset_index(drop=True)

    def summary_lines(self) -> list[str]:
        """The printed summary: counts per status, anchors, readiness, and the biggest transitions."""
        c = self.counts
        lines = [", ".join(f"{c[s]:,} {s.replace('_', ' ')}" for s in DIFF_STATUSES),
                 (f"{c['anchor_changes']:,} ImmutableID change(s); readiness rows: {c['readiness_fixed']:,} "
                  f"fixed, {c['readiness_added']:,} added")]
        moved = self.transitions[self.transitions["before"] != self.transitions["after"]].head(10)
        lines += [f"  {r.before} -> {r.after}: {r.n:,}" for r in moved.itertuples()]
        return lines


def _key(f: pd.DataFrame) -> pd.Series:
    guid = f["ad_object_guid"].astype("str").str.lower()
    return ("ad:" + guid).where(guid.notna(), "cloud:" + f["entra_id"].astype("str").str.lower())


def _text(f: pd.DataFrame, col: str) -> pd.Series:
    return f[col].astype("str") if col in f.columns else pd.Series(np.nan, index=f.index, dtype="str")


def diff_assessments(old: pd.DataFrame, new: pd.DataFrame, old_readiness: pd.DataFrame | None = None,
                     new_readiness: pd.DataFrame | None = None) -> Diff:
    """Compare two findings frames (findings.csv of each assessment) and their readiness rows."""
    cols = ["category", "ad_dn", "ad_upn", "ad_display_name", "entra_id", "entra_upn", "entra_display_name",
            "immutable_id", "expected_immutable_id", "action", "ad_object_guid"]
    a = pd.DataFrame({c: _text(old, c) for c in cols}).assign(key=_key(old).to_numpy()).drop_duplicates("key")
    b = pd.DataFrame({c: _text(new, c) for c in cols}).assign(key=_key(new).to_numpy()).drop_duplicates("key")
    m = a.merge(b, on="key", how="outer", suffixes=("_a", "_b"), indicator=True)
    before, after = m["category_a"], m["category_b"]
    ok_a, ok_b = before.isin(NO_ACTION), after.isin(NO_ACTION)
    status = np.select([m["_merge"].eq("right_only"), m["_merge"].eq("left_only"), ~ok_a & ok_b, ok_a & ~ok_b,
                        ~ok_a & ~ok_b], ["new", "gone", "fixed", "regressed", "still_open"], "unchanged")
    imm_a, imm_b = m["immutable_id_a"], m["immutable_id_b"]
    both = m["_merge"].eq("both")
    changed = both & m["entra_id_b"].eq(m["entra_id_a"]) & imm_a.fillna("").ne(imm_b.fillna(""))

    def pick(col: str) -> pd.Series:
        return m[f"{col}_b"].fillna(m[f"{col}_a"])

    identities = pd.DataFrame({
        "status": status, "before": before, "after": after,
        "person": pick("ad_display_name").fillna(pick("entra_display_name")), "ad_dn": pick("ad_dn"),
        "ad_upn": pick("ad_upn"), "entra_id": pick("entra_id"), "entra_upn": pick("entra_upn"),
        "immutable_id_before": imm_a, "immutable_id_after": imm_b,
        "anchor_changed": np.where(changed, "yes", ""), "expected_immutable_id": pick("expected_immutable_id"),
        "action": m["action_b"].where(~ok_b.to_numpy(), np.nan)})
    order = {s: i for i, s in enumerate(DIFF_STATUSES)}
    identities = identities.iloc[np.lexsort((identities["ad_upn"].fillna(identities["entra_upn"]).fillna("")
                                             .to_numpy(dtype=str), identities["status"].map(order).to_numpy()))]
    identities = identities.reset_index(drop=True)[list(DIFF_COLUMNS)]

    rd = _readiness_diff(old_readiness, new_readiness)
    counts = {s: int((identities["status"] == s).sum()) for s in DIFF_STATUSES}
    counts.update(anchor_changes=int(changed.sum()), readiness_fixed=int(rd["change"].eq("fixed").sum()),
                  readiness_added=int(rd["change"].eq("added").sum()))
    pairs = identities[identities["before"].notna() & identities["after"].notna()]
    transitions = (pairs.groupby(["before", "after"]).size().rename("n").reset_index()
                   .sort_values(["n", "before", "after"], ascending=[False, True, True]).reset_index(drop=True))
    return Diff(identities, rd, counts, transitions)


def _readiness_diff(old: pd.DataFrame | None, new: pd.DataFrame | None) -> pd.DataFrame:
    cols = list(READINESS_KEY)
    frames = []
    for frame in (old, new):
        f = frame if frame is not None else pd.DataFrame(columns=cols)
        frames.append(pd.DataFrame({c: _text(f, c).fillna("") for c in cols}).drop_duplicates())
    m = frames[0].merge(frames[1], on=cols, how="outer", indicator=True)
    m = m[m["_merge"].ne("both")]
    out = m.assign(change=np.where(m["_merge"].eq("left_only"), "fixed", "added")).drop(columns="_merge")
    return out[["change", *cols]].sort_values(["change", *cols]).reset_index(drop=True)
