"""How each finding category is presented: its colour, its one-paragraph explanation and its table columns."""

from __future__ import annotations

EXPLAIN = {
    "anchor_mismatch": "The cloud user has an ImmutableID that is not this AD user's anchor, but the mail address "
                       "or UPN matches: Entra Connect will create a second, duplicate user and the person loses "
                       "access to the mailbox and licences of the first.",
    "match_blocked": "A match Entra ID will refuse (admin role, tenant setting, federated domain or "
                     "onPremisesObjectIdentifier pointing elsewhere): a sync error, or a duplicate once resolved.",
    "ambiguous": "Several objects compete for the same identity; Entra Connect's result depends on order. "
                 "Resolve by hand.",
    "orphan_anchor": "A cloud user with an ImmutableID that no AD user will claim: it stays cloud-managed and "
                     "orphaned after the cut-over.",
    "new_user": "AD users with no cloud counterpart: Entra Connect creates them (the Adds in staging mode).",
    "soft_match": "No ImmutableID yet; the mail address or UPN matches, so the first sync takes the user over and "
                  "stamps the anchor.",
    "hard_match": "The ImmutableID already equals the AD anchor: the first sync takes the user over cleanly.",
    "cloud_only": "Cloud users without ImmutableID and without an AD counterpart: left alone by the sync.",
    "excluded": "System accounts, deleted objects and guests the sync does not touch.",
    "unknown": "The export did not carry a field this prediction needs (for example onPremisesImmutableId for "
               "these cloud users, or the pages an incomplete Entra export left out): re-export as the reason "
               "says and run the assessment again. Never counted as matches or as new users.",
}

COLORS = {"hard_match": "#2e7d32", "soft_match": "#66bb6a", "anchor_mismatch": "#c62828",
           "match_blocked": "#ef6c00", "ambiguous": "#f9a825", "new_user": "#1565c0", "orphan_anchor": "#8e24aa",
           "cloud_only": "#78909c", "excluded": "#b0bec5",
           "unknown": "#6d4c41"}

PERSON = {"person": "Name", "ad_upn": "AD UPN", "entra_upn": "Cloud UPN"}

WHY_FIX = {"reason": "Why", "action": "Fix"}

CATEGORY_COLUMNS = {
    "anchor_mismatch": {"immutable_id": "Current ImmutableID", "anchor_kind": "What it is",
                        "anchor_detail": "Detail", "expected_immutable_id": "Expected ImmutableID",
                        "duplicate_upn": "Duplicate will be", "match_via": "Matched via"},
    "match_blocked": {"block_reason": "Blocked by", "entra_roles": "Roles", "match_via": "Matched via"},
    "ambiguous": {"candidates": "Competing objects", "immutable_id": "ImmutableID"},
    "orphan_anchor": {"immutable_id": "ImmutableID", "anchor_kind": "What it is", "anchor_detail": "Detail"},
    "new_user": {"ad_dn": "AD object", "expected_immutable_id": "Anchor"},
    "soft_match": {"match_via": "Matched via", "expected_immutable_id": "Anchor to stamp"},
    "hard_match": {"anchor_source": "Anchor", "immutable_id": "ImmutableID"},
    "cloud_only": {"entra_mail": "Mail", "account_enabled": "Enabled"},
    "excluded": {"ad_dn": "AD object"},
    "unknown": {"ad_dn": "AD object", "match_via": "Matched via"},
}
