"""The words every stage shares: finding categories, anchor settings, remediation strategies, Okta modes.

One home for each list, so that the engine, the plan, the report and the parameter checks cannot disagree.
"""

from __future__ import annotations

#: What the first sync does to one identity (a matched AD + cloud pair is one identity). See docs/domain.md §2.
CATEGORIES = ("hard_match", "soft_match", "anchor_mismatch", "match_blocked", "ambiguous", "new_user",
              "orphan_anchor", "cloud_only", "excluded", "unknown")
#: Categories whose row joins an AD user to a cloud user.
PAIR_CATEGORIES = ("hard_match", "soft_match", "anchor_mismatch", "match_blocked")
#: Order of the report's sections and the workbook's sheets: what needs action first.
ACTION_ORDER = ("anchor_mismatch", "match_blocked", "ambiguous", "unknown", "orphan_anchor", "new_user",
                "soft_match", "hard_match", "cloud_only", "excluded")
#: Categories that need nothing done.
NO_ACTION = ("hard_match", "cloud_only", "excluded")
#: How a category is called where people read it (report, workbook, index page).
LABELS = {
    "hard_match": "Hard match", "soft_match": "Soft match", "anchor_mismatch": "Duplicate (wrong ImmutableID)",
    "match_blocked": "Match blocked", "ambiguous": "Ambiguous", "new_user": "New user",
    "orphan_anchor": "Orphaned cloud user", "cloud_only": "Cloud only", "excluded": "Excluded",
    "unknown": "Unknown (not exported)",
}
#: ``unknown``: the prediction rests on a field the export did not carry for that user (docs/domain.md §8); the
#: row may join an AD user to a cloud user, or name a cloud user alone.

#: What findings.xlsx holds in full (``--xlsx``): ``action``, the default, the categories that need action (the
#: others are counted on the summary sheet: a sheet of a million hard matches helps no one in Excel); ``all`` every
#: category. findings.csv and findings.parquet always hold every row.
XLSX_FULL = {"action": tuple(c for c in ACTION_ORDER if c not in NO_ACTION), "all": ACTION_ORDER}

#: The source-anchor setting of Entra Connect (``auto``: decided from the data, docs/domain.md §3).
ANCHOR_SETTINGS = ("auto", "objectGUID", "mS-DS-ConsistencyGuid")

#: Remediation strategies (docs/domain.md §5); ``auto`` lets the plan choose.
STRATEGIES = ("prestamp", "clear_and_regenerate", "hard_delete_recreate")
STRATEGY_CHOICES = ("auto", *STRATEGIES)

#: Okta's Office 365 provisioning modes as hybridx names them (docs/domain.md §4).
PROVISIONING_MODES = ("user_sync", "universal_sync", "profile_sync", "push", "none")
#: Modes under which Okta makes its users look synced from AD, so Graph refuses to edit them.
READ_ONLY_MODES = ("user_sync", "universal_sync")

#: What the staging check finds per pending export or predicted export (docs/domain.md §12); the first two are fine.
STAGING_STATUSES = ("expected_add", "expected_update", "duplicate", "delete", "unexpected_add", "unexpected_update",
                    "missing", "blocked", "review")
STAGING_PROBLEMS = STAGING_STATUSES[2:]
#: How an identity changed between two assessments (``hybridx diff``).
DIFF_STATUSES = ("fixed", "regressed", "still_open", "new", "gone", "unchanged")
#: What the first sync did to an identity, as Graph shows it afterwards (docs/domain.md §13).
OUTCOMES = ("took_over", "created", "duplicate", "blocked", "not_synced")

#: The sync engine that takes over from Okta (docs/domain.md §10): Entra Connect Sync or Entra Cloud Sync.
TARGETS = ("connect", "cloud-sync")

#: What the first sync does to an AD group or contact, or to a cloud group or contact (docs/domain.md §11).
GROUP_OUTCOMES = ("soft_match", "recreated", "new", "cloud_only", "ambiguous")
#: What the takeover does to one attribute of a matched cloud user (docs/domain.md §14), in report order:
#: ``lost`` (a cloud proxy address AD lacks), ``primary_changed`` (the primary SMTP address changes), ``cleared``
#: (AD empty, cloud has a value), ``overwritten`` (AD has another value), ``set`` (cloud empty), ``added`` (an
#: AD proxy address the cloud lacks), ``same``. ``same`` is counted but gets no row in takeover.csv.
TAKEOVER_STATUSES = ("lost", "primary_changed", "cleared", "overwritten", "set", "added", "same")

#: Hybrid Exchange findings per matched user (docs/domain.md §15), most urgent first.
EXCHANGE_FINDINGS = ("mailbox_both_sides", "licence_creates_mailbox", "exchange_guid_mismatch",
                     "no_remote_mailbox", "x500_missing")
EXCHANGE_LABELS = {
    "mailbox_both_sides": "Mailbox on both sides", "licence_creates_mailbox": "Licence would create a cloud mailbox",
    "exchange_guid_mismatch": "ExchangeGuid differs", "no_remote_mailbox": "Cloud mailbox without a remote mailbox",
    "x500_missing": "Cloud LegacyExchangeDN missing as X500",
}
