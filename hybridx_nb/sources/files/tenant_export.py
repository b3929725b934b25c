"""Tenant facts from hybridx's tenant JSON (README.md, section Export files): Graph's organization, domains,
onPremisesSynchronization and role holders, plus the Okta provisioning mode. Every key is optional.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hybridx_nb.core.errors import InputError
from hybridx_nb.core.vocabulary import PROVISIONING_MODES
from hybridx_nb.snapshot import schema
from hybridx_nb.snapshot.store import TenantFacts
from hybridx_nb.sources import common, text
from hybridx_nb.sources.common import ReadResult
from hybridx_nb.sources.text import Text

_KEYS = ("organization", "domains", "onPremisesSynchronization", "roleMembers", "okta")


def read_tenant(path: str | Path, doc: Text | None = None) -> ReadResult:
    """``TenantFacts`` plus the ``entra_domains`` and ``entra_role_members`` tables, where the file has them."""
    doc = doc or text.read_text(path)
    documents = text.load_json_documents(doc)
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise InputError(doc.path, "expected one JSON object with the keys " + ", ".join(_KEYS),
                         fix="write the tenant file as shown in README.md, section Export files (tenant facts)")
    data = documents[0]
    source = f"{doc.name} (hybridx tenant JSON, {doc.encoding})"
    org = _single(doc.path, data, "organization")
    sync = _single(doc.path, data, "onPremisesSynchronization")
    features = sync.get("features", {})
    _expect(doc.path, "onPremisesSynchronization.features", features, dict, "an object of flags")
    for flag, value in features.items():
        _expect(doc.path, f"onPremisesSynchronization.features.{flag}", value, bool, "true or false")
    okta = data.get("okta") or {}
    _expect(doc.path, "okta", okta, dict, 'an object such as {"provisioningMode": "user_sync"}')
    mode = okta.get("provisioningMode")
    if mode is not None and mode not in PROVISIONING_MODES:
        raise InputError(doc.path, f"okta.provisioningMode {mode!r} is not one of {', '.join(PROVISIONING_MODES)}",
                         column="okta.provisioningMode", fix="fill in the mode the Office 365 app's Provisioning "
                         "page shows, as one of the listed values")
    org_sync = org.get("onPremisesSyncEnabled")
    _expect(doc.path, "organization.onPremisesSyncEnabled", org_sync, bool, "true, false or null")
    for key in ("id", "displayName"):
        _expect(doc.path, f"organization.{key}", org.get(key), str, "text")
    for key in ("domains", "roleMembers"):
        value = data.get(key)
        if value is not None and not isinstance(value, list) and not (
                isinstance(value, dict) and isinstance(value.get("value"), list)):
            raise InputError(doc.path, f"key {key!r} must be a list (or Graph's {{\"value\": [...]}}), not "
                             f"{type(value).__name__}", column=key, fix=_FIX)
    tenant = TenantFacts(
        tenant_id=org.get("id"), display_name=org.get("displayName"), org_sync_enabled=org_sync,
        features=dict(features), okta_provisioning_mode=mode)
    tables, rejected = {}, []
    if data.get("domains") is not None:
        domains, _, rej = text.objects_only(doc.path, "entra_domains", source,
                                              text.json_records([data["domains"]]))
        rejected.append(rej)
        frame = pd.DataFrame(common.frame_of(domains, {
            "name": ("id",), "authentication_type": ("authenticationType",), "is_verified": ("isVerified",),
            "is_default": ("isDefault",), "is_initial": ("isInitial",)}))
        frame = frame.apply(common.text_column)
        for col in ("is_verified", "is_default", "is_initial"):
            frame[col] = common.bool_text(frame[col])
        tables["entra_domains"], rej = _keep_complete(frame, "entra_domains", source, {"name": "id"}, "name")
        rejected.append(rej)
    if data.get("roleMembers") is not None:
        roles, _, rej = text.objects_only(doc.path, "entra_role_members", source,
                                            text.json_records([data["roleMembers"]]))
        rejected.append(rej)
        frame = pd.DataFrame(common.frame_of(roles, {
            "principal_id": ("principalId",), "role_name": ("roleName",), "role_id": ("roleId",)}))
        frame = frame.apply(common.text_column)
        tables["entra_role_members"], rej = _keep_complete(
            frame, "entra_role_members", source, {"principal_id": "principalId", "role_name": "roleName"},
            "principal_id")
        rejected.append(rej)
    return ReadResult(tables, common.concat(rejected, "rejected"), source, tenant=tenant)


_FIX = "write the tenant file as shown in README.md, section Export files (tenant facts)"


def _expect(path: Path, key: str, value: object, kind: type, what: str) -> None:
    """Refuse a value of the wrong JSON type (``"true"`` is not true): one line naming the key."""
    if value is not None and (not isinstance(value, kind) or kind is not bool and isinstance(value, bool)):
        raise InputError(path, f"key {key!r} is {value!r:.60} ({type(value).__name__}), not {what}", column=key,
                         fix=_FIX)


def _single(path: Path, data: dict, key: str) -> dict:
    """A Graph object given as itself or as ``{"value": [object]}``; anything else is refused."""
    value = data.get(key)
    if value is None:
        return {}
    if isinstance(value, dict) and isinstance(value.get("value"), list):
        value = value["value"][0] if value["value"] else {}
    _expect(path, key, value, dict, "an object (or Graph's {\"value\": [object]})")
    return value


def _keep_complete(frame: pd.DataFrame, table: str, source: str, required: dict[str, str],
                   key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    reason = common.reject_incomplete(frame, required, tuple(required))
    bad = reason.notna().to_numpy()
    rej = common.rejected(table, source, bad, reason, line=None, key=frame[key])
    return schema.conform(table, common.kept(frame, ~bad)), rej
