"""The engine's explanations of values: what a wrong ImmutableID is, and what Okta thinks of each cloud user.

``add_anchor_detail`` classifies the ImmutableID of anchor_mismatch, orphan_anchor and ambiguous cloud rows with
``anchors.classify_series`` and joins the value against AD (every object's objectGUID and mS-DS-ConsistencyGuid,
excluded objects too) and against the Okta users, so ``anchor_detail`` names the object the value belongs to.
``add_okta_check`` links each cloud user to its Okta Office 365 app user. Both work on whole columns.
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import anchors

_FORM_GUID, _FORM_CG = "objectGUID", "mS-DS-ConsistencyGuid"

Text = pd.Series | str


# ---------------------------------------------------------------------------------------------------------------
# Column helpers shared by the engine modules (Arrow does the work; pandas' masked setitem on str is slow)
# ---------------------------------------------------------------------------------------------------------------

def _arrow(x: Text) -> pa.ChunkedArray | pa.Scalar:
    if isinstance(x, pd.Series):
        return pa.chunked_array(x.astype("str").array.__arrow_array__()).cast(pa.large_string())
    return pa.scalar(x, pa.large_string())


def pick(index: pd.Index, cases: list[tuple[object, Text]], default: Text) -> pd.Series:
    """Per row, the text of the first case whose mask is true, else ``default`` (texts aligned with ``index``)."""
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


def _owners(cand: pd.Series, ad: pd.DataFrame) -> pd.Series:
    """For each AD-order base64 value, "the <attribute> of <DN>" of the AD object that has it (objectGUID first)."""
    left = pd.DataFrame({"value": cand, "pos": np.arange(len(cand))}).dropna()
    hits = []
    for rank, (form, col) in enumerate(((_FORM_GUID, "guid_b64"), (_FORM_CG, "cg"))):
        right = pd.DataFrame({"value": ad[col], "row": np.arange(len(ad))}).dropna()
        hits.append(left.merge(right, on="value").assign(form=form, rank=rank))
    hit = pd.concat(hits, ignore_index=True)
    hit["dn"] = take(ad["dn"], hit["row"].to_numpy())
    hit = hit.sort_values(["pos", "rank", "dn"], kind="stable").drop_duplicates("pos")  # objectGUID before CG
    rows = hit["row"].to_numpy()
    value, expected = hit["value"].reset_index(drop=True), take(ad["expected"], rows)
    excluded = take(ad["excluded"], rows)
    note = pick(value.index, [(excluded.notna(), ", which is excluded from sync as " + excluded.fillna("")),
                              (expected.notna() & (expected != value).fillna(False),
                               ", which syncs with its " + take(ad["anchor_source"], rows).fillna("") + " instead")],
                "")
    text = "the " + pd.Series(hit["form"].to_numpy(), dtype="str") + " of " + take(ad["dn"], rows) + note
    where = np.full(len(cand), -1)
    where[hit["pos"].to_numpy()] = np.arange(len(hit))
    return take(text, where).set_axis(cand.index)


def _guid_text_to_b64(values: pd.Series) -> pd.Series:
    """ImmutableID of the GUID whose text a 48-character base64 value encodes (``guid_text_base64`` values)."""
    if values.empty:
        return values
    raw = base64.b64decode("".join(values.tolist()))
    text = pd.Series(np.frombuffer(raw, dtype="S36").astype("U36"), index=values.index, dtype="str")
    return anchors.guid_to_immutable_id_series(text)


def add_anchor_detail(f: pd.DataFrame, ad: pd.DataFrame, okta_users: pd.DataFrame | None) -> None:
    """Fill ``anchor_kind`` and ``anchor_detail`` for the rows whose ImmutableID is not the expected anchor."""
    need = anchors.isin(f["category"], pd.Series(["anchor_mismatch", "orphan_anchor", "ambiguous"]))
    need &= f["immutable_id"].notna().to_numpy()
    if not need.any():
        f["anchor_kind"] = f["anchor_detail"] = pd.Series(np.nan, index=f.index, dtype="str")
        return
    rows = f[need].reset_index(drop=True)
    value = rows["immutable_id"]
    kind = anchors.classify_series(value, known_anchors=ad["guid_b64"].dropna())
    # The AD-order base64 each GUID-shaped value stands for, to join against AD.
    parts = [pd.Series([], dtype="str")]
    for name, convert in (("guid_b64", lambda s: s), ("big_endian_guid", anchors.swap_immutable_id_series),
                          ("guid_string", anchors.guid_to_immutable_id_series),
                          ("hex", anchors.guid_to_immutable_id_series), ("guid_text_base64", _guid_text_to_b64)):
        m = (kind == name).to_numpy()
        if m.any():
            parts.append(convert(value[m].str.strip()))
    cand = pd.concat(parts).reindex(rows.index)
    own = np.select([(cand == rows["_guid_b64"]).fillna(False), (cand == rows["_cg"]).fillna(False)],
                    [_FORM_GUID, _FORM_CG], "")
    owner = _owners(cand, ad)
    whose = pick(rows.index, [(own != "", "this user's " + pd.Series(own, index=rows.index, dtype="str"))], owner)
    guid = anchors.immutable_id_to_guid_series(cand)
    unknown = "a GUID no AD object has (" + guid.fillna("") + ")"
    okta = _okta_names(value, okta_users)

    kind = pick(rows.index, [(own != "", "same_user_other_anchor"), (owner.notna(), "other_ad_object")],
                "unknown_guid").where(kind == "guid_b64", kind)
    whose_or_unknown = whose.fillna(unknown)
    detail = pick(rows.index, [
        (kind == "same_user_other_anchor", "this user's " + pd.Series(own, index=rows.index)
         + ", while its anchor is its " + rows["anchor_source"].fillna("")),
        (kind == "other_ad_object", whose.fillna("")),
        (kind == "unknown_guid", "a well-formed 16-byte value, but " + unknown),
        (kind == "big_endian_guid", "the big-endian (byte-swapped) form of " + whose_or_unknown),
        (kind == "guid_string", "the GUID string of " + whose_or_unknown),
        (kind == "guid_text_base64", "base64 of the text of " + whose_or_unknown),
        ((kind == "hex") & cand.notna(), "hex text of " + whose_or_unknown),
        (kind == "hex", "hex text, not base64 of 16 bytes"),
        (kind == "okta_user_id", okta),
        (kind == "email", "an email address or UPN written by a changed Okta mapping, not an anchor"),
    ], "a value not derived from a GUID (for example an employee id from a changed Okta mapping)")
    f["anchor_kind"] = scatter(kind, need).set_axis(f.index)
    f["anchor_detail"] = scatter(detail, need).set_axis(f.index)


def _okta_names(values: pd.Series, okta_users: pd.DataFrame | None) -> pd.Series:
    """'Okta user 00u… (login)' for values that are Okta user ids."""
    value = values.str.strip()
    if okta_users is None:
        return cat("the Okta user id ", value, " (Okta users were not collected)")
    users = okta_users.drop_duplicates("id").set_index("id")
    login = value.map(users["login"].fillna(users["email"]))
    known = anchors.isin(value, users.index)
    return pick(values.index, [(known, cat("Okta user ", value, " (", login.fillna("no login"), ")"))],
                cat("the Okta user id ", value, ", not among the collected Okta users"))


def add_okta_check(f: pd.DataFrame, okta_users: pd.DataFrame, app_users: pd.DataFrame | None) -> None:
    """Link each cloud row to an Okta app user (external_id == Entra id, else user_name == UPN, case-insensitive)."""
    for col in ("okta_user_id", "okta_login", "okta_app_immutable_id"):
        f[col] = pd.Series(np.nan, index=f.index, dtype="str")
    f["okta_agrees"] = pd.Series(pd.NA, index=f.index, dtype="boolean")
    if app_users is None or app_users.empty or not f["entra_id"].notna().any():
        return
    apps = app_users.sort_values(["app_id", "user_id"], kind="stable")
    by_id = apps.dropna(subset=["external_id"]).drop_duplicates("external_id")
    by_name = apps.assign(key=apps["user_name"].str.lower()).dropna(subset=["key"]).drop_duplicates("key")
    left = pd.DataFrame({"id": f["entra_id"], "key": f["entra_upn"].str.lower()})
    first = left.merge(by_id[["external_id", "user_id", "immutable_id"]], how="left", left_on="id",
                       right_on="external_id")
    second = left.merge(by_name[["key", "user_id", "immutable_id"]], how="left", on="key")
    linked_by_id = first["user_id"].notna().to_numpy()
    user_id = first["user_id"].where(linked_by_id, second["user_id"]).where(left["id"].notna().to_numpy())
    app_imm = first["immutable_id"].where(linked_by_id, second["immutable_id"]).where(user_id.notna())
    f["okta_user_id"] = user_id.set_axis(f.index)
    f["okta_app_immutable_id"] = app_imm.set_axis(f.index)
    logins = okta_users.drop_duplicates("id").set_index("id")["login"]
    f["okta_login"] = user_id.map(logins).set_axis(f.index) if len(logins) else np.nan
    agrees = (app_imm.fillna("") == f["immutable_id"].fillna("").to_numpy()).astype("boolean")
    f["okta_agrees"] = agrees.where(user_id.notna(), pd.NA).set_axis(f.index)
