"""After the cut-over: what the first sync did, per user, against what hybridx predicted (``hybridx verify-sync``,
docs/domain.md §13).

The "before" is the assessment (its findings); the "after" a fresh snapshot whose cloud users carry
onPremisesImmutableId, onPremisesSyncEnabled, onPremisesLastSyncDateTime and the provisioning errors. For every
AD user with an expected anchor, the observed outcome (``OUTCOMES``) is:
``took_over`` a cloud user that existed before now holds the anchor; ``duplicate`` a new cloud user holds it and
it is a duplicate (UPN ``<prefix><4 digits>@<initial domain>`` whose display name or SMTP matches an older
cloud user, or a PropertyConflict error on it); ``created`` a new cloud user holds it otherwise (each only when that cloud user was synced: onPremisesLastSyncDateTime set);
``blocked`` the anchor's cloud user was not synced, or the predicted cloud user shows a provisioning error;
``not_synced`` nothing holds the anchor.
Expected: hard/soft match → took_over, anchor_mismatch → duplicate, new_user → created, match_blocked →
blocked or not_synced. Ambiguous predictions are listed but not scored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

EXPECTED = {"hard_match": ("took_over",), "soft_match": ("took_over",), "anchor_mismatch": ("duplicate",),
            "new_user": ("created",), "match_blocked": ("blocked", "not_synced")}
SYNC_COLUMNS = ("ad_upn", "ad_dn", "predicted", "expected", "observed", "agrees", "cloud_id", "cloud_upn",
                "errors", "detail")


@dataclass
class SyncCheck:
    """Per-user comparison, the duplicates found in Graph, and the accuracy."""

    rows: pd.DataFrame
    duplicates: pd.DataFrame  # duplicate_id, duplicate_upn, original_id, original_upn, matched_on
    scored: int
    agreed: int

    @property
    def accuracy(self) -> float:
        return 100.0 * self.agreed / self.scored if self.scored else 100.0

    def disagreements(self) -> pd.DataFrame:
        return self.rows[self.rows["agrees"].eq("no")].reset_index(drop=True)

    def summary(self) -> str:
        return (f"prediction accuracy: {self.accuracy:.1f}% ({self.agreed:,} of {self.scored:,} users as predicted, "
                f"{self.scored - self.agreed:,} disagreement(s))")


def error_text(values: pd.Series) -> pd.Series:
    """``category property=value`` of each provisioning error (JSON array text); missing where there are none."""
    out = pd.Series(np.nan, index=values.index, dtype="str")
    some = values.notna() & values.ne("[]")
    for i, raw in values[some].items():  # only the users with errors: few
        try:
            items = json.loads(raw)
        except ValueError:
            out[i] = f"unreadable error list: {raw[:80]}"
            continue
        out[i] = "; ".join(
            f"{e.get('category') or e.get('@odata.type', 'error')} {e.get('propertyCausingError') or ''}"
            f"={e.get('value') or e.get('serviceInstance') or ''}".replace(" =", "=")
            for e in items if isinstance(e, dict)) or np.nan
    return out


def find_duplicates(users: pd.DataFrame, initial_domain: str | None) -> pd.DataFrame:
    """Cloud users named ``<prefix><4 digits>@<initial domain>`` whose display name or primary SMTP another user
    (the original) has: duplicates created by duplicate-attribute resiliency."""
    domain = (re.escape(initial_domain.lower()) if initial_domain and not initial_domain.startswith("<")
              else r"[^@]+\.onmicrosoft\.com")
    parts = users["upn"].str.lower().str.extract(rf"^(.+?)\d{{4}}@({domain})$")
    cand = users[parts[0].notna().to_numpy()]
    rest = users[parts[0].isna().to_numpy()]
    found = []
    for col, label in (("display_name", "display name"), ("mail", "SMTP")):
        left = pd.DataFrame({"k": cand[col].str.lower(), "duplicate_id": cand["id"], "duplicate_upn": cand["upn"]})
        right = pd.DataFrame({"k": rest[col].str.lower(), "original_id": rest["id"], "original_upn": rest["upn"]})
        found.append(left.dropna(subset=["k"]).merge(right.dropna(subset=["k"]), on="k").assign(matched_on=label))
    dup = pd.concat(found, ignore_index=True).drop(columns="k")
    return dup.drop_duplicates("duplicate_id").reset_index(drop=True)


def check_sync(before: pd.DataFrame, users: pd.DataFrame, initial_domain: str | None) -> SyncCheck:
    """Compare the prediction (``before`` findings) with the cloud users after the first sync (``users``)."""
    f = before[before["ad_dn"].notna() & before["category"].ne("excluded")].reset_index(drop=True)
    anchor = f["expected_immutable_id"]
    old_ids = set(before["entra_id"].dropna().str.lower())
    u = users.assign(id_l=users["id"].str.lower())
    errors = error_text(u["on_prem_provisioning_errors"]) if "on_prem_provisioning_errors" in u else \
        pd.Series(np.nan, index=u.index, dtype="str")
    svc = error_text(u["service_provisioning_errors"]) if "service_provisioning_errors" in u else errors * np.nan
    # Synced by Entra Connect: onPremisesLastSyncDateTime is set (docs/domain.md §13); without that column, the flag.
    synced = (u["on_prem_last_sync"].notna() if "on_prem_last_sync" in u and u["on_prem_last_sync"].notna().any()
              else u["on_prem_sync_enabled"].fillna(False).astype(bool))
    u = u.assign(err=errors.fillna(svc), synced=synced.to_numpy())
    dups = find_duplicates(users, initial_domain)
    holder = u.dropna(subset=["immutable_id"]).drop_duplicates("immutable_id").set_index("immutable_id")
    h_id = anchor.map(holder["id"])
    h_old = h_id.str.lower().isin(old_ids) & h_id.notna()
    h_err = anchor.map(holder["err"])
    h_synced = anchor.map(holder["synced"]).fillna(False).astype(bool)
    dup_ids = set(dups["duplicate_id"].str.lower())
    is_dup = h_id.str.lower().isin(dup_ids) | h_err.str.contains("PropertyConflict", regex=False).fillna(False)
    pair_err = f["entra_id"].str.lower().map(u.set_index("id_l")["err"]) if len(u) else h_err
    live = h_id.notna() & h_synced
    observed = np.select([live & h_old, live & is_dup, live, pair_err.notna() | h_id.notna()],
                         ["took_over", "duplicate", "created", "blocked"], "not_synced")
    predicted = f["category"]
    expected = predicted.map(lambda c: " or ".join(EXPECTED.get(c, ())) or np.nan)
    scored = predicted.isin(list(EXPECTED)) & anchor.notna()
    agrees = pd.Series([o in EXPECTED.get(p, ()) for o, p in zip(observed, predicted)], index=f.index)
    detail = ("predicted " + predicted + " (" + f["entra_upn"].fillna("no cloud user") + "); observed " +
              pd.Series(observed, index=f.index) + np.where(h_id.notna(), " by " + anchor.map(holder["upn"])
                                                             .fillna(""), ""))
    rows = pd.DataFrame({
        "ad_upn": f["ad_upn"], "ad_dn": f["ad_dn"], "predicted": predicted, "expected": expected,
        "observed": observed, "agrees": np.where(scored, np.where(agrees, "yes", "no"), "not scored"),
        "cloud_id": h_id, "cloud_upn": anchor.map(holder["upn"]), "errors": h_err.fillna(pair_err),
        "detail": detail})[list(SYNC_COLUMNS)]
    order = rows["agrees"].map({"no": 0, "not scored": 1, "yes": 2})
    rows = rows.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    return SyncCheck(rows, dups, int(scored.sum()), int((scored & agrees).sum()))
