"""What every runbook step builder shares: the context it reads, the step constructor and the text helpers.

Step texts refer to other steps only as ``{step:key}``; ``remediation.runbook`` numbers the steps and resolves
the references (docs/domain.md §5 for the order of work).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from hybridx_nb.remediation.model import RunbookStep, TenantState

_LIST_LIMIT = 20  # names spelled out in a runbook step; the rest are in ``actions``


@dataclass
class RunbookContext:
    """Everything a step builder may read: the plan's choice, its actions and numbers, the tenant."""

    chosen: str
    actions: pd.DataFrame
    e: dict[str, int]
    flags: list[str]
    t: TenantState
    anchor: str
    anchor_reason: str
    target: str = "connect"
    okta: pd.DataFrame | None = None  # the Okta side of the anchor writes (model.OKTA_ACTION_COLUMNS)
    pilot: str | None = None  # a user who signs in through Okta, to try the two-sided change on first
    federated_domains: list[str] = field(default_factory=list)
    groups: dict[str, int] = field(default_factory=dict)  # group/contact outcome counts (docs/domain.md §11)
    limits: list[str] = field(default_factory=list)  # target limits the tenant exceeds (docs/domain.md §10)

    @property
    def sync_switch_off(self) -> bool:
        """Whether the plan switches directory sync off for the tenant (the 72-hour rule then applies)."""
        return self.chosen == "clear_and_regenerate" and bool(self.e["anchor_writes"]) and (
            self.t.org_sync_on or self.t.read_only)

    @property
    def cloud_sync(self) -> bool:
        return self.target == "cloud-sync"


StepBuilder = Callable[[RunbookContext], "RunbookStep | None"]


def step(key: str, title: str, who: str, where: str, do: list[str] | str, verify: list[str] | str,
         rollback: list[str] | str) -> RunbookStep:
    """A step before numbering; list arguments are joined (``do`` as a numbered list when it has several items)."""
    def join(x: list[str] | str, numbered: bool = False) -> str:
        if isinstance(x, str):
            return x
        if numbered and len(x) > 1:
            return "\n".join(f"{i}. {line}" for i, line in enumerate(x, 1))
        return " ".join(x)
    return RunbookStep(0, title, who, where, join(do, True), join(verify), join(rollback), key)


def listing(actions: pd.DataFrame, step_name: str, column: str) -> str:
    """The users of one plan step, one per line with a value (the first ``_LIST_LIMIT``; the rest counted)."""
    rows = actions[actions["step"].eq(step_name)]
    lines = [f"  - {u}: {v}" for u, v in zip(rows["entra_upn"].fillna(rows["entra_id"]).head(_LIST_LIMIT),
                                             rows[column].fillna("").str.replace(";", ", ").head(_LIST_LIMIT))]
    if len(rows) > _LIST_LIMIT:
        lines.append(f"  - … and {len(rows) - _LIST_LIMIT} more (the plan's {step_name} rows)")
    return "\n".join(lines)


def flag_command(flag: str, value: str) -> str:
    """The Graph PowerShell line that sets one onPremisesSynchronization feature flag."""
    return (f"`$s = Get-MgDirectoryOnPremiseSynchronization; Update-MgDirectoryOnPremiseSynchronization "
            f"-OnPremisesDirectorySynchronizationId $s.Id -BodyParameter @{{features=@{{{flag}=${value}}}}}`")
