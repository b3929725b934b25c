"""The typed fast path for big JSON exports gives what the general path gives, and steps aside when in doubt."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from support import DATA

from hybridx_nb.sources import json_columns
from hybridx_nb.sources.files import entra_export
from hybridx_nb.sources.files.entra_export import read_entra
from hybridx_nb.sources.files.okta_export import read_okta
from hybridx_nb.sources.text import Text, json_records, load_json_documents


def _general(reader, path: Path, **options):  # type: ignore[no-untyped-def]
    """The reader with the fast path switched off."""
    with mock.patch.object(json_columns, "decode", return_value=None):
        return reader(path, **options)


def _same(reader, path: Path, **options) -> None:  # type: ignore[no-untyped-def]
    fast, general = reader(path, **options), _general(reader, path, **options)
    assert fast.tables.keys() == general.tables.keys()
    for name in fast.tables:
        pd.testing.assert_frame_equal(fast.tables[name], general.tables[name])
    pd.testing.assert_frame_equal(fast.rejected, general.rejected)
    assert fast.source == general.source


def _users() -> list[dict]:
    return [u for page in load_json_documents(Text(DATA / "entra.json", (DATA / "entra.json").read_text(), "UTF-8"))
            for u in page["value"]]


@pytest.mark.parametrize("case", ["pages", "array", "mixed_case_later", "key_missing_later", "later_name_later",
                                  "earlier_name_later", "not_an_object", "nan", "bool_as_text", "licences_as_ids"])
def test_entra_fast_path_agrees(tmp_path: Path, case: str) -> None:
    users = _users()
    many = [dict(u, id=f"{i:08x}-0000-4000-8000-000000000000", userPrincipalName=f"u{i}@contoso.com")
            for i in range(1200) for u in users[:1]] + users  # past the 1000 records the keys are taken from
    if case == "mixed_case_later":
        many[-1] = {k.upper(): v for k, v in many[-1].items()}
    elif case == "key_missing_later":
        del many[-1]["mail"]
    elif case == "later_name_later":  # onPremisesImmutableId comes first and is there: this changes nothing
        many[-1]["ImmutableId"] = "abc"
    elif case == "earlier_name_later":  # UPN everywhere, then userPrincipalName, the name read first
        many = [{("UPN" if k == "userPrincipalName" else k): v for k, v in u.items()} for u in many]
        many[-1]["userPrincipalName"] = "late@contoso.com"
    elif case == "not_an_object":
        many.append("not a user")
    elif case == "bool_as_text":
        many[-1]["accountEnabled"] = "True"
    elif case == "licences_as_ids":
        many[-1]["assignedLicenses"] = ["06ebc4ee-1bb5-47dd-8120-11324bc54e06"]
    text = ("\n".join(json.dumps({"value": many[i:i + 500]}) for i in range(0, len(many), 500))
            if case == "pages" else json.dumps(many))
    if case == "nan":
        text = text.replace('"accountEnabled": true', '"accountEnabled": NaN', 1)
    path = tmp_path / "users.json"
    path.write_text(text, encoding="utf-8")
    _same(read_entra, path)
    if case in ("mixed_case_later", "key_missing_later", "earlier_name_later", "not_an_object", "nan"):
        assert entra_export._fast_columns(Text(path, text, "UTF-8")) is None  # the general path decided


def test_okta_fast_path_agrees(tmp_path: Path) -> None:
    for name in ("okta-users.json", "okta-app-users.json"):
        records = json_records(load_json_documents(Text(DATA / name, (DATA / name).read_text(), "UTF-8")))
        for variant, content in (("plain", records), ("odd_key", records[:-1] + [
                dict(records[-1], profile={"ImmutableID": "x", **{k: v for k, v in (records[-1].get("profile") or {})
                                                                   .items() if k.lower() != "immutableid"}})])):
            path = tmp_path / f"{variant}-{name}"
            path.write_text(json.dumps(content), encoding="utf-8")
            _same(read_okta, path, app_id="0oa1b2c3d4E5f6G7h8i9")


@pytest.mark.parametrize("text, values", [
    ('["ééé"][1]', [["ééé"], [1]]), ('{"a":\n1}\n,\ufeff{"b":[2]} ', [{"a": 1}, {"b": [2]}]), ("1 2", [1, 2]),
    ('{"a":1} [NaN]', [{"a": 1}, [float("nan")]]),
])
def test_several_values(text: str, values: list[object]) -> None:
    got = load_json_documents(Text(Path("x.json"), text, "UTF-8"))
    assert json.dumps(got) == json.dumps(values)
