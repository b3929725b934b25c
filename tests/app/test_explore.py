"""The explore notebook's library (one person's whole story, categories per OU and domain, anchor kinds) and the
notebook itself through papermill, on a snapshot folder and on the demo's output folder."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from support.report_frames import GUIDS, assessment_for, demo_report, hand_snapshot

from hybridx_nb.app import explore as x
from hybridx_nb.app.runner import notebook_path
from hybridx_nb.core.errors import HybridxError
from hybridx_nb.snapshot.store import write_snapshot


@pytest.fixture(scope="module")
def a():
    return assessment_for(hand_snapshot())


def test_story_finds_a_person_by_any_name(a) -> None:
    for who in ("carol@contoso.com", "CAROL COLE", "carol"):
        s = x.story(a, who)
        assert len(s.ad) == 1 and len(s.cloud) == 1 and len(s.findings) == 1
        assert s.findings["category"].iloc[0] == "anchor_mismatch"
    anchors = x.story(a, "carol").anchors
    assert set(anchors["where"]) == {"AD objectGUID", "cloud ImmutableID"}
    assert set(anchors["kind"]) == {"guid_string", "okta_user_id"}
    assert GUIDS["carol"] in anchors["guid"].tolist()
    html = x.story(a, "carol")._repr_html_()
    assert "Every form of the anchors" in html and "Directory readiness" in html
    with pytest.raises(HybridxError, match="nobody called"):
        x.story(a, "nobody@nowhere.example")


def test_story_of_a_cloud_only_user_and_the_planted_script_stays_text(a) -> None:
    s = x.story(a, "erin@contoso.com")
    assert len(s.ad) == 0 and len(s.cloud) == 1 and s.findings["category"].tolist() == ["cloud_only"]
    html = x.story(a, "dave")._repr_html_()
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_tables_and_chart(a) -> None:
    cats = x.by_category(a)
    assert cats.index[0] == "anchor_mismatch" and cats.loc["hard_match", "identities"] == 1
    assert not cats.loc["hard_match", "needs action"]
    assert x.anchor_kinds(a).loc["okta_user_id", "anchor_mismatch"] == 1
    assert x.top_domains(a).index.tolist() == ["contoso.com"]
    per_ou = x.categories_per(a, "ou")
    assert "Staff" in per_ou.index and per_ou.sum().sum() == len(a.findings)
    assert x.categories_per(a, "domain").sum().sum() == len(a.findings)
    fig = x.chart(a, "ou")
    assert len(fig.axes[0].patches) > 0
    with pytest.raises(HybridxError):
        x.categories_per(a, "colour")


def test_load_needs_one_source(tmp_path: Path) -> None:
    with pytest.raises(HybridxError, match="either"):
        x.load()
    with pytest.raises(HybridxError, match="summary.json"):
        x.load(assessment=tmp_path)
    loaded = x.load(snapshot=write_snapshot(hand_snapshot(), tmp_path / "snap"))
    assert loaded.counts["anchor_mismatch"] == 1


def _run(params: dict, out: Path) -> nbformat.NotebookNode:
    import papermill as pm

    source = notebook_path().parent / "explore.ipynb"
    pm.execute_notebook(str(source), str(out), parameters=params, kernel_name="python3", progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    for cell in nb.cells:
        assert not any(o.get("output_type") == "error" for o in cell.get("outputs", [])), cell.source[:60]
    return nb


@pytest.mark.slow
def test_explore_notebook_on_the_demo_output_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    result, _ = demo_report(tmp_path_factory.mktemp("explore-demo"))
    nb = _run({"assessment": str(result.out), "by": "domain"}, tmp_path_factory.mktemp("nb") / "explore.ipynb")
    outputs = {c.id: c.outputs for c in nb.cells if c.cell_type == "code"}
    story = "".join(o.get("data", {}).get("text/html", "") for o in outputs["story"])
    assert "Every form of the anchors" in story and "Finding (1)" in story
    assert any("image/png" in o.get("data", {}) for o in outputs["chart"])  # the matplotlib chart
    assert "contoso.com" in str(outputs["domains"])


@pytest.mark.slow
def test_explore_notebook_on_a_snapshot(tmp_path: Path) -> None:
    snap = write_snapshot(hand_snapshot(), tmp_path / "snap")
    nb = _run({"assessment": None, "snapshot": str(snap), "who": "Bob Baker"}, tmp_path / "explore.ipynb")
    story = next(c for c in nb.cells if c.get("id") == "story")
    assert "bob@contoso.com" in str(story.outputs)
