"""Tenant facts JSON: organization, domains, onPremisesSynchronization, role holders, Okta mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import DATA

from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot.store import TenantFacts
from hybridx_nb.sources.files.tenant_export import read_tenant


def test_sample_tenant_file() -> None:
    result = read_tenant(DATA / "tenant.json")
    facts = result.tenant
    assert (facts.tenant_id, facts.display_name, facts.org_sync_enabled, facts.okta_provisioning_mode) == (
        "4f7a2c1e-9b3d-4e8f-a1b2-c3d4e5f6a7b8", "Contoso Ltd", True, "user_sync")
    assert facts.feature("blockCloudObjectTakeoverThroughHardMatchEnabled") and facts.assumed() == []
    domains = result.tables["entra_domains"].set_index("name")
    assert domains.loc["contoso.com", "authentication_type"] == "Federated"
    assert domains.loc["contoso.onmicrosoft.com", "is_initial"]
    roles = result.tables["entra_role_members"]
    assert set(roles["role_name"]) == {"Global Administrator", "Exchange Administrator"}


def test_every_key_is_optional_and_objects_may_be_unwrapped(tmp_path: Path) -> None:
    path = tmp_path / "tenant.json"
    path.write_text("{}", encoding="utf-8")
    result = read_tenant(path)
    assert result.tenant == TenantFacts() and result.tables == {}
    path.write_text(json.dumps({"organization": {"id": "t1", "onPremisesSyncEnabled": None},
                                "onPremisesSynchronization": {"features": {"softMatchOnUpnEnabled": False}}}))
    facts = read_tenant(path).tenant
    assert facts.org_sync_enabled is None and facts.features == {"softMatchOnUpnEnabled": False}
    assert facts.assumed() == ["blockSoftMatchEnabled", "blockCloudObjectTakeoverThroughHardMatchEnabled"]


def test_bad_mode_and_incomplete_rows(tmp_path: Path) -> None:
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps({"okta": {"provisioningMode": "magic"}}))
    with pytest.raises(InputError, match="'magic' is not one of user_sync"):
        read_tenant(path)
    path.write_text(json.dumps({"roleMembers": [{"principalId": "a", "roleName": "Global Administrator"},
                                                {"roleName": "Global Administrator"}, 7],
                                "domains": {"value": [{"id": "contoso.com"}, {"authenticationType": "Managed"}]}}))
    result = read_tenant(path)
    assert len(result.tables["entra_role_members"]) == 1 and len(result.tables["entra_domains"]) == 1
    assert sorted(result.rejected["reason"]) == ["missing id", "missing principalId", "not a JSON object"]
    path.write_text("[1, 2]")
    with pytest.raises(InputError, match="one JSON object"):
        read_tenant(path)
