"""Entra Connect's pending export: csexport /f:x XML (streamed) and CSExportAnalyzer CSV, one row per object."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from support import DATA, ROOT

from hybridx_nb.core.errors import InputError
from hybridx_nb.demo import staging
from hybridx_nb.sources.files.csexport import (
    PENDING_COLUMNS,
    anchor_from_cs_dn,
    read_analyzer_csv,
    read_csexport_xml,
    read_pending_export,
)

ADA, GRACE, KATHERINE, GROUP = ("BpazOkLGm0iEtljAONPvOQ==", "3PNdoRZES0GLfV+9y1dDwQ==", "1wfM9xV8fUSHbcAbDlqeOA==",
                                "x7Qw2ZbB9Ua5bX0lZq3Jjg==")


def test_xml_fixture_one_row_per_object_with_the_values_it_will_have():
    p = read_pending_export(DATA / "aad-pending-export.xml")
    o = p.objects.set_index("source_anchor")
    assert list(p.objects.columns) == list(PENDING_COLUMNS) and len(p.rejected) == 0
    assert o["operation"].to_dict() == {ADA: "add", GRACE: "update", KATHERINE: "delete", GROUP: "add"}
    assert o.loc[ADA, ["upn", "smtp", "display_name"]].tolist() == ["ada.lovelace@contoso.com"] * 2 + ["Ada Lovelace"]
    # an update's delta holds only the changed values: the primary SMTP comes from the exported hologram
    assert o.loc[GRACE, "smtp"] == "grace.hopper@contoso.com" and o.loc[GRACE, "changed"] == "department;proxyAddresses"
    # a delete keeps the values the object had (synchronized hologram)
    assert o.loc[KATHERINE, "upn"] == "katherine.johnson@contoso.com"
    assert o.loc[GROUP, "object_type"] == "group" and pd.isna(o.loc[GROUP, "upn"])
    assert pd.isna(o.loc[ADA, "cloud_anchor"])  # not carried is missing, not empty


def test_analyzer_csv_folds_attribute_rows_back_into_objects():
    p = read_pending_export(DATA / "aad-pending-export.csv")
    o = p.objects.set_index("source_anchor")
    assert o["operation"].to_dict() == {ADA: "add", GRACE: "update", KATHERINE: "delete", GROUP: "add"}
    assert o.loc[ADA, ["upn", "smtp", "object_type"]].tolist() == ["ada.lovelace@contoso.com"] * 2 + ["user"]
    assert o.loc[GRACE, "changed"] == "department;proxyAddresses"
    assert pd.isna(o.loc[GROUP, "object_type"]) and o["record"].tolist() == [2, 9, 11, 12]  # first line of each


def test_the_anchor_spelled_in_the_connector_dn():
    dns = pd.Series(["CN={4270617A4F6B4C476D306945746C6A414F4E50764F513D3D}", "CN=Alice,OU=x", "CN={ZZ}", None],
                    dtype="str")
    assert anchor_from_cs_dn(dns).tolist()[:1] == [ADA] and anchor_from_cs_dn(dns)[1:].isna().all()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_demo_writer_round_trips_in_both_encodings_and_both_formats(tmp_path, encoding):
    objects = staging.synthetic_pending(50)
    objects.loc[[3, 7], "operation"] = ["update", "delete"]
    objects.loc[5, "display_name"] = "<b>O'Brien & \"Sons\"</b>"
    xml = read_csexport_xml(staging.write_csexport_xml(objects, tmp_path / "x.xml", encoding=encoding)).objects
    cols = ["cs_dn", "operation", "source_anchor", "upn", "smtp", "display_name"]
    assert xml[cols].equals(objects[cols].astype("str"))
    csv = read_analyzer_csv(staging.write_analyzer_csv(objects, tmp_path / "x.csv")).objects
    assert csv["source_anchor"].tolist() == objects["source_anchor"].tolist()
    assert csv.loc[5, "display_name"] == objects.loc[5, "display_name"] and pd.isna(csv.loc[7, "upn"])


def test_bad_objects_are_set_aside_with_a_reason(tmp_path):
    path = tmp_path / "x.xml"
    path.write_text('<cs-objects><cs-object cs-dn="CN=a" object-type="user"><unapplied-export>'
                    '<delta operation="frobnicate"/></unapplied-export></cs-object>'
                    '<cs-object object-type="user"/><cs-object cs-dn="CN=b" object-type="user"/></cs-objects>')
    p = read_csexport_xml(path)
    assert p.objects["operation"].tolist() == ["none"]
    reasons = ["unknown export operation 'frobnicate'", "the cs-object has no cs-dn attribute"]
    assert p.rejected["reason"].tolist() == reasons and p.rejected["line"].tolist() == [1, 2]


def test_truncated_xml_names_the_line(tmp_path):
    text = (DATA / "aad-pending-export.xml").read_text()
    path = tmp_path / "cut.xml"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InputError, match=r"cut\.xml, line \d+: not well-formed XML") as err:
        read_pending_export(path)
    assert "csexport" in str(err.value)


def test_other_files_are_refused_clearly(tmp_path):
    (tmp_path / "a.xml").write_text("<users><user/></users>")
    with pytest.raises(InputError, match="root element is <users>"):
        read_pending_export(tmp_path / "a.xml")
    (tmp_path / "b.csv").write_text("Name,Value\nx,y\n")
    with pytest.raises(InputError, match="required column.*CSDN"):
        read_pending_export(tmp_path / "b.csv")
    (tmp_path / "c.xml").write_text("  \n")
    with pytest.raises(InputError, match="empty"):
        read_pending_export(tmp_path / "c.xml")


_MEASURE = textwrap.dedent("""
    import json, resource, sys
    from hybridx_nb.sources.files.csexport import read_csexport_xml
    import pandas, pyarrow  # imported before the baseline
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    p = read_csexport_xml(sys.argv[1])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": len(p.objects), "growth_mb": (after - before) / 1024,
                      "adds": int((p.objects["operation"] == "add").sum())}))
""")


@pytest.mark.slow
def test_a_100k_object_export_streams_within_a_memory_ceiling(tmp_path):
    path = staging.write_csexport_xml(staging.synthetic_pending(100_000), tmp_path / "big.xml")
    size_mb = path.stat().st_size / 1e6
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT)}, cwd=ROOT)
    result = json.loads(out.stdout)
    assert result["rows"] == result["adds"] == 100_000
    # a parsed tree of this file would take several times its size; streaming keeps the peak to the kept columns
    assert size_mb > 150 and result["growth_mb"] < 120, result
