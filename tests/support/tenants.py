"""Hand-built tenants for engine tests: rows with sensible defaults, so a test reads like the case it describes.

Every builder takes a short ``name`` ("alice") and derives the rest from it: GUIDs and ids are stable (uuid5 of
the name), the UPN and primary SMTP address are ``name@contoso.com``. Override any column by keyword::

    snap = tenant(
        ad=[ad_user("alice")],
        entra=[entra_user("alice", immutable_id=okta_id("alice"))],
        okta_users=[okta_user("alice")],
    )

``anchor_of(name)`` is the ImmutableID Entra Connect computes from the objectGUID of ``ad_user(name)``;
``okta_id(name)`` is the Okta user id ``okta_user(name)`` gets.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import pandas as pd

from hybridx_nb.core import anchors
from hybridx_nb.snapshot.store import Snapshot, TenantFacts, build_snapshot

DOMAIN = "contoso.com"
INITIAL_DOMAIN = "contoso.onmicrosoft.com"


def guid_of(name: str) -> str:
    """The objectGUID ``ad_user(name)`` gets."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ad:{name}"))


def anchor_of(name: str) -> str:
    """base64 of the objectGUID bytes of ``ad_user(name)``: its ImmutableID under the objectGUID anchor."""
    return anchors.guid_to_immutable_id(guid_of(name))


def consistency_guid_of(name: str) -> str:
    """A ConsistencyGuid (base64) that differs from the objectGUID, for users whose two anchors disagree."""
    return anchors.guid_to_immutable_id(str(uuid.uuid5(uuid.NAMESPACE_URL, f"cg:{name}")))


def entra_id_of(name: str) -> str:
    """The object id ``entra_user(name)`` gets."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"entra:{name}"))


def okta_id(name: str) -> str:
    """The Okta user id (``00u`` + 17 alphanumerics) ``okta_user(name)`` gets."""
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode().lower()
    return "00u" + "".join(ch for ch in digest if ch.isalnum())[:17]


def ad_user(name: str, *, domain: str = DOMAIN, ou: str = "OU=Staff", **columns: Any) -> dict[str, Any]:
    """An ad_users row: an ordinary enabled user with one primary SMTP address."""
    row = {
        "dn": f"CN={name},{ou},DC=contoso,DC=com",
        "object_guid": guid_of(name),
        "sam_account_name": name,
        "upn": f"{name}@{domain}",
        "mail": f"{name}@{domain}",
        "proxy_addresses": [f"SMTP:{name}@{domain}"],
        "display_name": name.title(),
        "enabled": True,
        "object_class": "user",
        "is_critical_system_object": False,
    }
    row.update(columns)
    return row


def entra_user(name: str, *, domain: str = DOMAIN, **columns: Any) -> dict[str, Any]:
    """An entra_users row: a licensed cloud-managed member with the same address as ``ad_user(name)``."""
    row = {
        "id": entra_id_of(name),
        "upn": f"{name}@{domain}",
        "mail": f"{name}@{domain}",
        "proxy_addresses": [f"SMTP:{name}@{domain}"],
        "immutable_id": None,
        "on_prem_sync_enabled": None,
        "account_enabled": True,
        "user_type": "Member",
        "display_name": name.title(),
        "assigned_licenses": ["6fd2c87f-b296-42f0-b197-1e91e994b900"],
    }
    row.update(columns)
    return row


def okta_user(name: str, **columns: Any) -> dict[str, Any]:
    """An okta_users row for ``name@contoso.com``."""
    row = {"id": okta_id(name), "status": "ACTIVE", "login": f"{name}@{DOMAIN}", "email": f"{name}@{DOMAIN}",
           "provider_type": "ACTIVE_DIRECTORY"}
    row.update(columns)
    return row


def okta_app_user(name: str, **columns: Any) -> dict[str, Any]:
    """An okta_app_users row of the Office 365 app, linked to ``entra_user(name)`` by external_id."""
    row = {"app_id": "0oa365", "user_id": okta_id(name), "app_label": "Microsoft Office 365",
           "external_id": entra_id_of(name), "user_name": f"{name}@{DOMAIN}", "immutable_id": anchor_of(name),
           "status": "PROVISIONED", "scope": "USER"}
    row.update(columns)
    return row


def role(name: str, role_name: str = "Global Administrator") -> dict[str, Any]:
    """An entra_role_members row: ``entra_user(name)`` holds ``role_name``."""
    return {"principal_id": entra_id_of(name), "role_name": role_name}


def domain(name: str, *, federated: bool = False, initial: bool = False) -> dict[str, Any]:
    """An entra_domains row."""
    return {"name": name, "authentication_type": "Federated" if federated else "Managed", "is_verified": True,
            "is_default": False, "is_initial": initial}


#: The tenant's domains unless a test says otherwise: contoso.com (managed) and the initial onmicrosoft domain.
DEFAULT_DOMAINS = (domain(DOMAIN), domain(INITIAL_DOMAIN, initial=True))


def tenant(ad: list[dict] = (), entra: list[dict] = (), *, okta_users: list[dict] | None = None,
           okta_app_users: list[dict] | None = None, roles: list[dict] | None = (),
           domains: list[dict] | None = DEFAULT_DOMAINS, features: dict[str, bool] | None = None) -> Snapshot:
    """A validated snapshot of the given rows.

    An optional table is in the snapshot when its argument is a list (even empty) and absent when it is None:
    Okta tables are absent by default, role holders are collected (none) and domains are ``DEFAULT_DOMAINS``.
    ``features`` are the tenant's onPremisesSynchronization flags; unset flags take Entra's defaults.
    """
    tables = {"ad_users": _frame(ad, ["dn", "object_guid"]), "entra_users": _frame(entra, ["id", "upn"])}
    for table, rows, required in (("okta_users", okta_users, ["id"]),
                                  ("okta_app_users", okta_app_users, ["app_id", "user_id"]),
                                  ("entra_role_members", roles, ["principal_id", "role_name"]),
                                  ("entra_domains", domains, ["name"])):
        if rows is not None:
            tables[table] = _frame(rows, required)
    return build_snapshot(tables, TenantFacts(features=dict(features or {})))


def _frame(rows: list[dict], required: list[str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows)) if rows else pd.DataFrame({c: [] for c in required})
