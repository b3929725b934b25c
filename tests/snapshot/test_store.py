"""Snapshots: canonical frames written as Parquet + manifest, verified when loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot import schema
from hybridx_nb.snapshot.store import TenantFacts, build_snapshot, load_snapshot, write_snapshot

GUID = "f7cc07d7-7c15-447d-876d-c01b0e5a9e38"


def _snap():
    ad = pd.DataFrame({"dn": ["CN=Zoë Ünal,OU=Staff,DC=contoso,DC=com"], "object_guid": [GUID],
                       "proxy_addresses": [["SMTP:zoe@contoso.com", "smtp:z@contoso.com"]], "enabled": ["True"]})
    entra = pd.DataFrame({"id": ["e1"], "upn": ["zoe@contoso.com"], "immutable_id": [""],
                          "on_prem_sync_enabled": [None], "assigned_licenses": [["sku-1"]]})
    tenant = TenantFacts(tenant_id="t1", features={"blockSoftMatchEnabled": True}, okta_provisioning_mode="user_sync")
    return build_snapshot({"ad_users": ad, "entra_users": entra}, tenant, {"ad_users": "ad.csv"})


def test_round_trip_keeps_values_and_types(tmp_path: Path) -> None:
    folder = write_snapshot(_snap(), tmp_path / "snap")
    loaded = load_snapshot(folder)
    ad, entra = loaded["ad_users"], loaded["entra_users"]
    assert ad.loc[0, "proxy_addresses"] == ["SMTP:zoe@contoso.com", "smtp:z@contoso.com"]
    assert ad["proxy_addresses"].dtype == schema.LIST_DTYPE
    assert ad.loc[0, "enabled"] is True or bool(ad.loc[0, "enabled"]) is True
    assert pd.isna(entra.loc[0, "immutable_id"])  # empty string is missing
    assert pd.isna(entra.loc[0, "on_prem_sync_enabled"])  # null stays null, not False
    assert loaded.tenant.okta_provisioning_mode == "user_sync"
    assert loaded.tenant.feature("blockSoftMatchEnabled") is True
    assert loaded.tenant.feature("softMatchOnUpnEnabled") is True  # Entra's default
    assert loaded.tenant.assumed() == ["softMatchOnUpnEnabled", "blockCloudObjectTakeoverThroughHardMatchEnabled"]
    assert loaded["okta_users"].empty and list(loaded["okta_users"].columns) == schema.OKTA_USERS.names


def test_manifest_records_provenance(tmp_path: Path) -> None:
    folder = write_snapshot(_snap(), tmp_path / "snap")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["ad_users"]["rows"] == 1
    assert manifest["tables"]["ad_users"]["source"] == "ad.csv"
    assert len(manifest["tables"]["entra_users"]["sha256"]) == 64
    assert manifest["tenant"]["tenant_id"] == "t1"
    assert manifest["hybridx_version"]


def test_tampered_table_is_refused(tmp_path: Path) -> None:
    folder = write_snapshot(_snap(), tmp_path / "snap")
    path = folder / "entra_users.parquet"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(InputError, match="content hash differs"):
        load_snapshot(folder)


def test_not_a_snapshot(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no manifest.json"):
        load_snapshot(tmp_path)


def test_rewrite_replaces_atomically(tmp_path: Path) -> None:
    write_snapshot(_snap(), tmp_path / "snap")
    write_snapshot(_snap(), tmp_path / "snap")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


def test_conform_refuses_missing_required_column() -> None:
    with pytest.raises(schema.SchemaError, match="object_guid"):
        schema.conform("ad_users", pd.DataFrame({"dn": ["CN=x"]}))


def test_conform_refuses_bad_boolean() -> None:
    with pytest.raises(schema.SchemaError, match="maybe"):
        schema.conform("entra_users", pd.DataFrame({"id": ["1"], "upn": ["a@b.c"], "account_enabled": ["maybe"]}))


def test_rejected_rows_shape() -> None:
    rows = schema.rejected_rows("ad_users", "ad.csv", "bad GUID", line=pd.Series([3, 9]), key=pd.Series(["a", "b"]))
    assert rows["line"].tolist() == [3, 9] and set(rows["reason"]) == {"bad GUID"}
