"""The staging check: every pending Add, Update and Delete of Entra Connect's Entra ID connector, user by user,
held against hybridx's prediction (docs/domain.md §12).

Each pending user object is joined to the assessment's AD user by sourceAnchor (= the expected ImmutableID),
else by UPN, else by primary SMTP address; every AD user the prediction expects to be exported and that the
export does not name is listed as ``missing``. Statuses (``STAGING_STATUSES``): an Add whose anchor no cloud
user holds while a cloud user with another ImmutableID holds its UPN or primary SMTP is a ``duplicate``; every
Delete is listed; Adds and Updates the prediction did not expect are ``unexpected_add``/``unexpected_update``;
pending objects of blocked or ambiguous predictions are ``blocked``/``review``. Safe to leave staging only when
no object has any of these statuses. Vectorised: a million pending objects are joined with pandas merges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hybridx_nb.core.vocabulary import STAGING_PROBLEMS, STAGING_STATUSES

CHECK_COLUMNS = ("status", "operation", "upn", "smtp", "display_name", "source_anchor", "predicted", "matched_by",
                 "ad_dn", "expected_immutable_id", "cloud_id", "cloud_upn", "cloud_immutable_id", "cs_dn", "record",
                 "reason")
#: Predictions whose AD user Entra Connect is expected to export (as an Add or, when joined, an Update).
EXPORTED = ("hard_match", "soft_match", "new_user", "anchor_mismatch", "match_blocked")


@dataclass
class StagingCheck:
    """The rows of staging-check.csv, counts per status, and the verdict."""

    rows: pd.DataFrame
    counts: dict[str, int]
    pending: dict[str, int]  # operation → pending user objects
    other_objects: int  # groups, contacts, devices: not checked (their Deletes are)

    @property
    def safe(self) -> bool:
        return not any(self.counts[s] for s in STAGING_PROBLEMS)

    @property
    def verdict(self) -> str:
        """One line with the numbers."""
        c, p = self.counts, self.pending
        if self.safe:
            return (f"safe to leave staging: {p.get('add', 0):,} Adds and {p.get('update', 0):,} Updates of users, "
                    "all as predicted; 0 Deletes; 0 duplicates")
        parts = [f"{c['duplicate']:,} duplicate(s)", f"{c['delete']:,} Delete(s)",
                 f"{c['unexpected_add']:,} unexpected Add(s)", f"{c['unexpected_update']:,} unexpected Update(s)",
                 f"{c['missing']:,} predicted export(s) missing", f"{c['blocked']:,} blocked",
                 f"{c['review']:,} to review"]
        shown = [t for t in parts if not t.startswith("0 ")]
        return (f"NOT safe to leave staging: {', '.join(shown)} (of {sum(p.values()):,} pending user objects, "
                f"{p.get('add', 0):,} Adds, {p.get('update', 0):,} Updates, {p.get('delete', 0):,} Deletes)")


def _lower(s: pd.Series) -> pd.Series:
    return s.astype("str").str.lower()


def _first_by(keys: pd.Series, values: pd.Series) -> pd.Series:
    """key → first value (keys missing are dropped)."""
    frame = pd.DataFrame({"k": keys.to_numpy(), "v": values.to_numpy()}).dropna(subset=["k"])
    return frame.drop_duplicates("k").set_index("k")["v"]


def _text(*parts: object, index: pd.Index) -> pd.Series:
    out = pd.Series("", index=index, dtype="str")
    for p in parts:
        if isinstance(p, np.ndarray):
            p = pd.Series(p, index=index)
        out = out + (p.astype("str").fillna("") if isinstance(p, pd.Series) else str(p))
    return out


def check_staging(pending: pd.DataFrame, findings: pd.DataFrame) -> StagingCheck:
    """Join the pending export (``csexport.PENDING_COLUMNS``) to the findings and classify every user object."""
    f = findings.reset_index(drop=True)
    is_user = pending["object_type"].fillna("user").str.lower().eq("user")
    deletes = pending["operation"].eq("delete")
    p = pending[(is_user | deletes) & pending["operation"].ne("none")].reset_index(drop=True)
    other = int((~is_user & ~deletes).sum())

    ad = f[f["ad_dn"].notna()]
    row_of = pd.Series(np.arange(len(f)), index=f.index)
    joined = pd.Series(np.nan, index=p.index)
    matched_by = pd.Series(np.nan, index=p.index, dtype="str")
    for how, ours, theirs in (("sourceAnchor", p["source_anchor"], ad["expected_immutable_id"]),
                              ("userPrincipalName", _lower(p["upn"]), _lower(ad["ad_upn"])),
                              ("primary SMTP", _lower(p["smtp"]), _lower(ad["ad_mail"]))):
        hit = ours.map(_first_by(theirs, row_of[ad.index])).where(joined.isna())
        matched_by = matched_by.mask(hit.notna(), how)
        joined = joined.fillna(hit)
    idx = joined.fillna(-1).astype(int).to_numpy()

    def take(col: str) -> pd.Series:
        values = f[col].to_numpy(dtype=object)
        return pd.Series(np.where(idx >= 0, values[np.maximum(idx, 0)] if len(f) else None, None),
                         index=p.index, dtype="str")

    predicted, ad_dn, expected = take("category"), take("ad_dn"), take("expected_immutable_id")

    cloud = f[f["entra_id"].notna()]
    cloud_ids = cloud["entra_id"]
    holder_by_anchor = p["source_anchor"].map(_first_by(cloud["immutable_id"], cloud_ids))
    holder = (_lower(p["upn"]).map(_first_by(_lower(cloud["entra_upn"]), cloud_ids))
              .fillna(_lower(p["smtp"]).map(_first_by(_lower(cloud["entra_mail"]), cloud_ids))))
    by_id = cloud.drop_duplicates("entra_id").set_index("entra_id")
    holder_imm = holder.map(by_id["immutable_id"])
    cloud_id = holder_by_anchor.fillna(holder)
    op = p["operation"]
    add, update = op.eq("add"), op.eq("update")

    duplicate = add & holder_by_anchor.isna() & holder.notna() & holder_imm.notna() & holder_imm.ne(p["source_anchor"])
    takeover = predicted.isin(["hard_match", "soft_match"])
    other_anchor = expected.notna() & p["source_anchor"].notna() & expected.ne(p["source_anchor"])
    status = np.select(
        [op.eq("delete"), duplicate, predicted.isna() | predicted.eq("excluded"),
         predicted.eq("match_blocked"), predicted.eq("ambiguous"), other_anchor,
         takeover & add, takeover & update, predicted.eq("new_user") & add],
        ["delete", "duplicate", np.where(add, "unexpected_add", "unexpected_update"), "blocked", "review",
         np.where(add, "unexpected_add", "unexpected_update"), "expected_add", "expected_update", "expected_add"],
        np.where(add, "unexpected_add", "unexpected_update"))
    who = p["upn"].fillna(p["smtp"]).fillna(p["display_name"]).fillna(p["cs_dn"])
    holder_upn = cloud_id.map(by_id["entra_upn"])
    reason = pd.Series(np.select(
        [status == "delete", status == "duplicate", predicted.isna(), predicted.eq("excluded"), other_anchor,
         status == "blocked", status == "review", predicted.eq("anchor_mismatch"), predicted.eq("new_user") & update],
        [_text("Leaving staging would delete ", who, " in Entra ID", index=p.index),
         _text("No cloud user holds sourceAnchor ", p["source_anchor"], ", but cloud user ", holder_upn,
               " (ImmutableID ", holder_imm, ") holds its UPN or primary SMTP: Entra will create a duplicate",
               np.where(predicted.eq("anchor_mismatch"), " (predicted)", " (not predicted)"), index=p.index),
         _text("Not in the assessment: no AD user with this sourceAnchor, UPN or primary SMTP (created after the "
               "snapshot, or outside the scope hybridx read)", index=p.index),
         _text("The assessment excluded ", ad_dn, " (system account or out of scope); Entra Connect exports it",
               index=p.index),
         _text("Entra Connect exports sourceAnchor ", p["source_anchor"], " but hybridx expected ", expected,
               ": the source anchor setting differs from the assessment's", index=p.index),
         _text("Predicted blocked: this export will fail or quarantine the user until the block is removed",
               index=p.index),
         _text("Predicted ambiguous: decide by hand which cloud user this is before leaving staging", index=p.index),
         _text("Predicted a duplicate, but no cloud user with another ImmutableID holds its UPN or SMTP now: "
               "re-run hybridx on a fresh snapshot", index=p.index),
         _text("Predicted new, but an Update means it is already joined to a cloud object", index=p.index)],
        _text(np.where(add, "Add", "Update"), " as predicted (", predicted, ")", index=p.index)), index=p.index)
    reason = reason.mask(status == "unexpected_update", reason.where(~takeover, _text(
        "Predicted ", predicted, ", which shows as an Add or an Update", index=p.index)))
    rows = pd.DataFrame({
        "status": status, "operation": op, "upn": p["upn"], "smtp": p["smtp"], "display_name": p["display_name"],
        "source_anchor": p["source_anchor"], "predicted": predicted, "matched_by": matched_by, "ad_dn": ad_dn,
        "expected_immutable_id": expected, "cloud_id": cloud_id, "cloud_upn": holder_upn,
        "cloud_immutable_id": cloud_id.map(by_id["immutable_id"]), "cs_dn": p["cs_dn"],
        "record": (p["record"] if "record" in p else pd.Series(p.index + 1)).astype("str"), "reason": reason})

    named = np.zeros(len(f), dtype=bool)
    named[idx[idx >= 0]] = True
    lost = f[f["category"].isin(EXPORTED).to_numpy() & f["ad_dn"].notna().to_numpy() & ~named]
    missing = pd.DataFrame({
        "status": "missing", "upn": lost["ad_upn"], "smtp": lost["ad_mail"], "display_name": lost["ad_display_name"],
        "predicted": lost["category"], "ad_dn": lost["ad_dn"], "expected_immutable_id": lost["expected_immutable_id"],
        "cloud_id": lost["entra_id"], "cloud_upn": lost["entra_upn"], "cloud_immutable_id": lost["immutable_id"],
        "reason": _text("Predicted ", lost["category"], ", but the pending export has no Add or Update for this AD "
                        "user (outside Entra Connect's scope, or already joined with nothing to change)",
                        index=lost.index)})
    rows = pd.concat([rows, missing], ignore_index=True)[list(CHECK_COLUMNS)]
    order = {s: i for i, s in enumerate(STAGING_PROBLEMS + STAGING_STATUSES[:2])}
    rows = rows.iloc[np.argsort(rows["status"].map(order).to_numpy(), kind="stable")].reset_index(drop=True)
    counts = rows["status"].value_counts()
    return StagingCheck(rows, {s: int(counts.get(s, 0)) for s in STAGING_STATUSES},
                        {k: int(v) for k, v in p["operation"].value_counts().items()}, other)
