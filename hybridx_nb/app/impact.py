"""The takeover impact and Hybrid Exchange readiness of one assessment, and the files they write.

``run_impact`` runs once the engine has predicted the pairs, before the plan's runbook is built: its steps
(``Impact.runbook_steps``) are extra steps of that runbook (``remediation.plan.finish_plan``). ``write_impact``
writes takeover.csv, the AD backfill (ad-backfill.csv/.ps1 and its rollback file) and the Exchange plan
(exchange-plan.csv, exchange-fixes.ps1, exchange-rollback.csv).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybridx_nb.core.vocabulary import EXCHANGE_FINDINGS
from hybridx_nb.engine.takeover import Takeover, takeover_impact
from hybridx_nb.readiness.exchange import ExchangeReadiness, exchange_readiness
from hybridx_nb.remediation import backfill, exchange_plan
from hybridx_nb.remediation.runbook import ExtraStep
from hybridx_nb.remediation.takeover_steps import takeover_steps
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

    def runbook_steps(self) -> tuple[ExtraStep, ...]:
        """The backfill and Hybrid Exchange steps, for the plan's runbook (before leaving staging mode)."""
        counts = self.exchange.findings["finding"].value_counts()
        return takeover_steps(backfill.backfill_rows(self.takeover.changes, self.backfill),
                              self.takeover.users_losing_addresses, self.backfill,
                              {f: int(counts.get(f, 0)) for f in EXCHANGE_FINDINGS})


def run_impact(snap: Snapshot, findings: Any, backfill_spec: str | None, rows: Any = None) -> Impact:
    """Takeover diff and Exchange readiness for the matched pairs, with the backfill's attributes (``rows``: the
    engine's snapshot rows of each finding, ``Prediction.rows``)."""
    chosen = backfill.chosen(backfill_spec)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hybridx-takeover") as pool:  # the two side by side
        takeover = pool.submit(takeover_impact, snap, findings, rows)
        exchange = exchange_readiness(snap, findings, rows)
        return Impact(takeover.result(), exchange, chosen)


def write_impact(impact: Impact, out: Path, write_csv: Any) -> dict[str, Path]:
    """takeover.csv (with ``write_csv``, the findings writer), the backfill and the Exchange plan files."""
    paths = {TAKEOVER_CSV: write_csv(impact.takeover.changes, out / TAKEOVER_CSV)}
    paths.update(backfill.write_backfill(impact.takeover.changes, out, impact.backfill))
    paths.update(exchange_plan.write_exchange_plan(impact.exchange.findings, out))
    return paths
