"""The shapes the remediation stage produces: the plan, its runbook steps and the per-user action rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

ACTION_COLUMNS = ["entra_id", "entra_upn", "ad_dn", "category", "strategy", "step", "current_immutable_id",
                  "new_immutable_id", "temporary_upn", "roles", "licenses", "note"]
#: The order in which the steps happen; ``actions`` is sorted by it.
STEPS = ("remove_roles", "clear_object_identifier", "hard_delete", "set_immutable_id", "set_immutable_id_upn_swap",
         "readd_roles", "review")
#: The Okta side of an anchor fix in a federated domain (docs/domain.md §9): one row per app user to rewrite.
OKTA_ACTION_COLUMNS = ["action", "app_id", "okta_user_id", "entra_id", "entra_upn", "current_immutable_id",
                       "new_immutable_id", "entra_step", "note"]
HARD_MATCH_FLAG = "blockCloudObjectTakeoverThroughHardMatchEnabled"
SOFT_MATCH_FLAG = "blockSoftMatchEnabled"


@dataclass
class RunbookStep:
    """One step of the cut-over: who does it, where, what, how to check it, how to undo it.

    ``number`` is the step's position on the page (1-based), set once when the runbook is assembled; ``key``
    names the step for cross-references (``{step:key}`` in any text, see ``remediation.runbook``).
    """

    number: int
    title: str
    who: str
    where: str
    do: str
    verify: str
    rollback: str
    key: str = ""


@dataclass
class Plan:
    """The remediation for one client (see the module docstring for the strategies)."""

    strategy: str
    strategy_reason: str
    actions: pd.DataFrame
    runbook: list[RunbookStep]
    expected: dict[str, int]
    notes: list[str] = field(default_factory=list)  # caveats the report shows next to the plan
    okta_actions: pd.DataFrame | None = None  # the Okta side of the anchor writes (OKTA_ACTION_COLUMNS)
    glance: list[tuple[str, str]] = field(default_factory=list)  # "Plan at a glance": (label, text)
    target: str = "connect"  # connect | cloud-sync (docs/domain.md §10)
    sync_switch_off: bool = False  # directory sync is switched off for the tenant: the 72-hour rule applies
    tenant_id: str | None = None  # written into remediation.csv: the script refuses to run against another tenant


@dataclass(frozen=True)
class TenantState:
    """The tenant facts the plan needs, resolved once."""

    read_only: bool
    read_only_reason: str
    org_sync_on: bool
    hard_match_blocked: bool
    soft_match_blocked: bool
    initial_domain: str | None
    tenant_id: str | None
    okta_mode: str | None
