"""Time the takeover diff and the Hybrid Exchange checks at N users per side, on the demo tenant in memory.

    python bench/bench_takeover.py --users 1000000

The demo tenant carries the attributes, drift and Exchange states of issue 13 (demo/drift.py); the figures are
what the takeover adds to an assessment: the diff (engine/takeover.py), writing takeover.csv, and the Exchange
readiness (readiness/exchange.py). Target: the diff plus takeover.csv adds at most 10 s at 1M users per side.
bench/run_bench.py measures the same stages (takeover, takeover_csv, exchange) on a snapshot read from export files.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hybridx_nb.app.assess import write_findings_csv  # noqa: E402
from hybridx_nb.demo.tenant import generate  # noqa: E402
from hybridx_nb.engine.match import EngineSettings, predict  # noqa: E402
from hybridx_nb.engine.takeover import takeover_impact  # noqa: E402
from hybridx_nb.readiness.exchange import exchange_readiness  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    args = parser.parse_args()
    t: dict[str, float] = {}
    start = time.perf_counter()
    tenant = generate(users=args.users, seed=11)
    t["generate"] = time.perf_counter() - start
    start = time.perf_counter()
    findings = predict(tenant.snapshot, EngineSettings()).findings
    t["engine"] = time.perf_counter() - start
    start = time.perf_counter()
    result = takeover_impact(tenant.snapshot, findings)
    t["takeover"] = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        write_findings_csv(result.changes, Path(folder) / "takeover.csv")
        t["takeover_csv"] = time.perf_counter() - start
    start = time.perf_counter()
    exchange = exchange_readiness(tenant.snapshot, findings)
    t["exchange"] = time.perf_counter() - start
    out = {"users": args.users, "pairs": result.pairs, "changes": len(result.changes),
           "exchange_findings": len(exchange.findings),
           "timings": {k: round(v, 2) for k, v in t.items()},
           "takeover_added_s": round(t["takeover"] + t["takeover_csv"], 2),
           "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, 2)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
