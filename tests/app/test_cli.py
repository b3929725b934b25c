"""The command line stays quiet and says what it wrote: no kernel transport warning, every file listed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT


@pytest.mark.slow
def test_demo_is_quiet_and_lists_every_file_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "hybridx_nb.app.cli", "demo", "--users", "100", "--out", str(out),
                           "--quiet"], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert "without encryption" not in proc.stderr and "WARNING" not in proc.stderr, proc.stderr
    written = {p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")}  # not the hidden marker
    listed = {Path(line.split()[0]) for line in proc.stdout.splitlines() if line.strip().startswith(str(out))}
    assert written and listed == written, (sorted(written - listed), sorted(listed - written))
    assert {"assessment.html", "findings.xlsx", "ad.csv", "tenant.json"} <= {p.name for p in listed}
    assert not (out / "kernel.log").exists()
