"""The ``reason`` and ``action`` sentences of the findings, built by column concatenation (no per-row Python)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from hybridx_nb.core.columns import arrow_text
from hybridx_nb.engine.detail import Text, cat, pick, take

_VIA = {"smtp": "primary SMTP address", "upn": "UPN", "immutable_id": "ImmutableID"}
_SEP = "; "


def _pick(g: pd.DataFrame, cases: list[tuple[object, Text]], default: Text) -> pd.Series:
    return pick(g.index, cases, default)


def _phrases(g: pd.DataFrame, items: list[tuple[str, Text]]) -> pd.Series:
    """The phrases of the block reasons each row has, joined with '; '."""
    reasons = g["block_reason"].fillna("")
    parts = [_pick(g, [(reasons.str.contains(name, regex=False), text)], "") for name, text in items]
    joined = parts[0].str.cat(parts[1:], sep=_SEP)
    return joined.str.replace(r"(?:; )+", _SEP, regex=True).str.strip("; ")


def _via(g: pd.DataFrame) -> pd.Series:
    return _pick(g, [(g["match_via"] == k, v) for k, v in _VIA.items()], "address")


def _or_upn(g: pd.DataFrame, ctx: dict) -> Text:
    return cat(" or the UPN ", g["ad_upn"]) if ctx["upn_on"] else ""


def _const(g: pd.DataFrame, text: str) -> pd.Series:
    return _pick(g, [], text)


def _hard(g: pd.DataFrame, ctx: dict) -> tuple[pd.Series, pd.Series]:
    reason = cat("ImmutableID ", g["immutable_id"], " equals the ", g["anchor_source"], " anchor of ", g["ad_dn"],
                 ", so Entra Connect will hard-match (take over) this cloud user.")
    return reason, _const(g, "Nothing to fix: after the first sync the user is managed from AD and its attributes "
                             "are overwritten with AD's values.")


def _soft(g: pd.DataFrame, ctx: dict) -> tuple[pd.Series, pd.Series]:
    value = _pick(g, [(g["match_via"] == "smtp", g["ad_mail"])], g["ad_upn"])
    reason = cat("The cloud user has no ImmutableID and its ", _via(g), " ", value, " matches ", g["ad_dn"],
                 ", so Entra Connect will soft-match it and stamp ImmutableID ", g["expected_immutable_id"], ".")
    action = cat("Nothing required; to make the match certain, pre-stamp ImmutableID ", g["expected_immutable_id"],
                 " on the cloud user before the first sync.")
    return reason, action


def _mismatch(g: pd.DataFrame, ctx: dict) -> tuple[pd.Series, pd.Series]:
    expected, kind = g["expected_immutable_id"], g["anchor_kind"]
    tail = cat(" of ", g["ad_dn"], ", so it will refuse the ", _via(g), " match and create a duplicate user ",
               g["duplicate_upn"], ".")
    reason = _pick(g, [(kind == "okta_user_id",
                        cat("Okta wrote its own user id as ImmutableID (", g["anchor_detail"], "), but Entra Connect "
                            "will compute ", expected, " from the ", g["anchor_source"], tail))],
                   cat("The cloud user's ImmutableID ", g["immutable_id"], " is ", g["anchor_detail"],
                       ", not the expected ", expected, tail))
    stamp = cat("ImmutableID ", expected, " on the cloud user before the first sync (Update-MgUser "
                   "-OnPremisesImmutableId), keeping ", g["immutable_id"], " for rollback")
    action = _pick(g, [
        (kind == "same_user_other_anchor",
         cat("Choose ", ctx["other_setting"], " as the source anchor in Entra Connect, or pre-stamp ", stamp, ".")),
        (g["federated"].fillna(False), cat("Move the UPN to a managed domain, pre-stamp ", stamp, ", then move it back "
                                           "(the UPN is in a federated domain).")),
    ], cat("Pre-stamp ", stamp, "."))
    return reason, action


def _blocked(g: pd.DataFrame, ctx: dict) -> tuple[pd.Series, pd.Series]:
    roles, expected = g["entra_roles"].fillna("").str.replace(";", ", ", regex=False), g["expected_immutable_id"]
    why = _phrases(g, [
        ("admin_role", cat("the cloud user holds the Entra role(s) ", roles)),
        ("hard_match_takeover_blocked", "the tenant blocks cloud object takeover through hard match"),
        ("soft_match_blocked", "the tenant blocks soft matching (blockSoftMatchEnabled)"),
        ("federated_domain", cat("its UPN ", g["entra_upn"], " is in a federated domain")),
        ("on_prem_object_identifier", "its onPremisesObjectIdentifier points at another on-premises object"),
    ])
    fix = _phrases(g, [
        ("admin_role", cat("remove the role(s) ", roles, " and re-assign them after the match")),
        ("hard_match_takeover_blocked", "have a Global Administrator set "
         "blockCloudObjectTakeoverThroughHardMatchEnabled to false for the cut-over and back to true afterwards"),
        ("soft_match_blocked", cat("pre-stamp ImmutableID ", expected, " so the user hard-matches")),
        ("federated_domain", cat("move the UPN to a managed domain, pre-stamp ImmutableID ", expected,
                                 " and move the UPN back")),
        ("on_prem_object_identifier", "clear onPremisesObjectIdentifier (beta PATCH to null)"),
    ])
    reason = cat("The ", _via(g), " match with ", g["ad_dn"], " will be refused because ", why, ".")
    return reason, cat("Before the first sync: ", fix, ".")


def _ambiguous(g: pd.DataFrame, ctx: dict) -> tuple[pd.Series, pd.Series]:
    counts = cat(g["_n_ad"].astype("str"), " AD user(s) and ", g["_n_cloud"].astype("str"), " cloud user(s)")
    others = cat(" (the others: ", g["candidates"], ").")
    anchor = g["_how"] == "anchor"
    value = g["expected_immutable_id"].fillna(g["immutable_id"])
    reason = _pick(g, [(anchor, cat("Anchor ", value, " links ", counts, ", so Entra Connect cannot hard-match "
                                    "one to one", others))],
                   cat("Soft matching is ambiguous: ", counts, " share primary SMTP addresses or UPNs", others))
    action = _pick(g, [(anchor, "Decide which cloud user belongs to which AD user, keep the anchor on that one "
                        "and correct the ImmutableID of the others (or the copied mS-DS-ConsistencyGuid in AD).")],
                   "Decide which objects belong together, make their primary SMTP addresses and UPNs unique, or "
                   "pre-stamp the right ImmutableID so the pair hard-matches.")
    return reason, action


def _new(g: pd.DataFrame, ctx: dict) -> tuple[pd.Series, pd.Series]:
    reason = cat("No cloud user holds ImmutableID ", g["expected_immutable_id"], " or has the primary SMTP address ",
                 g["ad_mail"].fillna("(none)"), _or_upn(g, ctx), ", so Entra Connect will create a new cloud user.")
    action = cat("None if this person is new to Microsoft 365; if they already have a cloud account, pre-stamp "
                 "ImmutableID ", g["expected_immutable_id"], " on it before the first sync.")
    return reason, action


def _orphan(g: pd.DataFrame, ctx: dict) -> tuple[pd.Series, pd.Series]:
    reason = cat("ImmutableID ", g["immutable_id"], " is ", g["anchor_detail"], "; no in-scope AD user will claim it "
                 "and none has the same primary SMTP address", ctx["or_upn"], ", so this cloud user stays unmatched.")
    action = _pick(g, [(g["anchor_kind"] == "other_ad_object",
                        "If this cloud user belongs to that AD object, bring the object into sync scope or pre-stamp "
                        "its anchor; otherwise correct the ImmutableID or leave the user cloud-only.")],
                   "If this person has an AD account, pre-stamp that account's anchor (or align the primary SMTP "
                   "address); otherwise the user stays cloud-only with a meaningless ImmutableID.")
    return reason, action


def _cloud_only(g: pd.DataFrame, ctx: dict) -> tuple[pd.Series, pd.Series]:
    return (_const(g, "No ImmutableID and no AD user with the same primary SMTP address" + ctx["or_upn"]
                   + ", so Entra Connect leaves this cloud-only user alone."),
            _const(g, "None, unless this person has an AD account: then align its primary SMTP address or "
                      "pre-stamp that account's anchor."))


def _excluded(g: pd.DataFrame, ctx: dict) -> tuple[pd.Series, pd.Series]:
    reason = _pick(g, [(g["_cl_excluded"].notna(), "A guest user: Entra Connect never matches guests.")],
                   cat("Not synchronised: ", g["_ad_excluded"], "."))
    return reason, _const(g, "None: Entra Connect leaves it out of the sync.")


def _unknown(g: pd.DataFrame, ctx: dict) -> tuple[pd.Series, pd.Series]:
    cloud = g["entra_id"].notna()
    with_ad = cat(" The outcome for ", g["ad_dn"], ", which matches it by ", _via(g), ", depends on it.")
    reason = _pick(g, [(cloud, cat("The Entra export (", ctx["entra"], ") did not carry onPremisesImmutableId for "
                                   "this cloud user, so whether it already holds an ImmutableID, and which, is not "
                                   "known.", _pick(g, [(g["ad_dn"].notna(), with_ad)], "")))],
                   (f"The Entra export ({ctx['entra']}) is incomplete ({ctx['incomplete'] or 'cut short'}): no "
                    "cloud user among those read matches this AD user, but one on the missing pages may."))
    action = _pick(g, [(cloud, "Re-export the Entra users with onPremisesImmutableId selected (README.md, Export "
                               "files) and run the assessment again.")],
                   "Run the Entra export to its last page and run the assessment again.")
    return reason, action


class _Rows:
    """The rows of one category (positions, or a slice of a block): each column is taken from the findings only
    when a sentence reads it (the hard matches, most of a tenant, read three columns), so the frame is never
    reordered as a whole."""

    def __init__(self, f: pd.DataFrame, positions: np.ndarray | slice) -> None:
        self._f, self._pos, self._cols = f, positions, {}
        self.index = pd.RangeIndex(positions.stop - positions.start if isinstance(positions, slice) else len(positions))

    def __getitem__(self, column: str) -> pd.Series:
        if column not in self._cols:
            values = self._f[column]
            self._cols[column] = (values.iloc[self._pos].reset_index(drop=True) if isinstance(self._pos, slice)
                                  else take(values, self._pos))
        return self._cols[column]


#: Up to this many runs of one category, the sentences are built run by run and need no reordering.
_BLOCKS = 64
_BUILDERS: dict[str, Callable[[pd.DataFrame, dict], tuple[pd.Series, pd.Series]]] = {
    "hard_match": _hard, "soft_match": _soft, "anchor_mismatch": _mismatch, "match_blocked": _blocked,
    "ambiguous": _ambiguous, "new_user": _new, "orphan_anchor": _orphan, "cloud_only": _cloud_only,
    "excluded": _excluded, "unknown": _unknown,
}


def add_text(f: pd.DataFrame, setting: str, upn_on: bool, sources: dict | None = None) -> None:
    """Fill ``reason`` and ``action``: one plain-English sentence each, specific to the row's values.

    ``sources`` names the Entra export (``entra``) and why it is incomplete (``incomplete``), for ``unknown`` rows.
    """
    ctx = {"other_setting": "mS-DS-ConsistencyGuid" if setting == "objectGUID" else "objectGUID",
           "or_upn": " or UPN" if upn_on else "", "upn_on": upn_on,
           "entra": "the Entra export", "incomplete": None, **(sources or {})}
    codes, names = pd.factorize(f["category"])
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, np.int64)
    if len(starts) <= _BLOCKS:  # the engine writes each category in a block or a few: sentences block by block
        blocks = [_BUILDERS[names[codes[a]]](_Rows(f, slice(a, b)), ctx)  # type: ignore[arg-type]
                  for a, b in zip(starts, np.r_[starts[1:], len(codes)])]
        reasons, actions = [r for r, _ in blocks], [a for _, a in blocks]
        del blocks
        f["reason"] = _one_array(reasons, f.index)
        del reasons  # the parts go before the actions are joined: at a million rows each column is 100-200 MB
        f["action"] = _one_array(actions, f.index)
        return
    by_category = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[by_category], np.arange(len(names) + 1))
    reasons, actions = [pd.Series([], dtype="str")], [pd.Series([], dtype="str")]
    for i, name in enumerate(names):
        reason, action = _BUILDERS[name](_Rows(f, by_category[bounds[i]:bounds[i + 1]]), ctx)  # type: ignore[arg-type]
        reasons.append(reason)
        actions.append(action)
    back = np.empty(len(f), np.int64)
    back[by_category] = np.arange(len(f))
    # the take that puts the rows back in order joins the chunks too: one array each
    f["reason"] = take(pd.concat(reasons, ignore_index=True), back).set_axis(f.index)
    f["action"] = take(pd.concat(actions, ignore_index=True), back).set_axis(f.index)


def _one_array(parts: Sequence[pd.Series], index: pd.Index) -> pd.Series:
    """The parts end to end as one Arrow array, not one chunk per part: a ``take`` on a chunked column joins its
    chunks first, and the workbook and the report take from these columns dozens of times."""
    chunks = [chunk for part in parts for chunk in arrow_text(part).cast(pa.large_string()).chunks]
    values = pa.concat_arrays(chunks) if chunks else pa.array([], pa.large_string())
    return pd.Series(pd.array(values, dtype="str"), index=index)
