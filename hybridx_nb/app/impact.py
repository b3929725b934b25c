"""The takeover impact and Hybrid Exchange readiness of one assessment, and the files they write.

``app.assess`` runs the takeover diff and the Exchange checks once the engine has predicted the pairs, before the
plan's runbook is built: their steps (``Impact.runbook_steps``) are extra steps of that runbook
(``remediation.plan.finish_plan``). ``write_impact`` writes takeover.csv, the AD backfill (ad-backfill.csv/.ps1
and its rollback file) and the Exchange plan (exchange-plan.csv, exchange-fixes.ps1, exchange-rollback.csv).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybridx_nb.core.vocabulary import EXCHANGE_FINDINGS
from hybridx_nb.engine.takeover import Takeover
from hybridx_nb.readiness.exchange import ExchangeReadiness
from hybridx_nb.remediation import backfill, exchange_plan
from hybridx_nb.remediation.runbook import ExtraStep
from hybridx_nb.remediation.takeover_steps import takeover_steps

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

    def runbook_steps(self) -> tuple[ExtraStep, ...]:
        """The backfill and Hybrid Exchange steps, for the plan's runbook (before leaving staging mode)."""
        counts = self.exchange.findings["finding"].value_counts()
        return takeover_steps(backfill.backfill_rows(self.takeover.changes, self.backfill),
                              self.takeover.users_losing_addresses, self.backfill,
                              {f: int(counts.get(f, 0)) for f in EXCHANGE_FINDINGS})


def write_impact(impact: Impact, out: Path, write_csv: Any) -> dict[str, Path]:
    """takeover.csv (with ``write_csv``, the findings writer), the backfill and the Exchange plan files."""
    paths = {TAKEOVER_CSV: write_csv(impact.takeover.changes, out / TAKEOVER_CSV)}
    paths.update(backfill.write_backfill(impact.takeover.changes, out, impact.backfill))
    paths.update(exchange_plan.write_exchange_plan(impact.exchange.findings, out))
    return paths
