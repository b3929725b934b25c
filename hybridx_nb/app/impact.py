"""The takeover impact and Hybrid Exchange readiness of one assessment, and the files they write.

``run_impact`` runs after the plan (it needs the predicted pairs) and adds its runbook steps to the plan;
``write_impact`` writes takeover.csv, the AD backfill (ad-backfill.csv/.ps1 and its rollback file) and the
Exchange plan (exchange-plan.csv, exchange-fixes.ps1, exchange-rollback.csv).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybridx_nb.core.vocabulary import EXCHANGE_FINDINGS
from hybridx_nb.engine.takeover import Takeover, takeover_impact
from hybridx_nb.readiness.exchange import ExchangeReadiness, exchange_readiness
from hybridx_nb.remediation import backfill, exchange_plan
from hybridx_nb.remediation.model import Plan
from hybridx_nb.remediation.takeover_steps import backfill_step, exchange_step, insert_steps
from hybridx_nb.snapshot.store import Snapshot

TAKEOVER_CSV = "takeover.csv"


@dataclass
class Impact:
    """What the takeover changes, the Exchange findings, and the backfill chosen."""

    takeover: Takeover
    exchange: ExchangeReadiness
    backfill: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        """summary.json's ``takeover`` and ``exchange`` blocks."""
        return {"takeover": {**self.takeover.summary(), "backfill": list(self.backfill)},
                "exchange": self.exchange.summary()}


def run_impact(snap: Snapshot, findings: Any, plan: Plan, backfill_spec: str | None) -> Impact:
    """Takeover diff and Exchange readiness for the matched pairs; the plan's runbook gains their steps."""
    chosen = backfill.chosen(backfill_spec)
    impact = Impact(takeover_impact(snap, findings), exchange_readiness(snap, findings), chosen)
    counts = impact.exchange.findings["finding"].value_counts()
    steps = [backfill_step(backfill.backfill_rows(impact.takeover.changes, chosen),
                           impact.takeover.users_losing_addresses, chosen),
             exchange_step({f: int(counts.get(f, 0)) for f in EXCHANGE_FINDINGS})]
    plan.runbook, plan.glance = insert_steps(list(plan.runbook), steps, list(plan.glance))
    return impact


def write_impact(impact: Impact, out: Path, write_csv: Any) -> dict[str, Path]:
    """takeover.csv (with ``write_csv``, the findings writer), the backfill and the Exchange plan files."""
    paths = {TAKEOVER_CSV: write_csv(impact.takeover.changes, out / TAKEOVER_CSV)}
    paths.update(backfill.write_backfill(impact.takeover.changes, out, impact.backfill))
    paths.update(exchange_plan.write_exchange_plan(impact.exchange.findings, out))
    return paths
