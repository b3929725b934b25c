"""Predict Entra Connect's first sync for every user: pure functions from a ``Snapshot`` to a ``Prediction``.

The rules are docs/domain.md §2-§3 and §16; this docstring records the details decided here.

Scope. AD objects are excluded (category ``excluded``) when ``engine/scope.py`` names them a system object
(replication conflicts, names ending in ``$``, ``is_critical_system_object``, which is what keeps Administrator
out in a real forest, and the well-known system accounts), or when objectGUID is not a GUID. Entra guests
(``user_type`` Guest) are excluded. Excluded AD objects still explain a cloud ImmutableID that points at them.

Anchor. ``objectGUID``: base64 of the objectGUID bytes. ``mS-DS-ConsistencyGuid``: the ConsistencyGuid when set,
else base64(objectGUID) (Connect copies objectGUID into the empty attribute; ``anchor_source`` then says
``objectGUID``). ``auto`` is the express install: ConsistencyGuid, unless an in-scope AD user already has one, in
which case objectGUID.

Matching, in two phases, each linking AD rows and cloud rows that share a key and taking connected components:
a component of exactly one AD row and one cloud row is a pair, a larger one is ``ambiguous`` (one row per
object, ``candidates`` = the other objects of the component, at most 20 named).
1. Hard match: expected anchor == ``immutable_id`` (exact, case-sensitive). A pair is ``match_blocked`` when the
   cloud user holds an Entra role, the tenant blocks takeover through hard match (assumed to apply to every cloud
   user: the cut-over makes them all cloud-managed), or ``on_prem_object_identifier`` names another objectGUID.
2. Soft match, among AD rows and cloud rows the hard phase left: primary SMTP (``SMTP:`` entry of proxy
   addresses, else ``mail``; case-insensitive) and, when UPN soft match is on, UPN (case-insensitive). Both keys
   are linked at once, so an AD user whose SMTP and UPN lead to different cloud users, or a cloud user reached by
   two AD users, is ambiguous. A pair is ``anchor_mismatch`` (a duplicate; this wins over blocks) when the cloud
   user has an ImmutableID, else ``match_blocked`` (Entra role, ``blockSoftMatchEnabled``, cloud UPN in a domain
   whose authentication type is Federated: exact domain name only), else ``soft_match``. ``match_via`` is
   ``smtp`` when the SMTP addresses are equal, else ``upn``.
Left over: AD → ``new_user``; cloud with an ImmutableID → ``orphan_anchor``, without → ``cloud_only``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from hybridx_nb.core import columns
from hybridx_nb.core.vocabulary import CATEGORIES
from hybridx_nb.engine import carried
from hybridx_nb.engine.conservation import check_conservation, check_rows  # noqa: F401 (check_conservation: public here)
from hybridx_nb.engine.detail import (
    add_anchor_detail,
    add_okta_check,
    factorize,
    initial_domain,
    join_lists,
    pick,
    take,
)
from hybridx_nb.engine.sides import prepare_ad, prepare_cloud, resolve_anchor, set_expected
from hybridx_nb.engine.text import add_text
from hybridx_nb.snapshot.schema import missing_text
from hybridx_nb.snapshot.store import Snapshot

COLUMNS = ("category", "ad_dn", "ad_object_guid", "ad_upn", "ad_sam", "ad_mail", "ad_display_name", "entra_id",
           "entra_upn", "entra_mail", "entra_display_name", "immutable_id", "expected_immutable_id",
           "anchor_source", "anchor_kind", "anchor_detail", "match_via", "block_reason", "candidates",
           "duplicate_upn", "on_prem_sync_enabled", "entra_roles", "assigned_licenses", "federated",
           "account_enabled", "okta_user_id", "okta_login", "okta_app_immutable_id", "okta_agrees", "reason",
           "action")
_BOOL_COLUMNS = ("on_prem_sync_enabled", "federated", "account_enabled", "okta_agrees")
_MAX_CANDIDATES = 20


@dataclass(frozen=True)
class EngineSettings:
    anchor: str = "auto"                # "auto" | "objectGUID" | "mS-DS-ConsistencyGuid"
    soft_match_upn: bool | None = None  # None: the tenant's softMatchOnUpnEnabled flag (default True)


@dataclass
class Prediction:
    findings: pd.DataFrame  # COLUMNS, one row per identity (a matched pair is one row)
    anchor_setting: str     # resolved: "objectGUID" or "mS-DS-ConsistencyGuid"
    anchor_reason: str      # why this anchor, in plain words
    assumptions: list[str] = field(default_factory=list)
    rows: pd.DataFrame | None = None  # per finding, its AD and cloud snapshot row (``ad_row``, ``cloud_row``; -1: none)


# ---------------------------------------------------------------------------------------------------------------
# Preparing the two sides
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# Linking: shared keys → connected components → pairs and ambiguous groups
# ---------------------------------------------------------------------------------------------------------------

def _components(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Component label of each of ``n`` nodes for the edges (u, v): min-label propagation with pointer jumping."""
    label = np.arange(n)
    while True:
        low = np.minimum(label[u], label[v])
        new = label.copy()
        np.minimum.at(new, u, low)
        np.minimum.at(new, v, low)
        new = new[new]
        if np.array_equal(new, label):
            return label
        label = new


def _link(keys: list[tuple[pd.Series, pd.Series]], n_ad: int, n_cloud: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs (``_ad``, ``_cl``) and ambiguous members (``_ad``, ``_cl`` with -1 for the other side, ``group``).

    Each key pair is (AD keys indexed by AD row, cloud keys indexed by cloud row). AD row i is node i, cloud row
    j is node n_ad + j, each distinct key value of each pair is one more node; rows sharing a key are connected
    through it, so the graph stays linear in the number of rows even when a thousand rows share a value.
    """
    us, vs, offset = [], [], n_ad + n_cloud
    for ad_keys, cloud_keys in keys:
        ad_keys, cloud_keys = ad_keys.dropna(), cloud_keys.dropna()
        codes, uniques = factorize(ad_keys, cloud_keys)
        n_keys = len(uniques)
        ca, cc = codes[:len(ad_keys)], codes[len(ad_keys):]
        shared = (np.bincount(ca, minlength=n_keys) > 0) & (np.bincount(cc, minlength=n_keys) > 0)
        ka, kc = shared[ca], shared[cc]
        us.append(np.concatenate([ad_keys.index.to_numpy()[ka], n_ad + cloud_keys.index.to_numpy()[kc]]))
        vs.append(offset + np.concatenate([ca[ka], cc[kc]]))
        offset += n_keys
    u, v = np.concatenate(us).astype(np.int64), np.concatenate(vs).astype(np.int64)
    present = np.zeros(offset, bool)
    present[u] = present[v] = True
    compact = np.cumsum(present) - 1  # node id → dense id
    label = _components(compact[u], compact[v], int(present.sum()))
    nodes = np.flatnonzero(present[:n_ad + n_cloud])  # the row nodes; key nodes are reached only through them
    lab = label[compact[nodes]]
    is_ad = nodes < n_ad
    n_a = np.bincount(lab[is_ad], minlength=len(label))
    n_c = np.bincount(lab[~is_ad], minlength=len(label))
    pair = (n_a == 1) & (n_c == 1)
    ad_of, cl_of = np.full(len(label), -1), np.full(len(label), -1)
    ad_of[lab[is_ad]] = nodes[is_ad]
    cl_of[lab[~is_ad]] = nodes[~is_ad] - n_ad
    groups = np.flatnonzero(pair)
    pairs = pd.DataFrame({"_ad": ad_of[groups], "_cl": cl_of[groups]})
    amb = ~pair[lab]
    members = pd.DataFrame({"_ad": np.where(is_ad, nodes, -1)[amb], "_cl": np.where(is_ad, -1, nodes - n_ad)[amb],
                            "group": lab[amb], "n_ad": n_a[lab[amb]], "n_cloud": n_c[lab[amb]]})
    return pairs, members


def _empty_link() -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.DataFrame({"_ad": np.zeros(0, int), "_cl": np.zeros(0, int)}),
            pd.DataFrame({c: np.zeros(0, int) for c in ("_ad", "_cl", "group", "n_ad", "n_cloud")}))


def _candidates(members: pd.DataFrame, ad: pd.DataFrame, cloud: pd.DataFrame) -> pd.Series:
    """For each ambiguous member, the DNs / cloud ids of the other members of its group, ``; ``-joined."""
    if members.empty:
        return pd.Series([], dtype="str")
    node = np.where(members["_ad"] >= 0, members["_ad"], -2 - members["_cl"])
    name = take(ad["dn"], members["_ad"]).fillna(take(cloud["id"], members["_cl"]))
    m = pd.DataFrame({"row": np.arange(len(members)), "group": members["group"].to_numpy(), "node": node,
                      "name": name}).sort_values(["group", "name"], kind="stable")
    head = m.groupby("group").head(_MAX_CANDIDATES + 1)[["group", "node", "name"]]
    both = m[["row", "group", "node"]].merge(head, on="group", suffixes=("", "_other"))
    both = both[both["node"] != both["node_other"]].groupby("row").head(_MAX_CANDIDATES)
    joined = join_lists(both["row"].astype("str"), both["name"], "; ")
    out = pd.Series(np.arange(len(members))).astype("str").map(joined)
    size = (members["n_ad"] + members["n_cloud"]).to_numpy()
    more = np.maximum(size - 1 - _MAX_CANDIDATES, 0)
    return pick(out.index, [(more > 0, out + " and " + pd.Series(more).astype("str") + " more")], out)


# ---------------------------------------------------------------------------------------------------------------
# The prediction
# ---------------------------------------------------------------------------------------------------------------

_CAT = {name: i for i, name in enumerate(CATEGORIES)}
_VIA = ("immutable_id", "smtp", "upn")
_HOW = ("anchor", "soft")


def _join_reasons(flags: list[tuple[np.ndarray, str]], n: int) -> pd.Series:
    """The names of the true flags of each row, ``;``-joined (missing where none)."""
    bits = np.zeros(n, np.int64)
    for i, (mask, _) in enumerate(flags):
        bits |= np.asarray(mask, dtype=bool).astype(np.int64) << i
    texts = [";".join(name for i, (_, name) in enumerate(flags) if code >> i & 1) or None
             for code in range(1 << len(flags))]
    return _decode(bits, texts)


def _decode(codes: np.ndarray, names: "list[str | None] | tuple[str, ...]") -> pd.Series:
    """A str column from integer codes into ``names`` (-1 or a None name is missing), built in Arrow."""
    codes = np.asarray(codes)
    valid = codes >= 0
    dictionary = pa.array(list(names), pa.large_string())
    arr = pa.DictionaryArray.from_arrays(pa.array(np.where(valid, codes, 0).astype(np.int32), mask=~valid),
                                         dictionary).cast(pa.large_string())
    return pd.Series(pd.array(arr, dtype="str"))


def _part(ad_rows: np.ndarray | int, cl_rows: np.ndarray | int, cat: np.ndarray | int, n: int,
          **extra: object) -> pd.DataFrame:
    return pd.DataFrame({"_ad": ad_rows, "_cl": cl_rows, "cat": cat, "via": -1, "how": -1, "n_ad": 0,
                         "n_cloud": 0, **extra}, index=pd.RangeIndex(n))


def _match(ad: pd.DataFrame, cloud: pd.DataFrame, snap: Snapshot, upn_on: bool) -> tuple[pd.DataFrame, dict]:
    """Row ids ``_ad``/``_cl`` with integer ``cat``, ``via``, ``how`` codes, and the text columns of some rows.

    The text columns (block_reason, candidates) come back as ``{name: (row numbers, values)}``.
    """
    n_ad, n_cl = len(ad), len(cloud)
    ad_in = ad["excluded"].isna().to_numpy()
    cl_in = cloud["excluded"].isna().to_numpy()
    is_admin = cloud["roles"].notna().to_numpy()
    feature = snap.tenant.feature
    parts, texts, start = [], {"block_reason": [], "candidates": []}, 0

    hard, amb1 = (_link([(ad["expected"][ad_in], cloud["imm"][cl_in])], n_ad, n_cl) if ad_in.any() and cl_in.any()
                  else _empty_link())
    a, c = hard["_ad"].to_numpy(), hard["_cl"].to_numpy()
    opi = columns.lower_text(take(cloud["opi"], c))
    other_object = opi.notna() & (opi != columns.lower_text(take(ad["object_guid"], a))).fillna(False)
    blocks = _join_reasons([
        (is_admin[c], "admin_role"),
        (np.full(len(c), feature("blockCloudObjectTakeoverThroughHardMatchEnabled")), "hard_match_takeover_blocked"),
        (other_object.to_numpy(dtype=bool), "on_prem_object_identifier"),
    ], len(c))
    parts.append(_part(a, c, np.where(blocks.notna(), _CAT["match_blocked"], _CAT["hard_match"]), len(c), via=0))
    texts["block_reason"].append((start + np.arange(len(c)), blocks))
    start += len(c)

    used_ad, used_cl = np.zeros(n_ad, bool), np.zeros(n_cl, bool)
    for frame in (hard, amb1):
        used_ad[frame["_ad"][frame["_ad"] >= 0]] = True
        used_cl[frame["_cl"][frame["_cl"] >= 0]] = True
    ad_pool, cl_pool = ad_in & ~used_ad, cl_in & ~used_cl
    keys = [(ad["smtp_key"][ad_pool], cloud["smtp_key"][cl_pool])]
    if upn_on:
        keys.append((ad["upn_key"][ad_pool], cloud["upn_key"][cl_pool]))
    soft, amb2 = _link(keys, n_ad, n_cl) if ad_pool.any() and cl_pool.any() else _empty_link()
    a, c = soft["_ad"].to_numpy(), soft["_cl"].to_numpy()
    mismatch = cloud["imm"].notna().to_numpy()[c]
    blocks = _join_reasons([
        (is_admin[c] & ~mismatch, "admin_role"),
        (np.full(len(c), feature("blockSoftMatchEnabled")) & ~mismatch, "soft_match_blocked"),
        (cloud["federated"].fillna(False).to_numpy(dtype=bool)[c] & ~mismatch, "federated_domain"),
    ], len(c))
    same_smtp = (take(ad["smtp_key"], a) == take(cloud["smtp_key"], c)).fillna(False).to_numpy(dtype=bool)
    cat = np.select([mismatch, blocks.notna().to_numpy()], [_CAT["anchor_mismatch"], _CAT["match_blocked"]],
                    _CAT["soft_match"])
    parts.append(_part(a, c, cat, len(c), via=np.where(same_smtp, 1, 2)))
    texts["block_reason"].append((start + np.arange(len(c)), blocks))
    start += len(c)

    amb2 = amb2.assign(group=amb2["group"] + (amb1["group"].max() + 1 if len(amb1) else 0))
    amb = pd.concat([amb1.assign(how=0), amb2.assign(how=1)], ignore_index=True)
    parts.append(_part(amb["_ad"].to_numpy(), amb["_cl"].to_numpy(), _CAT["ambiguous"], len(amb),
                       how=amb["how"].to_numpy(), n_ad=amb["n_ad"].to_numpy(), n_cloud=amb["n_cloud"].to_numpy()))
    texts["candidates"].append((start + np.arange(len(amb)), _candidates(amb, ad, cloud)))
    for frame in (soft, amb2):
        used_ad[frame["_ad"][frame["_ad"] >= 0]] = True
        used_cl[frame["_cl"][frame["_cl"] >= 0]] = True

    new = np.flatnonzero(ad_in & ~used_ad)
    left = np.flatnonzero(cl_in & ~used_cl)
    orphan = cloud["imm"].notna().to_numpy()[left]
    out_ad, out_cl = np.flatnonzero(~ad_in), np.flatnonzero(~cl_in)
    parts += [_part(new, -1, _CAT["new_user"], len(new)),
              _part(-1, left, np.where(orphan, _CAT["orphan_anchor"], _CAT["cloud_only"]), len(left)),
              _part(out_ad, -1, _CAT["excluded"], len(out_ad)), _part(-1, out_cl, _CAT["excluded"], len(out_cl))]
    return pd.concat(parts, ignore_index=True).astype(np.int64), texts


def _assemble(rows: pd.DataFrame, texts: dict, ad: pd.DataFrame, cloud: pd.DataFrame) -> pd.DataFrame:
    """The findings frame: each row's AD and cloud columns, decoded codes and the text columns."""
    ia, ic, n = rows["_ad"].to_numpy(), rows["_cl"].to_numpy(), len(rows)
    f = {"category": _decode(rows["cat"].to_numpy(), CATEGORIES)}
    for out, col in (("ad_dn", "dn"), ("ad_object_guid", "object_guid"), ("ad_upn", "upn"), ("ad_sam", "sam"),
                     ("ad_mail", "mail"), ("ad_display_name", "display_name"), ("expected_immutable_id", "expected"),
                     ("anchor_source", "anchor_source"), ("_ad_excluded", "excluded"), ("_guid_b64", "guid_b64"),
                     ("_cg", "cg"), ("_mail_nickname", "mail_nickname")):
        f[out] = take(ad[col], ia)
    for out, col in (("entra_id", "id"), ("entra_upn", "upn"), ("entra_mail", "mail"),
                     ("entra_display_name", "display_name"), ("immutable_id", "imm"), ("on_prem_sync_enabled", "sync"),
                     ("entra_roles", "roles"), ("assigned_licenses", "licenses"), ("federated", "federated"),
                     ("account_enabled", "enabled"), ("_cl_excluded", "excluded")):
        f[out] = take(cloud[col], ic)
    f["match_via"] = _decode(rows["via"].to_numpy(), _VIA)
    f["_how"] = _decode(rows["how"].to_numpy(), _HOW)
    for name, pieces in texts.items():
        where = np.full(n, -1)
        values = pd.concat([v for _, v in pieces] or [pd.Series([], dtype="str")], ignore_index=True)
        if pieces:
            where[np.concatenate([r for r, _ in pieces])] = np.arange(len(values))
        f[name] = take(values.astype("str"), where)
    f["_n_ad"], f["_n_cloud"] = rows["n_ad"], rows["n_cloud"]
    return pd.DataFrame(f)


def predict(snap: Snapshot, settings: EngineSettings = EngineSettings(),
            on_pairs: Callable[[pd.DataFrame], None] | None = None) -> Prediction:
    """What Entra Connect's first sync will do to every AD user and every Entra user of the snapshot.

    ``on_pairs``, when given, receives the joined pairs (the hard and soft matches, as
    ``app.assess.matched_pairs`` reads them from the findings) as their snapshot rows ``ad_row, cloud_row`` as
    soon as matching is done, before the sentences are written: the readiness rules, running beside the engine,
    need nothing else from it (and no copy of a million DNs and ids)."""
    upn_on = (settings.soft_match_upn if settings.soft_match_upn is not None
              else snap.tenant.feature("softMatchOnUpnEnabled"))
    ad = prepare_ad(snap["ad_users"])
    carried.refuse_all_deleted(snap, ad["excluded"])
    assumed = carried.check(snap, settings.anchor, upn_on)
    setting, anchor_reason = resolve_anchor(ad, settings.anchor)
    set_expected(ad, setting)
    cloud = prepare_cloud(snap)
    rows, texts = _match(ad, cloud, snap, upn_on)
    _mark_unknown(rows, carried.unknown_cloud_mask(snap), "entra_users" in snap.coverage.incomplete)
    check_rows(rows, ad, cloud)
    if on_pairs is not None:
        joined = columns.isin_codes(rows["cat"].to_numpy(), [_CAT["hard_match"], _CAT["soft_match"]])
        ia, ic = rows["_ad"].to_numpy()[joined], rows["_cl"].to_numpy()[joined]
        on_pairs(pd.DataFrame({"ad_row": ia, "cloud_row": ic}))
    findings = _assemble(rows, texts, ad, cloud)
    add_anchor_detail(findings, ad, snap["okta_users"] if snap.has("okta_users") else None)
    assumed += _assumptions(snap, settings, upn_on, ad)
    positions = pd.DataFrame({"ad_row": rows["_ad"].to_numpy(), "cloud_row": rows["_cl"].to_numpy()})
    del ad, cloud, rows, texts  # the prepared sides (300 MB at a million users) go before the sentences are built
    add_okta_check(findings, snap["okta_users"], snap["okta_app_users"] if snap.has("okta_app_users") else None)
    findings["duplicate_upn"] = _duplicate_upns(findings, initial_domain(snap["entra_domains"]))
    add_text(findings, setting, upn_on, {"entra": snap.coverage.sources.get("entra_users") or snap.sources.get(
        "entra_users") or "the Entra export", "incomplete": snap.coverage.incomplete.get("entra_users")})
    findings = findings[list(COLUMNS)]
    for col in _BOOL_COLUMNS:
        findings[col] = findings[col].astype("boolean")
    for col in findings.columns:  # a column no finding fills (Okta's without Okta data …) costs no memory
        if findings[col].dtype == "str" and findings[col].isna().all():
            findings[col] = missing_text(findings.index)
    return Prediction(findings, setting, anchor_reason, assumed, positions)


def _duplicate_upns(findings: pd.DataFrame, domain: str) -> pd.Series:
    """The UPN Entra Connect gives the duplicate it creates for a wrong-anchor user (local part, four digits, the
    initial domain): only those rows are spelled out."""
    out = missing_text(findings.index)
    rows = np.flatnonzero((findings["category"] == "anchor_mismatch").to_numpy())
    if len(rows):
        f = findings.iloc[rows]
        local = f["ad_upn"].str.replace(r"@.*$", "", regex=True).fillna(f["_mail_nickname"]).fillna(f["ad_sam"])
        out.iloc[rows] = local + "####@" + domain
    return out


def _mark_unknown(rows: pd.DataFrame, cloud_unknown: np.ndarray, entra_incomplete: bool) -> None:
    """Rows whose category rests on a field the export did not carry become ``unknown`` (docs/domain.md §8): a
    cloud user without the onPremisesImmutableId key (and the AD user it would pair with), and, when the Entra
    export stopped early, every AD user that found no cloud user among those read."""
    cat, cl = rows["cat"].to_numpy(), rows["_cl"].to_numpy()
    resting = np.isin(cat, [_CAT[c] for c in ("soft_match", "anchor_mismatch", "match_blocked", "cloud_only")])
    hit = resting & (cl >= 0) & cloud_unknown[np.maximum(cl, 0)] if len(cloud_unknown) else np.zeros(len(cat), bool)
    if entra_incomplete:
        hit |= cat == _CAT["new_user"]
    rows.loc[hit, "cat"] = _CAT["unknown"]


def _assumptions(snap: Snapshot, settings: EngineSettings, upn_on: bool, ad: pd.DataFrame) -> list[str]:
    notes = []
    for flag in snap.tenant.assumed():
        if flag == "softMatchOnUpnEnabled" and settings.soft_match_upn is not None:
            continue
        notes.append(f"tenant flag {flag} was not collected; assumed {str(snap.tenant.feature(flag)).lower()} "
                     "(Entra's default)")
    if settings.soft_match_upn is not None:
        notes.append(f"UPN soft match {'on' if upn_on else 'off'} as set for this assessment")
    if not snap.has("entra_role_members"):
        notes.append("Entra role holders were not collected: no admin-role blocks predicted")
    if not snap.has("entra_domains"):
        notes.append("tenant domains were not collected: no federated-domain blocks predicted, and duplicate UPNs "
                     "use <tenant>.onmicrosoft.com")
    if (len(ad) and snap["ad_users"]["is_critical_system_object"].isna().all()
            and not snap.coverage.missing("ad_users", "is_critical_system_object")):
        notes.append("isCriticalSystemObject is missing from the AD data: built-in accounts such as Administrator "
                     "are treated as ordinary users")
    if not snap.has("okta_app_users"):
        notes.append("Okta app users were not collected: no Okta cross-check")
    return notes
