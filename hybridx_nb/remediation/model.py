"""The shapes the remediation stage produces: the plan, its runbook steps and the per-user action rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

ACTION_COLUMNS = ["entra_id", "entra_upn", "ad_dn", "category", "strategy", "step", "current_immutable_id",
                  "new_immutable_id", "temporary_upn", "roles", "licenses", "note"]
#: The order in which the steps happen; ``actions`` is sorted by it.
STEPS = ("remove_roles", "clear_object_identifier", "hard_delete", "set_immutable_id", "set_immutable_id_upn_swap",
         "readd_roles", "review")
HARD_MATCH_FLAG = "blockCloudObjectTakeoverThroughHardMatchEnabled"
SOFT_MATCH_FLAG = "blockSoftMatchEnabled"


@dataclass
class RunbookStep:
    """One step of the cut-over: who does it, where, what, how to check it, how to undo it."""

    number: int
    title: str
    who: str
    where: str
    do: str
    verify: str
    rollback: str


@dataclass
class Plan:
    """The remediation for one client (see the module docstring for the strategies)."""

    strategy: str
    strategy_reason: str
    actions: pd.DataFrame
    runbook: list[RunbookStep]
    expected: dict[str, int]
    notes: list[str] = field(default_factory=list)  # caveats the report shows next to the plan


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
