"""The benchmark at 10k users as a smoke test: every stage runs and the reference agrees. No timing assertions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT


@pytest.mark.slow
def test_benchmark_runs_every_stage_at_10k(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run_bench.py"), "--sizes", "10000",
                           "--json", str(out)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for label in ("assess_core", "job_exports", "reference ÷ engine", "reference ÷ whole job",
                  "seconds per 100k users", "≤ 30 s", "≤ 12 s"):
        assert label in proc.stdout, label
    data = json.loads(out.read_text())
    (result,) = data["results"]
    stages = {"read_ad_csv", "read_entra_json", "read_csv_json", "read_ldif", "snapshot_write", "snapshot_load",
              "engine", "readiness", "plan", "assess_core", "reference_engine", "redact_extra", "job_snapshot",
              "job_exports"}
    assert stages <= set(result["timings"])
    assert data["targets_at_1m"]["job_exports"] == 30.0
    assert data["command"].startswith("python bench/run_bench.py --sizes 10000")
    assert str(tmp_path) not in out.read_text()  # no absolute path of this machine in the results
    assert result["agreement"]["compared"] > 9000
    assert result["agreement"]["disagree"] == 0, result["agreement"]["examples"]
    assert result["ratio_engine"] > 0 and result["ratio_job"] > 0
    assert result["html_mb"] > 0 and result["job_exports_rss_gb"] > 0 and result["core_rss_gb"] > 0
