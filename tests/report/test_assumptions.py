"""Issue 10: the verdict shows an Assumptions box whenever summary.json lists any; unknown rows get their own
section; with Okta exports the report does not say "Okta not collected"."""

from __future__ import annotations

import json
from pathlib import Path

from support import DATA
from support.report_frames import assessment_for, hand_snapshot

from hybridx_nb import report
from hybridx_nb.app.assess import summary, write_outputs
from hybridx_nb.sources.files.exports import read_exports


def test_assumptions_box_in_the_verdict_matches_summary_json(tmp_path: Path) -> None:
    a = assessment_for(read_exports(DATA / "ad.csv",
                                    DATA / "entra.json", okta=DATA / "okta-users.json"))
    listed = summary(a)["assumptions"]
    assert listed and all(set(x) == {"attribute", "status", "effect", "fix"} for x in listed)
    verdict = report.verdict(report.prepare(a)).data
    assert "hx-assumptions" in verdict and f"Assumptions ({len(listed)})" in verdict
    assert "Okta provisioning mode" in verdict
    appendix = report.appendix(report.prepare(a)).data
    assert f"Assumptions ({len(listed)})" in appendix
    tenant = report.tenant_facts(report.prepare(a)).data
    assert "Okta not collected" not in tenant and "provisioning mode" in tenant
    write_outputs(a, tmp_path)
    assert json.loads((tmp_path / "summary.json").read_text())["assumptions"] == listed


def test_no_box_when_nothing_is_assumed() -> None:
    a = assessment_for(hand_snapshot())
    a.prediction.assumptions.clear()
    assert "hx-assumptions" not in report.verdict(report.prepare(a)).data


def test_unknown_rows_have_a_section_and_stop_the_go(tmp_path: Path) -> None:
    users = json.loads((DATA / "graph-page-with-nextlink.json").read_text())
    a = assessment_for(read_exports(DATA / "ad.csv", DATA / "graph-page-with-nextlink.json", allow_partial=True))
    assert a.counts["unknown"] and users
    view = report.prepare(a)
    assert 'id="cat-unknown"' in report.findings_sections(view).data
    assert "cannot be predicted from these exports" in report.verdict(view).data
