"""Entra Cloud Sync as the target (docs/domain.md §10): its fixed source anchor and the limits checked against
the tenant.

Cloud Sync chooses the source anchor itself: mS-DS-ConsistencyGuid where it is set, else objectGUID, and it
cannot be changed. That is exactly the engine's ``mS-DS-ConsistencyGuid`` setting, so the prediction runs with it.
Limits: up to 150,000 objects per AD domain, groups up to 50,000 members, no device synchronisation (hybrid join),
no Pass-through Authentication configuration, no writeback of devices; only what the snapshot holds is checked, the
rest is named as not checked.
"""

from __future__ import annotations

import pandas as pd

from hybridx_nb.core.errors import HybridxError
from hybridx_nb.snapshot.store import Snapshot

OBJECTS_PER_DOMAIN = 150_000
CLOUD_SYNC_ANCHOR = "mS-DS-ConsistencyGuid"
ANCHOR_REASON = ("Cloud Sync: it uses mS-DS-ConsistencyGuid where it is set, else objectGUID, and the source "
                 "anchor cannot be changed")
NOT_CHECKED = ("groups of more than 50,000 members (group membership is not collected)",
               "device synchronisation (Microsoft Entra hybrid join, Windows Hello for Business) and device "
               "writeback, which Cloud Sync does not do",
               "Pass-through Authentication, which Cloud Sync does not configure")


def engine_anchor(target: str, anchor: str) -> tuple[str, str | None]:
    """The anchor setting the engine predicts with, and the reason to show when the target decided it."""
    if target != "cloud-sync":
        return anchor, None
    if anchor not in ("auto", CLOUD_SYNC_ANCHOR):
        raise HybridxError(f"anchor {anchor!r} is not possible with target cloud-sync: Cloud Sync always uses "
                           "mS-DS-ConsistencyGuid where set, else objectGUID (use anchor auto)")
    return CLOUD_SYNC_ANCHOR, ANCHOR_REASON


def _domain(ad: pd.DataFrame) -> pd.Series:
    """Each object's AD domain: the ``domain`` column, else the DC= parts of its DN."""
    dcs = ad["dn"].str.lower().str.findall(r"dc=([^,]+)").str.join(".")
    return ad["domain"].str.lower().fillna(dcs) if "domain" in ad.columns else dcs


def target_limits(snap: Snapshot, target: str) -> tuple[list[str], list[str]]:
    """(limits the tenant exceeds, limits hybridx could not check) for ``target``; empty for Entra Connect."""
    if target != "cloud-sync":
        return [], []
    frames = [snap["ad_users"][["dn", "domain"]]]
    if snap.has("ad_mail_objects"):
        frames.append(snap["ad_mail_objects"][["dn"]].assign(domain=pd.Series(dtype="str")))
    objects = pd.concat(frames, ignore_index=True)
    counts = _domain(objects).value_counts()
    exceeded = [f"{n:,} objects in domain {d} (Cloud Sync supports up to {OBJECTS_PER_DOMAIN:,} per domain)"
                for d, n in counts.items() if n > OBJECTS_PER_DOMAIN]
    return exceeded, list(NOT_CHECKED)
