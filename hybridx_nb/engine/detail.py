"""The engine's explanations of values: what a wrong ImmutableID is, and what Okta thinks of each cloud user.

``add_anchor_detail`` classifies the ImmutableID of anchor_mismatch, orphan_anchor and ambiguous cloud rows with
``anchor_forms.classify_series`` and joins the value against AD (every object's objectGUID and mS-DS-ConsistencyGuid,
excluded objects too) and against the Okta users, so ``anchor_detail`` names the object the value belongs to.
``add_okta_check`` links each cloud user to its Okta Office 365 app user. Both work on whole columns.
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import anchors, columns
from hybridx_nb.engine import anchor_forms

_FORM_GUID, _FORM_CG = "objectGUID", "mS-DS-ConsistencyGuid"

Text = pd.Series | str


# ---------------------------------------------------------------------------------------------------------------
# Column helpers shared by the engine modules (Arrow does the work; pandas' masked setitem on str is slow)
# ---------------------------------------------------------------------------------------------------------------

def _arrow(x: Text | None) -> pa.ChunkedArray | pa.Scalar:
    if isinstance(x, pd.Series):
        return pa.chunked_array(x.astype("str").array.__arrow_array__()).cast(pa.large_string())
    return pa.scalar(x, pa.large_string())


def pick(index: pd.Index, cases: list[tuple[object, Text]], default: Text | None) -> pd.Series:
    """Per row, the text of the first case whose mask is true, else ``default`` (None: missing)."""
    out = _arrow(default)
    for mask, text in reversed(cases):
        out = pc.if_else(pa.array(np.asarray(mask, dtype=bool)), _arrow(text), out)
    if isinstance(out, pa.Scalar):  # no cases: every row gets the default
        out = pc.if_else(pa.array(np.ones(len(index), dtype=bool)), out, out)
    return pd.Series(pd.array(out, dtype="str"), index=index)


def cat(*parts: Text) -> pd.Series:
    """Columns and literals concatenated row by row in one Arrow call; a missing value counts as ''."""
    index = next(p.index for p in parts if isinstance(p, pd.Series))
    joined = pc.binary_join_element_wise(*(_arrow(p) for p in parts), pa.scalar("", pa.large_string()),
                                         null_handling="replace")
    return pd.Series(pd.array(joined, dtype="str"), index=index)


def take(values: pd.Series, rows: np.ndarray | pd.Series) -> pd.Series:
    """``values`` at positional ``rows`` (-1 gives a missing value), with a fresh RangeIndex."""
    taken = pd.api.extensions.take(values.array, np.asarray(rows), allow_fill=True)
    return pd.Series(taken, index=pd.RangeIndex(len(taken)))


def factorize(*columns: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Integer codes of the values of ``columns`` taken end to end (-1 for missing), and the distinct values:
    Arrow's hash, several times faster than ``pd.factorize`` on str columns."""
    arr = pa.chunked_array([chunk for col in columns for chunk in _arrow(col).chunks], pa.large_string())
    encoded = arr.combine_chunks().dictionary_encode()
    return encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary


def scatter(values: pd.Series, mask: np.ndarray) -> pd.Series:
    """A full-length column: ``values`` (one per true entry of ``mask``, in order) where ``mask``, else missing."""
    rows = np.full(len(mask), -1)
    rows[mask] = np.arange(int(mask.sum()))
    return take(values, rows)


def join_lists(keys: pd.Series, values: pd.Series, sep: str = ";") -> pd.Series:
    """``values`` grouped by ``keys`` and joined with ``sep`` (in the given order), as a Series indexed by key."""
    if keys.empty:
        return pd.Series([], dtype="str")
    table = pa.table({"k": pa.array(keys.to_numpy(), pa.string()), "v": pa.array(values.to_numpy(), pa.string())})
    agg = table.group_by("k", use_threads=False).aggregate([("v", "list")])
    return pd.Series(pd.array(pc.binary_join(agg["v_list"], sep), dtype="str"),
                     index=pd.Index(pd.array(agg["k"], dtype="str")))


def initial_domain(domains: pd.DataFrame) -> str:
    """The tenant's initial domain: ``is_initial``, else a ``*.onmicrosoft.com`` domain, else a placeholder."""
    initial = domains.loc[domains["is_initial"].fillna(False).astype(bool), "name"]
    if len(initial):
        return str(initial.iloc[0]).lower()
    names = domains["name"].str.lower()
    ms = names[names.str.endswith(".onmicrosoft.com") & ~names.str.endswith(".mail.onmicrosoft.com")]
    return str(ms.sort_values().iloc[0]) if len(ms) else "<tenant>.onmicrosoft.com"


def _resolve(value: pd.Series, kind: pd.Series, rows: pd.DataFrame, ad: pd.DataFrame) -> pd.DataFrame:
    """Join each GUID-carrying value against AD: which anchor it stands for and whose it is.

    Candidates are the AD-order base64 a value stands for (a 16-byte value as it is and byte-swapped, a GUID
    string or its hex or base64 text converted). One merge against every AD object's objectGUID and
    ConsistencyGuid decides: this user's own anchor first, then another object (objectGUID before ConsistencyGuid,
    lowest DN), an unswapped reading before a swapped one. A 16-byte value found only byte-swapped is the
    big-endian form: the same answer ``anchor_forms.classify_series(known_anchors=...)`` gives, with one join
    instead of two set look-ups over every AD anchor. Returns, per value: cand, swapped, own, row (-1: none).
    """
    pieces = []
    for name, convert in (("guid_b64", lambda s: s), ("guid_string", anchors.guid_to_immutable_id_series),
                          ("hex", anchors.guid_to_immutable_id_series), ("guid_text_base64", _guid_text_to_b64)):
        pos = np.flatnonzero((kind == name).to_numpy())
        if len(pos):
            converted = convert(value.iloc[pos].str.strip()).reset_index(drop=True)
            pieces.append(pd.DataFrame({"pos": pos, "cand": converted, "swapped": False}))
            if name == "guid_b64":
                pieces.append(pd.DataFrame({"pos": pos, "cand": anchors.swap_immutable_id_series(converted),
                                            "swapped": True}))
    c = pd.concat(pieces or [pd.DataFrame({"pos": [], "cand": pd.Series([], dtype="str"), "swapped": []})],
                  ignore_index=True).dropna(subset=["cand"])
    c["own"] = pick(c.index, [((c["cand"] == take(rows["_guid_b64"], c["pos"]).set_axis(c.index)).fillna(False),
                               _FORM_GUID),
                              ((c["cand"] == take(rows["_cg"], c["pos"]).set_axis(c.index)).fillna(False), _FORM_CG)],
                    "")
    # only the AD anchors some candidate equals can join: a few among a million, found without hashing the million
    forms = pd.concat([pd.DataFrame({"cand": ad[col], "row": np.arange(len(ad)), "rank": rank})[
                       columns.isin(ad[col], c["cand"])] for rank, col in enumerate(("guid_b64", "cg"))],
                      ignore_index=True)
    h = c.merge(forms, on="cand", how="left")
    h["row"] = h["row"].fillna(-1).astype(np.int64)
    h["miss"] = (h["own"] == "").to_numpy() & (h["row"] < 0).to_numpy()
    h["other"] = (h["own"] == "").to_numpy()
    h["dn"] = take(ad["dn"], h["row"].to_numpy()).fillna("")
    h = h.sort_values(["pos", "miss", "swapped", "other", "rank", "dn"], kind="stable").drop_duplicates("pos")
    where = np.full(len(value), -1)
    where[h["pos"].to_numpy().astype(np.int64)] = np.arange(len(h))
    h = h.reset_index(drop=True)
    return pd.DataFrame({"cand": take(h["cand"], where), "swapped": take(h["swapped"].astype("boolean"), where),
                         "own": take(h["own"], where), "row": np.append(h["row"].to_numpy(), -1)[where]})


def _owner_text(rows: np.ndarray, cand: pd.Series, ad: pd.DataFrame) -> pd.Series:
    """"the <attribute> of <DN>" for AD rows (-1: missing), with a note when it is excluded or not its anchor."""
    expected, excluded = take(ad["expected"], rows), take(ad["excluded"], rows)
    form = pick(cand.index, [((cand == take(ad["guid_b64"], rows)).fillna(False), _FORM_GUID)], _FORM_CG)
    note = pick(cand.index, [(excluded.notna(), cat(", which is excluded from sync as ", excluded)),
                             (expected.notna() & (expected != cand).fillna(False),
                              cat(", which syncs with its ", take(ad["anchor_source"], rows), " instead"))], "")
    return pick(cand.index, [(rows >= 0, cat("the ", form, " of ", take(ad["dn"], rows), note))], None)


def _guid_text_to_b64(values: pd.Series) -> pd.Series:
    """ImmutableID of the GUID whose text a 48-character base64 value encodes (``guid_text_base64`` values)."""
    if values.empty:
        return values
    raw = base64.b64decode("".join(values.tolist()))
    text = pd.Series(np.frombuffer(raw, dtype="S36").astype("U36"), index=values.index, dtype="str")
    return anchors.guid_to_immutable_id_series(text)


def add_anchor_detail(f: pd.DataFrame, ad: pd.DataFrame, okta_users: pd.DataFrame | None) -> None:
    """Fill ``anchor_kind`` and ``anchor_detail`` for the rows whose ImmutableID is not the expected anchor."""
    need = columns.isin(f["category"], pd.Series(["anchor_mismatch", "orphan_anchor", "ambiguous"]))
    need &= f["immutable_id"].notna().to_numpy()
    if not need.any():
        f["anchor_kind"] = f["anchor_detail"] = pd.Series(np.nan, index=f.index, dtype="str")
        return
    rows = f.loc[need, ["immutable_id", "_guid_b64", "_cg", "anchor_source"]].reset_index(drop=True)
    value = rows["immutable_id"]
    kind = anchor_forms.classify_series(value)  # the shape; the join below refines guid_b64 and finds big-endian
    r = _resolve(value, kind, rows, ad)
    cand, own, swapped = r["cand"], r["own"].fillna(""), r["swapped"].fillna(False).to_numpy(dtype=bool)
    found = (own != "").to_numpy() | (r["row"] >= 0).to_numpy()
    owner = _owner_text(r["row"].to_numpy(), cand, ad)
    whose = pick(rows.index, [(own != "", cat("this user's ", own))], owner)
    unknown = cat("a GUID no AD object has (", anchors.immutable_id_to_guid_series(cand), ")")
    okta = _okta_names(value, okta_users)

    kind = pick(rows.index, [(swapped & found, "big_endian_guid"), (own != "", "same_user_other_anchor"),
                             (found, "other_ad_object")], "unknown_guid").where(kind == "guid_b64", kind)
    whose_or_unknown = whose.fillna(unknown)
    detail = pick(rows.index, [
        (kind == "same_user_other_anchor", cat("this user's ", own, ", while its anchor is its ",
                                               rows["anchor_source"])),
        (kind == "other_ad_object", whose.fillna("")),
        (kind == "unknown_guid", "a well-formed 16-byte value, but " + unknown),
        (kind == "big_endian_guid", "the big-endian (byte-swapped) form of " + whose_or_unknown),
        (kind == "guid_string", "the GUID string of " + whose_or_unknown),
        (kind == "guid_text_base64", "base64 of the text of " + whose_or_unknown),
        ((kind == "hex") & cand.notna(), "hex text of " + whose_or_unknown),
        (kind == "hex", "hex text, not base64 of 16 bytes"),
        (kind == "okta_user_id", okta),
        (kind == "email", "an email address or UPN written by a changed Okta mapping, not an anchor"),
        (kind == "number", "a number (an employee or person id from a changed Okta mapping), not an anchor"),
        (kind == "placeholder", "a placeholder value, not an anchor"),
    ], "a value not derived from a GUID (for example an employee id from a changed Okta mapping)")
    f["anchor_kind"] = scatter(kind, need).set_axis(f.index)
    f["anchor_detail"] = scatter(detail, need).set_axis(f.index)


def _okta_names(values: pd.Series, okta_users: pd.DataFrame | None) -> pd.Series:
    """'Okta user 00u… (login)' for values that are Okta user ids."""
    value = values.str.strip()
    if okta_users is None:
        return cat("the Okta user id ", value, " (Okta users were not collected)")
    users = okta_users[columns.isin(okta_users["id"], value)]  # only the users named: few, against a million
    login = take(users["login"].fillna(users["email"]), lookup(value, users["id"]))
    known = columns.isin(value, users["id"])
    return pick(values.index, [(known, cat("Okta user ", value, " (", login.fillna("no login"), ")"))],
                cat("the Okta user id ", value, ", not among the collected Okta users"))


def add_okta_check(f: pd.DataFrame, okta_users: pd.DataFrame, app_users: pd.DataFrame | None) -> None:
    """Link each cloud row to an Okta app user (external_id == Entra id, else user_name == UPN, case-insensitive)."""
    for col in ("okta_user_id", "okta_login", "okta_app_immutable_id"):
        f[col] = pd.Series(np.nan, index=f.index, dtype="str")
    f["okta_agrees"] = pd.Series(pd.NA, index=f.index, dtype="boolean")
    if app_users is None or app_users.empty or not f["entra_id"].notna().any():
        return
    apps = app_users.reset_index(drop=True)
    ids = f["entra_id"]
    by_id = _first_app_user(ids, apps["external_id"], apps)
    first_user, first_imm = take(apps["user_id"], by_id), take(apps["immutable_id"], by_id)
    linked_by_id = first_user.notna().to_numpy()
    by_name = np.full(len(f), -1)
    rest = np.flatnonzero(~linked_by_id & ids.notna().to_numpy())  # the UPN is looked up only where the id failed
    if len(rest):
        upn = f["entra_upn"].iloc[rest].reset_index(drop=True).str.lower()
        names = apps["user_name"].str.lower()
        near = np.flatnonzero(columns.isin(names, upn))  # every app user holding one of those names, in order
        found = _first_app_user(upn, names.iloc[near].reset_index(drop=True), apps.iloc[near].reset_index(drop=True))
        by_name[rest] = np.append(near, -1)[found]
    user_id = first_user.where(linked_by_id, take(apps["user_id"], by_name)).where(ids.notna().to_numpy())
    app_imm = first_imm.where(linked_by_id, take(apps["immutable_id"], by_name)).where(user_id.notna())
    f["okta_user_id"] = user_id.set_axis(f.index)
    f["okta_app_immutable_id"] = app_imm.set_axis(f.index)
    logins = okta_users["login"]
    f["okta_login"] = take(logins, lookup(user_id, okta_users["id"])).set_axis(f.index) if len(logins) else np.nan
    agrees = (app_imm.fillna("") == f["immutable_id"].fillna("").to_numpy()).astype("boolean")
    f["okta_agrees"] = agrees.where(user_id.notna(), pd.NA).set_axis(f.index)


def _first_app_user(values: pd.Series, keys: pd.Series, apps: pd.DataFrame) -> np.ndarray:
    """Row of ``apps`` whose key equals each value (-1: none); of several, the first in (app_id, user_id) order.

    Only the rows of repeated keys are sorted: sorting every app user by two text columns was the slowest step.
    """
    codes, uniques = factorize(keys, values)
    kc, vc = codes[:len(keys)], codes[len(keys):]
    rows = np.flatnonzero(kc >= 0)
    first = np.full(len(uniques) + 1, -1)  # the extra slot answers code -1
    first[kc[rows]] = rows  # right for keys held once; repeated keys are settled below
    counts = np.bincount(kc[rows], minlength=len(uniques))
    repeated = rows[counts[kc[rows]] > 1]
    if len(repeated):
        sub = apps.iloc[repeated]
        order = pc.sort_indices(pa.table({"app": _arrow(sub["app_id"]), "user": _arrow(sub["user_id"])}),
                                sort_keys=[("app", "ascending"), ("user", "ascending")]).to_numpy()
        ranked = repeated[order]
        _, head = np.unique(kc[ranked], return_index=True)
        first[kc[ranked[head]]] = ranked[head]
    return first[vc]


def lookup(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Position of each value's first occurrence in ``keys`` (-1: not there; a missing value matches nothing)."""
    found = pc.index_in(_arrow(values), value_set=columns.one_array(_arrow(keys)), skip_nulls=True)
    return found.fill_null(-1).to_numpy().astype(np.int64)
