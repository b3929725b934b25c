"""The Arrow fast path of the Graph JSON reader gives exactly what the exact path gives, and steps aside whenever
it cannot be sure: a key missing from a later record, a value of the wrong JSON type, another layout."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hybridx_nb.core.errors import InputError
from hybridx_nb.demo.tenant import generate, write_exports
from hybridx_nb.sources import json_arrow, text
from hybridx_nb.sources.files import entra_arrow, entra_export
from hybridx_nb.sources.files.entra_export import ENTRA_FIELDS, read_entra

pytestmark = pytest.mark.usefixtures("reading")  # in memory and streamed (tests/conftest.py)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """The demo tenant's Graph export (2,500 users: three pages of at most 999), one page object per line."""
    files = write_exports(generate(users=2500, seed=3), tmp_path_factory.mktemp("demo"))
    lines = Path(files["entra"]).read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 3
    return [json.loads(line) for line in lines]


def _write(path: Path, pages: list[dict]) -> Path:
    path.write_text("".join(json.dumps(p, separators=(",", ":")) + "\n" for p in pages), encoding="utf-8")
    return path


def _arrow_taken(path: Path) -> bool:
    return entra_arrow.read(text.read_text(path), ENTRA_FIELDS, entra_export._field_kind) is not None


def _exact(path: Path, monkeypatch: pytest.MonkeyPatch, **kw: bool):
    with monkeypatch.context() as m:
        m.setattr(entra_arrow, "read", lambda *a, **k: None)
        return read_entra(path, **kw)


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.tables["entra_users"], b.tables["entra_users"])
    pd.testing.assert_frame_equal(a.rejected, b.rejected)
    assert a.coverage == b.coverage


def test_demo_export_takes_the_arrow_path_and_reads_the_same(pages, tmp_path, monkeypatch) -> None:
    path = _write(tmp_path / "entra.json", pages)
    assert _arrow_taken(path)
    _same(read_entra(path), _exact(path, monkeypatch))


def _later(pages: list[dict], change) -> list[dict]:
    """The pages with ``change`` applied to the fifth user of the second page (past the sampled first page)."""
    pages = json.loads(json.dumps(pages))
    change(pages[1]["value"][4])
    return pages


def _pascal_objects(user: dict) -> None:
    user["onPremisesExtensionAttributes"] = {"ExtensionAttribute1": "Pascal"}
    user["assignedPlans"] = [{"Service": "exchange", "CapabilityStatus": "Suspended"}]
    user["provisionedPlans"] = [{"Service": "exchange", "CapabilityStatus": "Enabled",
                                 "ProvisioningStatus": "Success"}]


@pytest.mark.parametrize("change, arrow", [
    (_pascal_objects, True),
    (lambda u: u.update(manager={"id": "0b0c0d0e-0000-4000-8000-000000000001"}), True),
    (lambda u: u.update(businessPhones=["+1 555 0100", "+1 555 0101"]), True),
    (lambda u: u.pop("onPremisesImmutableId"), False),       # which records carried it: the exact path says
    (lambda u: u.update(onPremisesImmutableId=12345), False),  # a number: rejected by the exact path
    (lambda u: u.update(accountEnabled="yes"), False),
    (lambda u: u.update(onPremisesLastSyncDateTime="2026-11-02T08:00:00Z"), False),  # a property turns up later
    (lambda u: u.update(ImmutableId="x"), True),  # a second spelling of a property read: ignored by both paths
    (lambda u: u.update(proxyAddresses="SMTP:a@b"), False),
], ids=["pascal-objects", "manager-later", "phones", "key-missing", "number", "bool-text", "new-property",
        "alias", "list-text"])
def test_a_later_record_either_reads_the_same_or_sends_the_file_to_the_exact_path(pages, tmp_path, monkeypatch,
                                                                                   change, arrow) -> None:
    path = _write(tmp_path / "entra.json", _later(pages, change))
    assert _arrow_taken(path) is arrow
    _same(read_entra(path), _exact(path, monkeypatch))


def test_a_missing_key_is_still_recorded_per_record(pages, tmp_path) -> None:
    path = _write(tmp_path / "entra.json", _later(pages, lambda u: u.pop("onPremisesImmutableId")))
    users = read_entra(path).tables["entra_users"]
    flagged = users[users["not_exported"].map(len) > 0]
    assert len(flagged) == 1 and list(flagged["not_exported"].iloc[0]) == ["immutable_id"]


def test_a_wrong_type_is_still_a_rejected_row(pages, tmp_path) -> None:
    path = _write(tmp_path / "entra.json", _later(pages, lambda u: u.update(onPremisesImmutableId=12345)))
    result = read_entra(path)
    assert len(result.rejected) == 1 and "a number" in result.rejected["reason"].iloc[0]


@pytest.mark.parametrize("layout", ["pretty", "array_of_pages", "crlf"])
def test_other_layouts_read_the_same(pages, tmp_path, monkeypatch, layout) -> None:
    path = tmp_path / "entra.json"
    if layout == "pretty":
        path.write_text("\n".join(json.dumps(p, indent=2) for p in pages), encoding="utf-8")
    elif layout == "array_of_pages":
        path.write_text(json.dumps(pages), encoding="utf-8")
    else:
        path.write_bytes(_write(path, pages).read_bytes().replace(b"\n", b"\r\n"))
    assert _arrow_taken(path) is (layout == "crlf")
    _same(read_entra(path), _exact(path, monkeypatch))


def test_a_cut_export_is_refused_on_the_arrow_path_too(pages, tmp_path, monkeypatch) -> None:
    path = _write(tmp_path / "entra.json", pages[:-1])
    assert _arrow_taken(path)
    with pytest.raises(InputError, match="@odata.nextLink"):
        read_entra(path)
    partial = read_entra(path, allow_partial=True)
    assert "entra_users" in partial.coverage.incomplete
    _same(partial, _exact(path, monkeypatch, allow_partial=True))


def _attempts(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """How Arrow was asked to treat keys the record type does not name, parse by parse."""
    asked: list[str] = []
    real = json_arrow.pj.read_json

    def spy(*args, **kwargs):
        asked.append(kwargs["parse_options"].unexpected_field_behavior)
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(json_arrow.pj, "read_json", spy)
        _arrow_taken(path)
    return asked


def _first(pages: list[dict], change) -> list[dict]:
    pages = json.loads(json.dumps(pages))
    change(pages[0]["value"][0])
    return pages


@pytest.mark.parametrize("build, asked", [
    (lambda pages: pages, ["error"]),  # Graph's own shape: one parse, nothing but Graph's keys built
    (lambda pages: _later(pages, _pascal_objects), ["error", "ignore"]),  # a key Graph does not write: parsed again
    (lambda pages: _later(pages, lambda u: u.update(employeeType="x")), ["error", "ignore"]),
    (lambda pages: _first(pages, lambda u: u.update(employeeType="x")), ["ignore"]),  # seen in the first records
    (lambda pages: _later(pages, lambda u: u.update(accountEnabled="yes")), ["error"]),  # a wrong type: exact path
], ids=["graph", "pascal-later", "extra-later", "extra-first", "wrong-type"])
def test_graph_shape_is_parsed_first_and_anything_else_by_the_tolerant_type(pages, tmp_path, monkeypatch, build,
                                                                            asked) -> None:
    path = _write(tmp_path / "entra.json", build(pages))
    assert _attempts(path, monkeypatch) == asked
    _same(read_entra(path), _exact(path, monkeypatch))
