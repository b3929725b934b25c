"""The Okta side of the anchor fix: one row per cloud user in a federated domain whose anchor changes.

While Okta federates a domain, it sends the Office 365 app user's ``immutableId`` as the ImmutableID claim and
Entra signs the user in only when that equals the user's ImmutableID (docs/domain.md §9). So every anchor that
changes in a federated domain (a write with UPN swap, or a user deleted and recreated from AD) needs the same new
value on the Okta app user, in the same change window. ``hybridx okta-apply`` reads these rows from
okta-remediation.csv; a user without an Okta app user in the snapshot gets an ``Manual`` row instead of none, so
nothing is silently left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hybridx_nb.core import columns
from hybridx_nb.remediation.model import OKTA_ACTION_COLUMNS
from hybridx_nb.snapshot.store import Snapshot

SET = "SetAppUserImmutableId"
MANUAL = "Manual"


def okta_actions(actions: pd.DataFrame, federated_steps: pd.Series, findings: pd.DataFrame,
                 snap: Snapshot) -> pd.DataFrame:
    """The Okta rows for the plan's ``actions`` where ``federated_steps`` is true (same index as ``actions``)."""
    rows = actions[federated_steps.reindex(actions.index, fill_value=False).to_numpy(dtype=bool)]
    if rows.empty:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in OKTA_ACTION_COLUMNS})
    cols = [c for c in ("entra_id", "okta_user_id", "okta_app_immutable_id") if c in findings.columns]
    if "okta_user_id" in cols:  # only these rows' findings and app users are hashed, not a million of each
        link = findings.loc[columns.isin(findings["entra_id"], rows["entra_id"]), cols].drop_duplicates("entra_id")
    else:
        link = pd.DataFrame(columns=["entra_id", "okta_user_id", "okta_app_immutable_id"])
    out = rows[["entra_id", "entra_upn", "new_immutable_id", "step"]].merge(
        link.astype("str"), on="entra_id", how="left")
    apps = snap["okta_app_users"] if snap.has("okta_app_users") else None
    app_id = pd.Series(np.nan, index=out.index, dtype="str")
    if apps is not None and len(apps):
        apps = apps.loc[columns.isin(apps["user_id"], out["okta_user_id"]), ["user_id", "app_id", "immutable_id"]]
        apps = apps.astype("str")
        exact = out.merge(apps.drop_duplicates(["user_id", "immutable_id"]),
                          left_on=["okta_user_id", "okta_app_immutable_id"],
                          right_on=["user_id", "immutable_id"], how="left")["app_id"]
        loose = out.merge(apps.drop_duplicates("user_id"), left_on="okta_user_id", right_on="user_id",
                          how="left")["app_id"]
        app_id = exact.fillna(loose).set_axis(out.index)
    known = out["okta_user_id"].notna() & app_id.notna()
    collected = apps is not None
    note = np.where(known, "set the Okta app user's immutableId in the same change window as the Entra write",
                    "no Okta app user linked to this cloud user in the snapshot: find it in the Office 365 app's "
                    "assignments and set its immutableId by hand" if collected else
                    "Okta app users were not collected: set the app user's immutableId by hand, or collect Okta "
                    "and re-run hybridx")
    frame = pd.DataFrame({
        "action": np.where(known, SET, MANUAL), "app_id": app_id, "okta_user_id": out["okta_user_id"],
        "entra_id": out["entra_id"], "entra_upn": out["entra_upn"],
        "current_immutable_id": out["okta_app_immutable_id"], "new_immutable_id": out["new_immutable_id"],
        "entra_step": out["step"], "note": note,
    }, columns=OKTA_ACTION_COLUMNS)
    return frame.astype("str").replace("", np.nan).reset_index(drop=True)
