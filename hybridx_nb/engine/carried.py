"""What the prediction may rest on: the attributes the exports carried (docs/domain.md §8).

Every field a prediction needs is checked against the snapshot's coverage (``snapshot/coverage.py``). A field
without which nothing sound can be said is a refusal naming the file and the export command that carries it; a
field whose absence leaves a default in place is an ``Assumption`` that summary.json, the verdict and the appendix
show; a field missing for some records only makes those rows ``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from hybridx_nb.core.columns import one_array
from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot.coverage import MISSING, PARTIAL
from hybridx_nb.snapshot.store import Snapshot
from hybridx_nb.sources.files.ad_csv import AD_EXPORT_COMMAND
from hybridx_nb.sources.files.entra_export import ENTRA_CSV_COMMAND, ENTRA_JSON_COMMAND

_LDIF_ATTRS = ("objectClass objectGUID mS-DS-ConsistencyGuid sAMAccountName userPrincipalName mail proxyAddresses "
               "displayName givenName sn mailNickname targetAddress userAccountControl isCriticalSystemObject")


class Assumption(str):
    """A named assumption: reads as its sentence, and carries ``attribute``, ``status`` and ``effect`` for
    summary.json (and ``fix``: what to re-export to turn it into a fact)."""

    attribute: str
    status: str
    effect: str
    fix: str

    def __new__(cls, attribute: str, status: str, effect: str, fix: str = "") -> Self:
        text = f"{attribute}: {status}; {effect}" + (f" (to confirm: {fix})" if fix else "")
        obj = super().__new__(cls, text)
        obj.attribute, obj.status, obj.effect, obj.fix = attribute, status, effect, fix
        return obj

    def as_dict(self) -> dict[str, str]:
        return {"attribute": self.attribute, "status": self.status, "effect": self.effect, "fix": self.fix}


def as_dicts(assumptions: Iterable[str]) -> list[dict[str, str]]:
    """summary.json's ``assumptions``: one object per assumption (plain sentences get attribute ``note``)."""
    return [a.as_dict() if isinstance(a, Assumption) else {"attribute": "note", "status": "assumed", "effect": str(a),
                                                            "fix": ""} for a in assumptions]


def _source(snap: Snapshot, table: str) -> str:
    return snap.coverage.sources.get(table) or snap.sources.get(table) or table


def _ad_fix(snap: Snapshot, attribute: str) -> str:
    source = _source(snap, "ad_users")
    if "LDIF" in source or "ldifde" in source:
        return f"add {attribute} to the attributes of the LDIF export (ldifde -l / ldapsearch): {_LDIF_ATTRS}"
    return f"re-export with: {AD_EXPORT_COMMAND}"


def _entra_fix(snap: Snapshot) -> str:
    source = _source(snap, "entra_users")
    return f"re-export with: {ENTRA_CSV_COMMAND if 'Export-Csv' in source else ENTRA_JSON_COMMAND}"


def check(snap: Snapshot, anchor: str, upn_on: bool) -> list[Assumption]:
    """Refuse what cannot be predicted; name what is assumed. ``anchor`` is the setting asked for."""
    cov, out = snap.coverage, []
    ad_src, cloud_src = _source(snap, "ad_users"), _source(snap, "entra_users")
    status = lambda table, col: cov.status(table, col)

    def refuse(source: str, problem: str, fix: str) -> InputError:
        return InputError(source, problem, fix=fix)

    if status("entra_users", "immutable_id") == MISSING:
        raise refuse(cloud_src, "the Entra export has no onPremisesImmutableId for any user: a cloud user without "
                     "one cannot be told from a cloud user with a wrong one", _entra_fix(snap))
    if status("ad_users", "consistency_guid") == MISSING:
        if anchor == "mS-DS-ConsistencyGuid":
            raise refuse(ad_src, "the AD export has no mS-DS-ConsistencyGuid, and the source anchor was set to "
                         "mS-DS-ConsistencyGuid: no expected ImmutableID can be computed",
                         _ad_fix(snap, "mS-DS-ConsistencyGuid"))
        if anchor == "auto":
            out.append(Assumption(
                "mS-DS-ConsistencyGuid", "not exported",
                "assumed empty for every user, so every expected ImmutableID is base64 of objectGUID (what Entra "
                "Connect computes when the attribute is empty); a value already set on some users would change "
                "their anchor", _ad_fix(snap, "mS-DS-ConsistencyGuid")))
    for table, src, fix in (("ad_users", ad_src, _ad_fix(snap, "proxyAddresses and mail")),
                            ("entra_users", cloud_src, _entra_fix(snap))):
        side = "AD" if table == "ad_users" else "Entra"
        proxies, mail = status(table, "proxy_addresses"), status(table, "mail")
        if proxies == MISSING and mail == MISSING:
            raise refuse(src, f"the {side} export has neither proxyAddresses nor mail: the SMTP soft match cannot "
                         "be predicted", fix)
        if proxies != "exported":
            out.append(Assumption(f"{side} proxyAddresses", "not exported" if proxies == MISSING else
                                  "not exported for some users",
                                  "the primary SMTP address is taken from mail where proxyAddresses is absent; a "
                                  "user whose primary SMTP address differs from mail may match differently", fix))
    if status("ad_users", "upn") == MISSING:
        if upn_on:
            raise refuse(ad_src, "the AD export has no userPrincipalName, and UPN soft match is on: matches by "
                         "UPN cannot be predicted", _ad_fix(snap, "userPrincipalName"))
        out.append(Assumption("AD userPrincipalName", "not exported", "UPN soft match is off, so matching does not "
                              "need it; readiness checks of UPNs are skipped", _ad_fix(snap, "userPrincipalName")))
    if status("ad_users", "is_critical_system_object") == MISSING:
        out.append(Assumption("isCriticalSystemObject", "not exported", "built-in accounts such as Administrator "
                              "are recognised only by name", _ad_fix(snap, "isCriticalSystemObject")))
    if status("ad_users", "object_class") == MISSING:
        out.append(Assumption("AD objectClass", "not exported", "every row is taken as a user (Get-ADUser returns "
                              "user objects only)", _ad_fix(snap, "objectClass")))
    if status("entra_users", "on_prem_sync_enabled") != "exported":
        out.append(Assumption("onPremisesSyncEnabled", "not exported" if status("entra_users", "on_prem_sync_enabled")
                              == MISSING else "not exported for some users",
                              "cannot tell which cloud users Okta or a sync keeps read-only for Graph, so the "
                              "remediation strategy rests on the tenant file alone", _entra_fix(snap)))
    if status("entra_users", "user_type") == MISSING:
        out.append(Assumption("Entra userType", "not exported", "guests are not recognised as guests",
                              _entra_fix(snap)))
    unknown = int(unknown_cloud_mask(snap).sum())
    if unknown:
        out.append(Assumption(
            "onPremisesImmutableId", f"not exported for {unknown:,} cloud user(s)",
            "those users and the AD users that would match them are 'unknown'; an AD user predicted new could also "
            "hard-match one of them", _entra_fix(snap)))
    if "entra_users" in cov.incomplete:
        out.append(Assumption("Entra users", "export incomplete (--allow-partial)", cov.incomplete["entra_users"]
                              + "; AD users without a match among the users read are 'unknown', not new",
                              _entra_fix(snap)))
    for table in sorted(set(cov.incomplete) - {"entra_users"}):
        out.append(Assumption(table, "export incomplete (--allow-partial)", cov.incomplete[table]))
    if snap.has("okta_app_users") and status("okta_app_users", "immutable_id") == MISSING:
        out.append(Assumption("Okta app users' immutableId", "not exported", "no Okta cross-check of ImmutableIDs"))
    if snap.tenant.okta_provisioning_mode is None and (snap.has("okta_users") or snap.has("okta_app_users")):
        out.append(Assumption("Okta provisioning mode", "not in the exports (the Okta API exports do not carry it)",
                              "the strategy assumes Okta does not keep users read-only unless the Entra export "
                              "shows them as synced", "add okta.provisioningMode to tenant.json, as the Office 365 "
                              "app's Provisioning page shows it"))
    for note in cov.notes:
        out.append(Assumption(note.get("attribute", "note"), note.get("status", ""), note.get("effect", ""),
                              note.get("fix", "")))
    return out


def unknown_cloud_mask(snap: Snapshot) -> np.ndarray:
    """Cloud users whose record did not carry onPremisesImmutableId."""
    users = snap["entra_users"]
    if snap.coverage.status("entra_users", "immutable_id") != PARTIAL or not len(users):
        return np.zeros(len(users), dtype=bool)
    lists = one_array(users["not_exported"].array.__arrow_array__())
    flat, parents = pc.list_flatten(lists), pc.list_parent_indices(lists)
    hit = np.zeros(len(users), dtype=bool)
    hit[parents.filter(pc.equal(flat, "immutable_id").fill_null(False)).to_numpy()] = True
    return hit


def refuse_all_deleted(snap: Snapshot, excluded: pd.Series) -> None:
    """A file of deleted objects only (a tombstone search) is the wrong file, not a tenant without users."""
    if len(excluded) and excluded.str.startswith("a deleted object").fillna(False).all():
        raise InputError(_source(snap, "ad_users"), f"every one of the {len(excluded):,} AD users is a deleted "
                         "object (a search of CN=Deleted Objects or with the Show Deleted control)",
                         fix=f"export the live users instead: {AD_EXPORT_COMMAND}")
