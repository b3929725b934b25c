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
                           "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "assess_core" in proc.stdout and "speed-up" in proc.stdout
    (result,) = json.loads(out.read_text())["results"]
    stages = {"read_exports_csv_json", "read_ldif", "snapshot_write", "snapshot_load", "engine", "readiness",
              "plan", "reference_engine", "notebook_html"}
    assert stages <= set(result["timings"])
    assert result["agreement"]["compared"] > 9000
    assert result["agreement"]["disagree"] == 0, result["agreement"]["examples"]
    assert result["html_mb"] > 0 and result["job_rss_gb"] > 0 and result["core_rss_gb"] > 0
