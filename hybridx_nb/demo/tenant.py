"""The demo tenant "Contoso": a deterministic, realistic Okta-provisioned Microsoft 365 tenant with ground truth.

``generate`` plants every finding category of the engine (and the field report's three users whose ImmutableID
is their Okta user id) as a fixed set of named cases, and fills the rest with vectorised bulk users in fixed
proportions, so 300 users and a million users look alike. ``truth`` says, per identity, what the engine should
predict; the labels follow docs/domain.md §2 by construction. ``write_exports`` (in ``export_writers``) writes the
files consultants get from the real tools, so the demo exercises the export readers too.

Anchor decision (documented in ``DemoTenant.anchor_setting`` and in ``truth.note``): a few users already carry
mS-DS-ConsistencyGuid (one of them the ASCII text of a GUID, written by a script), so ``auto`` resolves to
objectGUID, as an express install of Entra Connect does when the attribute is already in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors
from hybridx_nb.demo.cases import special_cases
from hybridx_nb.demo.constants import (
    ANCHOR_REASON,
    ANCHOR_SETTING,
    BASE_DN,
    DEPARTMENTS,
    DOMAIN,
    FEATURES,
    FIRST,
    INITIAL_DOMAIN,
    LAST,
    MANAGED_DOMAIN,
    OKTA_APP_ID,
    ROLES,
    SHARES,
    SKUS,
    TENANT_ID,
)
from hybridx_nb.demo.drift import add_attributes
from hybridx_nb.snapshot.store import Snapshot, TenantFacts, build_snapshot

_ALNUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


@dataclass
class DemoTenant:
    """A generated tenant: the canonical snapshot and, per identity, what the engine should predict.

    ``truth`` has one row per identity (a matched AD + cloud pair is one row; ambiguous cases have one row per
    object): ``case`` (the planted scenario, ``bulk_<category>`` for the proportional rest), ``category``,
    ``ad_dn``, ``entra_id``, ``anchor_kind`` and ``match_via`` (where they apply), ``block_reason``,
    ``readiness`` (the IdFix error kind planted on the AD user), ``okta_user_id`` and ``note``.
    ``anchor_setting``/``anchor_reason``: what ``auto`` must resolve to, and why.
    """

    snapshot: Snapshot
    truth: pd.DataFrame
    seed: int = 7
    takeover_truth: pd.DataFrame | None = None  # per planted change (demo/drift.py)
    exchange_truth: pd.DataFrame | None = None  # per pair: its Exchange state and the findings it must get
    anchor_setting: str = ANCHOR_SETTING
    anchor_reason: str = ANCHOR_REASON
    okta_app_id: str = OKTA_APP_ID


# ---------------------------------------------------------------------------------------------------------------
# Column helpers (Arrow compute: pandas' fillna/where/+ are several times slower on a million strings)
# ---------------------------------------------------------------------------------------------------------------

def _pa(values: pd.Series | str) -> pa.Array | pa.ChunkedArray | pa.Scalar:
    if isinstance(values, str):
        return pa.scalar(values, pa.large_string())
    return pa.array(values, from_pandas=True).cast(pa.large_string())


def _coalesce(*columns: pd.Series | str) -> pd.Series:
    """The first non-missing value of ``columns`` per row."""
    return pd.Series(pd.array(pc.coalesce(*map(_pa, columns)), dtype="str"), index=columns[0].index)


def _if(cond: pd.Series | np.ndarray, then: pd.Series | str, other: pd.Series | str | None = None) -> pd.Series:
    """``then`` where ``cond``, else ``other`` (missing when None)."""
    mask = pa.array(np.asarray(cond, dtype=bool))
    other_ = pa.scalar(None, pa.large_string()) if other is None else _pa(other)
    return pd.Series(pd.array(pc.if_else(mask, _pa(then), other_), dtype="str"))


def _cat(*parts: pd.Series | str) -> pd.Series:
    """Element-wise concatenation in one Arrow call (missing if any part is missing)."""
    index = next(p.index for p in parts if isinstance(p, pd.Series))
    return pd.Series(pd.array(pc.binary_join_element_wise(*map(_pa, parts), _pa("")), dtype="str"), index=index)


def _ascii_rows(chars: np.ndarray) -> pd.Series:
    n, width = chars.shape
    return anchors.ascii_rows_to_series(chars.astype(np.uint8), width, np.ones(n, dtype=bool), pd.RangeIndex(n))


def random_guids(rng: np.random.Generator, n: int) -> pd.Series:
    """``n`` random version-4 GUID strings (lower case, 8-4-4-4-12)."""
    octets = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    digits = np.stack([octets >> 4, octets & 15], axis=2).reshape(n, 32)
    digits[:, 12] = 4
    digits[:, 16] = 8 | (digits[:, 16] & 3)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    text[:, [i for i in range(36) if i not in (8, 13, 18, 23)]] = _HEX[digits]
    return _ascii_rows(text)


def random_okta_ids(rng: np.random.Generator, n: int, prefix: str = "00u") -> pd.Series:
    """``n`` Okta-style ids: a three-character type prefix and 17 alphanumerics."""
    chars = np.empty((n, 20), dtype=np.uint8)
    chars[:, :3] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    chars[:, 3:] = _ALNUM[rng.integers(0, len(_ALNUM), size=(n, 17))]
    return _ascii_rows(chars)


def _dedupe(base: pd.Series, first: np.ndarray, sep: str = "") -> pd.Series:
    """Make values unique by appending 2, 3, … to repeats; rows in ``first`` (the planted cases) keep theirs."""
    order = np.argsort(~first, kind="stable")
    codes = pd.factorize(base, use_na_sentinel=False)[0][order]
    n = np.empty(len(base), dtype=np.int64)
    n[order] = pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy()
    suffix = pd.Series(np.where(n > 0, sep + pd.Series(n + 1).astype("str"), ""), index=base.index, dtype="str")
    return base + suffix


def _lists(*columns: pd.Series) -> pd.Series:
    """A list column whose row i holds the non-missing values of ``columns`` at row i, in order."""
    n, k = len(columns[0]), len(columns)
    arrays = [pa.chunked_array(pa.array(c, from_pandas=True)).combine_chunks().cast(pa.string())
              for c in columns]
    flat = pa.concat_arrays(arrays).take(pa.array(np.arange(n * k).reshape(k, n).T.ravel()))
    valid = np.column_stack([a.is_valid().to_numpy(zero_copy_only=False) for a in arrays])
    offsets = np.concatenate([[0], np.cumsum(valid.sum(axis=1))]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), flat.filter(pa.array(valid.ravel())))
    return pd.Series(pd.arrays.ArrowExtensionArray(lists), index=columns[0].index)


# ---------------------------------------------------------------------------------------------------------------
# The planted cases
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------------------------

_DEFAULTS = dict(has_ad=True, has_cloud=True, okta="ACTIVE", app=True, imm="anchor", app_imm="cloud", domain=DOMAIN,
                 enabled=True, c_sync=True, user_type="Member", licence="ENTERPRISEPACK")
_STR_COLUMNS = ("case", "category", "first", "last", "local", "domain", "dept", "upn", "mail", "display", "cn", "dn",
                "sam", "nick", "extra_proxy", "c_upn", "c_mail", "c_display", "imm", "app_imm", "cons", "okta",
                "user_type", "creation", "licence", "role", "kind", "via", "block", "readiness", "note")
_BOOL_COLUMNS = ("has_ad", "has_cloud", "app", "enabled", "critical", "c_sync", "c_enabled")
_BULK = ("new_user", "hard_match", "soft_match", "orphan_anchor", "cloud_only")  # AD only, pairs, cloud only


def _pick(values: tuple | list, codes: np.ndarray) -> pd.Series:
    return pd.Series(pd.array(list(values), dtype="str")).take(codes).reset_index(drop=True)


def _bulk(rng: np.random.Generator, counts: list[int]) -> pd.DataFrame:
    """The proportional bulk, one column operation at a time; ``_BULK`` names the groups, in order."""
    group = np.repeat(np.arange(len(_BULK)), counts)
    n = len(group)
    hard, cloud = group == 1, group == 4

    def per_group(*values: str | None) -> pd.Series:  # one value per group of _BULK
        return _pick(values, group)

    enabled = ~(hard & (rng.random(n) < 0.03))
    dept = _pick(DEPARTMENTS, rng.integers(0, len(DEPARTMENTS), n))
    first = _if(cloud, dept, _pick(FIRST, rng.integers(0, len(FIRST), n)))
    number = pd.Series(np.arange(n) + 1).astype("str")
    last = _if(cloud, "Shared Mailbox " + number, _pick(LAST, rng.integers(0, len(LAST), n)))
    local = _if(cloud, _cat("shared.", dept.str.lower(), ".", number), _cat(first, ".", last).str.lower())
    return pd.DataFrame({
        "case": "bulk_" + per_group(*_BULK), "category": per_group(*_BULK), "first": first, "last": last,
        "local": local, "dept": dept, "domain": per_group(DOMAIN, DOMAIN, MANAGED_DOMAIN, DOMAIN, DOMAIN),
        "has_ad": group <= 2, "has_cloud": group >= 1, "app": hard, "app_imm": "cloud",
        "okta": _if(hard & ~enabled, "SUSPENDED", per_group("ACTIVE", "ACTIVE", None, "DEPROVISIONED", None)),
        "imm": per_group(None, "anchor", "empty", "unknown", "empty"),
        "enabled": enabled, "c_enabled": enabled & (group != 3),
        "c_sync": pd.array(np.where(hard | (group == 3), True, pd.NA), dtype="boolean"),
        "user_type": "Member",
        "licence": _if(hard & (rng.random(n) < 0.1), "STANDARDPACK",
                       per_group(None, "ENTERPRISEPACK", "ENTERPRISEPACK", None, None)),
        "via": per_group(None, "immutable_id", "smtp", None, None),
    })


def _frame(rows: list[dict], bulk: pd.DataFrame) -> pd.DataFrame:
    """Planted and bulk rows in three blocks (AD only, AD + cloud, cloud only): the AD table and the cloud
    table are then contiguous slices rather than row selections."""
    special = pd.DataFrame([{**_DEFAULTS, **r} for r in rows]).assign(special=True)
    bulk = bulk.assign(special=False)
    blocks = []
    for has_ad, has_cloud in ((True, False), (True, True), (False, True)):
        for part in (special, bulk):
            rows = np.flatnonzero((part["has_ad"] == has_ad) & (part["has_cloud"] == has_cloud))
            contiguous = len(rows) == 0 or rows[-1] - rows[0] + 1 == len(rows)  # the bulk is built in order
            blocks.append(part.iloc[rows[0]:rows[-1] + 1] if contiguous and len(rows) else part.iloc[rows])
    wide = pd.concat(blocks, ignore_index=True)
    for col in _STR_COLUMNS:
        wide[col] = wide[col].astype("str") if col in wide else pd.Series(pd.NA, index=wide.index, dtype="str")
    for col in _BOOL_COLUMNS:
        wide[col] = wide[col].astype("boolean") if col in wide else pd.array([pd.NA] * len(wide), "boolean")
    return wide


def _at(wide: pd.DataFrame, case: str, column: pd.Series) -> str:
    return column[(wide["case"] == case).to_numpy()].iloc[0]


def _derive(wide: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Every attribute of every object, from the names and the per-case rules (vectorised)."""
    w = wide
    n = len(w)
    planted = w["special"].to_numpy(dtype=bool)
    w["local"] = _dedupe(w["local"], planted)
    w["object_guid"], w["entra_id"] = random_guids(rng, n), random_guids(rng, n)
    w["okta_id"] = random_okta_ids(rng, n)
    w["dept"] = _coalesce(w["dept"], _pick(DEPARTMENTS, rng.integers(0, len(DEPARTMENTS), n)))
    name = _cat(w["first"], " ", w["last"])
    default_address = _cat(w["local"], "@", w["domain"])
    w["upn"] = _coalesce(w["upn"], default_address)
    w["mail"] = _coalesce(w["mail"], default_address)
    has_mail = (w["mail"].fillna("") != "").to_numpy(dtype=bool)
    w["display"] = _coalesce(w["display"], name)
    w["c_display"] = _coalesce(w["c_display"], w["display"])
    w["nick"] = _coalesce(w["nick"], _if(has_mail, w["local"]))
    sam_base = (w["first"].str.slice(0, 1) + w["last"]).str.lower().str.replace(r"[^a-z0-9]", "", regex=True)
    w["sam"] = _coalesce(w["sam"], _dedupe(sam_base.str.slice(0, 16), planted))
    w["cn"] = _coalesce(w["cn"], _dedupe(name, planted, " "))
    cnf = w["cn"].str.endswith("{guid}").to_numpy(dtype=bool)  # a conflict object's CN ends in its own GUID
    w["cn"] = _if(cnf, _cat(w["cn"].str.removesuffix("{guid}"), w["object_guid"]), w["cn"])
    w["dn"] = _coalesce(w["dn"], _cat("CN=", w["cn"], ",OU=", w["dept"], ",OU=Staff," + BASE_DN))
    w["proxies"] = _lists(_if(has_mail, _cat("SMTP:", w["mail"])),
                          _if(has_mail, _cat("smtp:", w["local"], "@" + INITIAL_DOMAIN)), w["extra_proxy"])
    w["c_upn"] = _coalesce(w["c_upn"], w["upn"])
    w["c_mail"] = _coalesce(w["c_mail"], w["mail"])
    c_has_mail = (w["c_mail"].fillna("") != "").to_numpy(dtype=bool)
    c_local = w["c_upn"].str.replace(r"(#EXT#)?@.*$", "", regex=True)
    w["c_nick"] = _if(c_has_mail, c_local)
    w["c_proxies"] = _lists(_if(c_has_mail, _cat("SMTP:", w["c_mail"])),
                            _if(c_has_mail & (w["user_type"] == "Member").to_numpy(dtype=bool),
                                _cat("smtp:", c_local, "@" + INITIAL_DOMAIN)))
    w["c_enabled"] = w["c_enabled"].fillna(w["enabled"])
    w["anchor"] = anchors.guid_to_immutable_id_series(w["object_guid"])
    w["consistency_guid"] = _forms(w, "cons", {
        "same": w["anchor"],
        "other": lambda r: anchors.guid_to_immutable_id_series(random_guids(rng, len(r))),
        "ascii": lambda r: _b64(r["object_guid"].str.slice(0, 16)),
    })
    w["immutable_id"] = _forms(w, "imm", {
        "anchor": w["anchor"],
        "unknown": lambda r: anchors.guid_to_immutable_id_series(random_guids(rng, len(r))),
        "consistency": w["consistency_guid"],
        "okta_id": w["okta_id"],
        "big_endian": lambda r: anchors.big_endian_immutable_id_series(r["object_guid"]),
        "guid_string": w["object_guid"],
        "guid_text_b64": lambda r: _b64(r["object_guid"]),
        "email": w["upn"],
        "hex": lambda r: r["object_guid"].str.replace("-", "", regex=False).str.upper(),
        "employee_id": lambda r: "EMP-" + pd.Series(np.arange(len(r)) + 104522, index=r.index).astype("str"),
        "anchor_of": lambda r, case: _at(w, case, w["anchor"]),
    })
    w["app_immutable_id"] = _forms(w, "app_imm", {
        "cloud": w["immutable_id"],
        "big_endian": lambda r: anchors.big_endian_immutable_id_series(r["object_guid"]),
    })
    return w


_FORM_INPUTS = ("anchor", "object_guid", "okta_id", "upn", "consistency_guid", "immutable_id")


def _forms(w: pd.DataFrame, rule_column: str, forms: dict) -> pd.Series:
    """A str column computed per row by the form its rule names; each form is computed only for its rows.

    A form is a whole column, or a function of the rule's rows; a rule ``name:arg`` calls
    ``forms[name](rows, arg)``. Rules without a form give missing values."""
    rule = w[rule_column]
    out = pd.Series(pd.NA, index=w.index, dtype="str")
    for name in rule.dropna().unique():
        key, _, arg = name.partition(":")
        if key in forms:
            mask = (rule == name).to_numpy(dtype=bool)
            form = forms[key]
            if isinstance(form, pd.Series):  # a whole column: no row selection needed
                out = _if(mask, form, out)
                continue
            rows = w.loc[mask, [c for c in _FORM_INPUTS if c in w]]
            values = form(rows, arg) if arg else form(rows)
            out[mask] = values.array if isinstance(values, pd.Series) else values
    return out


def _b64(text: pd.Series) -> pd.Series:
    """Base64 of the UTF-8 of each value (only used for a handful of planted wrong forms)."""
    import base64
    return pd.Series([base64.b64encode(v.encode()).decode("ascii") for v in text], index=text.index, dtype="str")


def _tables(w: pd.DataFrame) -> dict[str, pd.DataFrame]:
    has_ad, has_cloud = w["has_ad"].to_numpy(dtype=bool), w["has_cloud"].to_numpy(dtype=bool)
    assert not np.any(np.diff(has_ad.astype(int)) > 0) and not np.any(np.diff(has_cloud.astype(int)) < 0)

    def rows(mask: pd.Series | slice, *columns: str) -> pd.DataFrame:
        if isinstance(mask, slice):  # see _frame: AD rows come first, cloud rows last
            return w.iloc[mask][list(columns)]
        return w.loc[mask.to_numpy(dtype=bool), list(columns)]

    ad_rows, cloud_rows = slice(0, int(has_ad.sum())), slice(len(w) - int(has_cloud.sum()), len(w))
    ad = rows(ad_rows, "dn", "object_guid", "consistency_guid", "sam", "upn", "mail", "proxies", "display", "first",
              "last", "nick", "enabled", "critical")
    cloud = rows(cloud_rows, "entra_id", "c_upn", "c_mail", "c_proxies", "immutable_id", "c_sync", "c_enabled",
                 "user_type", "c_display", "c_nick", "licence", "creation")
    okta = rows(w["okta"].notna(), "okta_id", "okta", "has_cloud", "c_upn", "upn", "c_mail", "mail", "first", "last")
    app = rows(w["app"], "case", "okta_id", "entra_id", "c_upn", "app_immutable_id")
    licences = cloud["licence"].map(SKUS, na_action="ignore").astype("str")
    role = w[w["role"].notna().to_numpy()]
    return {
        "ad_users": pd.DataFrame({
            "dn": ad["dn"], "object_guid": ad["object_guid"], "consistency_guid": ad["consistency_guid"],
            "sam_account_name": ad["sam"], "upn": ad["upn"], "mail": ad["mail"], "proxy_addresses": ad["proxies"],
            "display_name": ad["display"], "given_name": ad["first"], "surname": ad["last"],
            "mail_nickname": ad["nick"], "enabled": ad["enabled"], "object_class": "user",
            "is_critical_system_object": ad["critical"].astype("boolean").fillna(False), "domain": DOMAIN}),
        "entra_users": pd.DataFrame({
            "id": cloud["entra_id"], "upn": cloud["c_upn"], "mail": cloud["c_mail"],
            "proxy_addresses": cloud["c_proxies"], "immutable_id": cloud["immutable_id"],
            "on_prem_sync_enabled": cloud["c_sync"], "account_enabled": cloud["c_enabled"],
            "user_type": cloud["user_type"], "display_name": cloud["c_display"], "mail_nickname": cloud["c_nick"],
            "assigned_licenses": _lists(licences), "creation_type": cloud["creation"]}),
        "okta_users": pd.DataFrame({
            "id": okta["okta_id"], "status": okta["okta"], "login": okta["c_upn"].where(okta["has_cloud"],
                                                                                        okta["upn"]),
            "email": okta["c_mail"].where(okta["has_cloud"], okta["mail"]), "first_name": okta["first"],
            "last_name": okta["last"], "provider_type": "ACTIVE_DIRECTORY", "provider_name": DOMAIN}),
        "okta_app_users": pd.DataFrame({
            "app_id": OKTA_APP_ID, "user_id": app["okta_id"], "external_id": app["entra_id"],
            "user_name": app["c_upn"], "immutable_id": app["app_immutable_id"], "status": "PROVISIONED",
            "sync_state": "SYNCHRONIZED", "scope": np.where(app["case"].str.startswith("bulk_"), "GROUP", "USER")}),
        "entra_role_members": pd.DataFrame({
            "principal_id": role["entra_id"], "role_name": role["role"], "role_id": role["role"].map(ROLES)}),
        "entra_domains": pd.DataFrame({
            "name": [DOMAIN, INITIAL_DOMAIN, MANAGED_DOMAIN], "authentication_type": ["Federated", "Managed",
                                                                                       "Managed"],
            "is_verified": [True, True, True], "is_default": [True, False, False],
            "is_initial": [False, True, False]}),
    }


def _truth(w: pd.DataFrame) -> pd.DataFrame:
    via = w["via"].mask(w["category"].isin(["hard_match"]) & w["via"].isna(), "immutable_id")
    return pd.DataFrame({
        "case": w["case"], "category": w["category"],
        "ad_dn": w["dn"].where(w["has_ad"].to_numpy(dtype=bool)),
        "entra_id": w["entra_id"].where(w["has_cloud"].to_numpy(dtype=bool)),
        "anchor_kind": w["kind"], "match_via": via, "block_reason": w["block"], "readiness": w["readiness"],
        "okta_user_id": w["okta_id"].where(w["okta"].notna()), "note": w["note"],
    }).reset_index(drop=True)


def generate(users: int = 300, seed: int = 7) -> DemoTenant:
    """The Contoso demo tenant with ``users`` AD user objects (at least 100) and about as many cloud users,
    reproducible from ``seed`` (same seed, same frames, byte-identical export files)."""
    rows = special_cases()
    n_special_ad = sum(r.get("has_ad", True) for r in rows)
    if users < 100:
        raise ValueError(f"users must be at least 100 (the planted cases alone take {n_special_ad})")
    rng = np.random.default_rng(seed)
    shares = {k: int(round(users * v)) for k, v in SHARES.items()}
    n_hard = users - n_special_ad - shares["soft_match"] - shares["new_user"]
    counts = [shares["new_user"], n_hard, shares["soft_match"], shares["orphan_anchor"], shares["cloud_only"]]
    wide = _derive(_frame(rows, _bulk(rng, counts)), rng)
    tenant = TenantFacts(tenant_id=TENANT_ID, display_name="Contoso Ltd", org_sync_enabled=True,
                         features=dict(FEATURES), okta_provisioning_mode="user_sync")
    origin = f"hybridx demo tenant (users={users}, seed={seed})"
    tables, truth = _tables(wide), _truth(wide)
    takeover_truth, exchange_truth, tables["exo_mailboxes"] = add_attributes(tables, truth, rng)
    snap = build_snapshot(tables, tenant, {name: origin for name in tables})
    return DemoTenant(snap, truth, seed, takeover_truth=takeover_truth, exchange_truth=exchange_truth)


def write_exports(tenant: DemoTenant, folder: str | Path, *, ad_format: str = "csv") -> dict[str, Path]:
    """Write the tenant as real export files (see ``export_writers``); returns {"ad", "entra", "okta",
    "okta_app_users", "tenant"} → path."""
    from hybridx_nb.demo.export_writers import write_exports as write
    return write(tenant.snapshot, folder, ad_format=ad_format)
