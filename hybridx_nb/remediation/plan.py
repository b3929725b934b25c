"""From findings to an ordered remediation plan: a strategy per user, the runbook, the numbers to check.

The field report's value is the *order* of the steps (back up, switch Okta provisioning off without deactivating
anyone, fix the anchors, Entra Connect in staging mode, compare its pending exports with these numbers, leave
staging, verify). ``build_plan`` makes that order specific to one client: who does what, with which counts.
It runs in two parts: ``draft_plan`` decides (strategy, actions, numbers) and ``finish_plan`` builds the runbook
and the plan at a glance from the draft in one pass, with any extra steps (``runbook.ExtraStep``) known only later,
such as the takeover's (app/impact.py).

Strategies (docs/domain.md §5):
- ``prestamp``: write the expected anchor on each cloud user before the first sync (preferred).
- ``clear_and_regenerate``: the seed's option for many users or for users Okta's User/Universal Sync keeps
  read-only: switch directory sync off for the tenant, then write the *correct* value (clearing to null is
  unreliable today), then let Entra Connect switch sync back on.
- ``hard_delete_recreate``: the seed's option for a handful of users: back up, hard delete, let the sync create
  them again, re-assign licences. Only when forced: every user hybridx can fix can also be pre-stamped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core import columns
from hybridx_nb.core.errors import HybridxError
from hybridx_nb.core.vocabulary import READ_ONLY_MODES, STRATEGIES, TARGETS
from hybridx_nb.engine.match import Prediction
from hybridx_nb.remediation.glance import plan_at_a_glance
from hybridx_nb.remediation.model import (
    ACTION_COLUMNS,
    HARD_MATCH_FLAG,
    SOFT_MATCH_FLAG,
    STEPS,
    Plan,
    RunbookStep,
    TenantState,
)
from hybridx_nb.remediation.okta_plan import okta_actions
from hybridx_nb.remediation.runbook import ExtraStep, build_runbook
from hybridx_nb.remediation.steps_common import RunbookContext
from hybridx_nb.snapshot.store import Snapshot

__all__ = ["Plan", "PlanDraft", "RunbookStep", "build_plan", "draft_plan", "finish_plan", "STRATEGIES"]


@dataclass
class PlanDraft:
    """A plan decided but without its runbook: what ``finish_plan`` needs to build the runbook and the glance."""

    ctx: RunbookContext
    strategy_reason: str
    notes: list[str]  # caveats the report shows next to the plan (the caller may add its own)
    duplicated: int  # users the first sync would duplicate (for the glance's risks)
    readiness_open: int


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """A str column of the findings, all-missing when the engine did not fill it."""
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="str")
    s = frame[column]
    return (s if s.dtype == "str" else s.astype("str")).replace("", np.nan)


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="boolean")
    return frame[column].astype("boolean")


def _has(s: pd.Series, word: str) -> np.ndarray:
    """Whether each value of a ``;``-joined column names ``word``."""
    hits = pc.match_substring_regex(_arrow(s), rf"(?:^|;)\s*{word}\s*(?:;|$)")  # Arrow: no Python per value
    return hits.fill_null(False).to_numpy(zero_copy_only=False)


def _arrow(s: pd.Series) -> pa.Array:
    return pa.array(s.astype("str"), type=pa.large_string(), from_pandas=True)


def _tenant(snap: Snapshot, findings: pd.DataFrame) -> TenantState:
    tenant = snap.tenant
    mode = (tenant.okta_provisioning_mode or "").strip().lower() or None
    synced = _flag(findings, "on_prem_sync_enabled").fillna(False).to_numpy(dtype=bool)
    synced_n = int((synced & _text(findings, "entra_id").notna().to_numpy()).sum())
    if mode in READ_ONLY_MODES:
        read_only, why = True, f"Okta provisions in {mode.replace('_', ' ').title()} mode"
    elif synced_n:  # read-only for Graph whatever the tenant file says (docs/domain.md §8)
        read_only, why = True, (f"{synced_n} cloud user(s) show as synced (onPremisesSyncEnabled true in the "
                                "Entra export), so Graph refuses to edit them while directory sync is on")
    else:
        read_only, why = False, ""
    domains = snap["entra_domains"]
    initial = domains.loc[domains["is_initial"].fillna(False).astype(bool), "name"].str.lower().tolist()
    if not initial:  # no /domains export: the tenant's own .onmicrosoft.com name, as the UPNs show it
        upns = columns.lower(columns.arrow_text(snap["entra_users"]["upn"]))
        suffix = pc.struct_field(pc.extract_regex(upns, r"@(?P<d>[^@]+\.onmicrosoft\.com)$"), [0])  # Arrow: C speed
        suffix = pd.Series(pd.array(suffix, dtype="str"))
        initial = suffix[~suffix.str.endswith(".mail.onmicrosoft.com", na=True)].value_counts().index.tolist()
    return TenantState(read_only, why, bool(tenant.org_sync_enabled), tenant.feature(HARD_MATCH_FLAG),
                   tenant.feature(SOFT_MATCH_FLAG), initial[0] if initial else None, tenant.tenant_id, mode)


def _federated(findings: pd.DataFrame, snap: Snapshot) -> pd.Series:
    """The engine's ``federated`` flag, filled from the tenant's domains where it is missing."""
    domains = snap["entra_domains"]
    fed_names = domains.loc[domains["authentication_type"].str.lower().eq("federated").fillna(False), "name"]
    upn = _arrow(_text(findings, "entra_upn"))
    domain = columns.lower(pc.replace_substring_regex(upn, "^.*@", ""))  # after the last @, in Arrow
    known = pa.array(fed_names.str.lower().astype("str"), type=pa.large_string(), from_pandas=True)
    from_domains = pd.Series(pc.is_in(domain, value_set=known).fill_null(False).to_numpy(zero_copy_only=False),
                             index=findings.index)
    return _flag(findings, "federated").fillna(from_domains).astype(bool)


def _temporary_upns(upn: pd.Series, ids: pd.Series, initial: str | None, taken: pd.Series) -> pd.Series:
    """``local@initial`` for each UPN; with part of the object id when that name is already in use."""
    if initial is None or upn.empty:
        return pd.Series(np.nan, index=upn.index, dtype="str")
    local = upn.str.rsplit("@", n=1).str[0]
    plain = local + "@" + initial
    clash = columns.isin(plain.str.lower(), taken.str.lower()) | plain.str.lower().duplicated(keep=False).to_numpy()
    return plain.where(~clash, local + "." + ids.str[:8] + "@" + initial)


def _choose(strategy: str, n_fix: int, bulk_threshold: int, t: TenantState) -> tuple[str, str]:
    if strategy != "auto":
        return strategy, f"forced by parameter (strategy={strategy}); {n_fix} user(s) need a new ImmutableID"
    if n_fix == 0:
        return "prestamp", "no cloud user needs a new ImmutableID: nothing to pre-stamp"
    if t.read_only:
        return "clear_and_regenerate", (
            f"{t.read_only_reason}: Graph refuses to edit those users, so directory sync must be switched off "
            f"for the tenant before the {n_fix} ImmutableID(s) can be corrected")
    if n_fix > bulk_threshold:
        return "clear_and_regenerate", (
            f"{n_fix} users need a new ImmutableID, more than bulk_threshold={bulk_threshold}: the seed's bulk "
            "route (directory sync off, correct values written, sync on)")
    return "prestamp", (f"{n_fix} user(s) need a new ImmutableID (at most bulk_threshold={bulk_threshold}) and "
                        "they can be edited: pre-stamp each with its expected anchor")


def _rows(f: pd.DataFrame, mask: np.ndarray, step: str, strategy: str, note: str | pd.Series,
          new: pd.Series | None = None) -> pd.DataFrame:
    sub = f[mask]
    return pd.DataFrame({
        "entra_id": sub["entra_id"], "entra_upn": sub["entra_upn"], "ad_dn": sub["ad_dn"],
        "category": sub["category"], "strategy": strategy, "step": step,
        "current_immutable_id": sub["immutable_id"],
        "new_immutable_id": new[mask] if new is not None else np.nan,
        "temporary_upn": sub["temporary_upn"] if step == "set_immutable_id_upn_swap" else np.nan,
        "roles": sub["entra_roles"], "licenses": sub["assigned_licenses"],
        "note": note[mask] if isinstance(note, pd.Series) else note,
    })


def build_plan(prediction: Prediction, snap: Snapshot, *, strategy: str = "auto", bulk_threshold: int = 50,
               target: str = "connect", groups: dict[str, int] | None = None, limits: list[str] | None = None,
               readiness_open: int = 0, extra: Sequence[ExtraStep] = ()) -> Plan:
    """The ordered remediation for one client from the engine's ``Prediction`` and the snapshot's tenant facts.

    ``target`` is the sync engine that takes over (docs/domain.md §10); ``groups`` the group/contact outcome
    counts (§11); ``limits`` the target's limits the tenant exceeds; ``readiness_open`` the readiness problems
    the anchor fix does not resolve (for the plan at a glance); ``extra`` runbook steps besides the standard ones.
    """
    return finish_plan(draft_plan(prediction, snap, strategy=strategy, bulk_threshold=bulk_threshold,
                                  target=target, groups=groups, limits=limits, readiness_open=readiness_open), extra)


def finish_plan(draft: PlanDraft, extra: Sequence[ExtraStep] = ()) -> Plan:
    """The plan with its runbook (the standard steps and ``extra``, numbered and cross-referenced once, over the
    final list) and the plan at a glance built from that same runbook."""
    ctx = draft.ctx
    steps, numbers = build_runbook(ctx, extra)
    glance = plan_at_a_glance(ctx, steps, numbers, duplicated=draft.duplicated,
                              readiness_open=draft.readiness_open)
    return Plan(ctx.chosen, draft.strategy_reason, ctx.actions, steps, ctx.e, list(draft.notes), ctx.okta, glance,
                ctx.target, ctx.sync_switch_off, ctx.t.tenant_id)


def draft_plan(prediction: Prediction, snap: Snapshot, *, strategy: str = "auto", bulk_threshold: int = 50,
               target: str = "connect", groups: dict[str, int] | None = None, limits: list[str] | None = None,
               readiness_open: int = 0) -> PlanDraft:
    """Everything ``build_plan`` decides (strategy, actions, expected numbers, the Okta side), without the
    runbook, which ``finish_plan`` builds once every extra step is known (the arguments as for ``build_plan``)."""
    if target not in TARGETS:
        raise HybridxError(f"unknown target {target!r}: use {' or '.join(TARGETS)}")
    sync_target = target
    if strategy != "auto" and strategy not in STRATEGIES:
        raise HybridxError(f"unknown strategy {strategy!r}: use auto, {', '.join(STRATEGIES)}")
    if isinstance(bulk_threshold, bool) or not isinstance(bulk_threshold, int) or bulk_threshold < 0:
        raise HybridxError(f"bulk_threshold must be a whole number ≥ 0, not {bulk_threshold!r}")
    raw = prediction.findings
    cols = ["category", "ad_dn", "entra_id", "entra_upn", "immutable_id", "expected_immutable_id", "block_reason",
            "entra_roles", "assigned_licenses", "anchor_kind"]
    f = pd.DataFrame({c: _text(raw, c) for c in cols}).reset_index(drop=True)
    t = _tenant(snap, raw)
    cat, block, current = f["category"], f["block_reason"], f["immutable_id"]
    blocked = cat.eq("match_blocked").to_numpy(dtype=bool)

    # A cloud user gets a new ImmutableID when its AD user is certain and the expected anchor differs from it.
    target = (f["entra_id"].notna() & f["expected_immutable_id"].notna()
              & current.ne(f["expected_immutable_id"])).to_numpy(dtype=bool)
    certain = (cat.eq("anchor_mismatch") | (cat.eq("orphan_anchor") & f["ad_dn"].notna())).to_numpy(dtype=bool)
    fix = target & (certain | (blocked & (_has(block, "federated_domain") | current.notna().to_numpy(dtype=bool))))
    chosen, reason = _choose(strategy, int(fix.sum()), bulk_threshold, t)

    role_holder = f["entra_roles"].notna().to_numpy(dtype=bool)
    roles = role_holder & ((blocked & _has(block, "admin_role")) | fix)
    objid = blocked & _has(block, "on_prem_object_identifier")
    review = (cat.eq("ambiguous") | cat.eq("orphan_anchor")).to_numpy(dtype=bool) & ~fix
    recreate = fix if chosen == "hard_delete_recreate" else np.zeros(len(f), dtype=bool)
    write = fix & ~recreate
    federated = _federated(raw, snap).to_numpy(dtype=bool)
    swap = write & federated
    f["temporary_upn"] = pd.Series(np.nan, index=f.index, dtype="str")
    if swap.any():
        f.loc[swap, "temporary_upn"] = _temporary_upns(f.loc[swap, "entra_upn"], f.loc[swap, "entra_id"],
                                                       t.initial_domain, snap["entra_users"]["upn"])
    how = "pre-stamp" if chosen == "prestamp" else "write the correct value while directory sync is off"
    write_note = pd.Series(np.nan, index=f.index, dtype="str")  # written for the rows written, not for all
    if write.any():
        write_note[write] = ("current value: " + f.loc[write, "anchor_kind"].fillna("unknown kind") + "; " + how
                             + pd.Series(np.where(swap[write], "; federated domain: UPN swap", ""),
                                         index=f.index[write]))
    parts = [
        _rows(f, roles, "remove_roles", "role_removal",
              "remove before the first sync: Entra matches no role holder"),
        _rows(f, objid, "clear_object_identifier", "object_identifier",
              "onPremisesObjectIdentifier points at another object: clear it (beta PATCH to null)"),
        _rows(f, recreate, "hard_delete", chosen,
              "back up the data; hard delete; the sync creates the user again; re-assign the licences"),
        _rows(f, write & ~swap, "set_immutable_id", chosen, write_note, f["expected_immutable_id"]),
        _rows(f, swap, "set_immutable_id_upn_swap", chosen, write_note, f["expected_immutable_id"]),
        _rows(f, roles, "readd_roles", "role_removal", "re-add once the first sync has matched the user"),
        _rows(f, review, "review", "manual", "decide by hand which AD user this is: hybridx does not guess"),
    ]
    actions = pd.concat(parts, ignore_index=True).astype({c: "str" for c in ACTION_COLUMNS})
    order = actions["step"].map({s: i for i, s in enumerate(STEPS)})
    actions = (actions.assign(_order=order).sort_values(["_order", "entra_upn"], kind="stable")
               .drop(columns="_order").reset_index(drop=True))

    flags = []
    hard_matches = cat.eq("hard_match").any() or fix.any() or _has(block, "hard_match_takeover_blocked").any()
    if t.hard_match_blocked and hard_matches:
        flags.append(HARD_MATCH_FLAG)
    if t.soft_match_blocked and (cat.eq("soft_match").any() or _has(block, "soft_match_blocked").any()):
        flags.append(SOFT_MATCH_FLAG)
    both_sides = (f["ad_dn"].notna() & f["entra_id"].notna()).to_numpy(dtype=bool)
    matched = both_sides & cat.isin(["hard_match", "soft_match", "anchor_mismatch", "match_blocked",
                                     "orphan_anchor"]).to_numpy(dtype=bool)
    n_new = int(cat.eq("new_user").sum())
    expected = {
        "adds": n_new + int(recreate.sum()), "deletes": 0, "updates": int((matched & ~recreate).sum()),
        "new_users": n_new, "anchor_writes": int(write.sum()), "upn_swaps": int(swap.sum()),
        "role_holders": int(roles.sum()), "object_identifier_clears": int(objid.sum()),
        "hard_deletes": int(recreate.sum()), "flag_changes": len(flags), "review": int(review.sum()),
        "review_ad_users": int((review & f["ad_dn"].notna().to_numpy(dtype=bool)).sum()),
        "in_scope": int((f["ad_dn"].notna() & cat.ne("excluded")).sum()), "cloud_users": len(snap["entra_users"]),
    }
    notes = []
    if swap.any() and t.initial_domain is None:
        notes.append("The tenant's initial .onmicrosoft.com domain is unknown (no domains export): fill the "
                     "TemporaryUpn column of remediation.csv before running the script.")
    if recreate.any():
        notes.append("A hard delete cannot be undone: back up the users' mailbox and OneDrive data first.")
    fed_ids = f.loc[(swap | recreate) & federated, "entra_id"]
    on_both_sides = actions["step"].isin(["set_immutable_id_upn_swap", "hard_delete"]) & columns.isin(
        actions["entra_id"], fed_ids)
    okta = okta_actions(actions, pd.Series(on_both_sides, index=actions.index), raw, snap)
    expected["okta_writes"] = int(okta["action"].eq("SetAppUserImmutableId").sum())
    expected["okta_manual"] = int(okta["action"].eq("Manual").sum())
    ctx = RunbookContext(chosen, actions, expected, flags, t, prediction.anchor_setting,
                         getattr(prediction, "anchor_reason", ""), sync_target, okta, _pilot(actions, okta),
                         _federated_names(snap), dict(groups or {}), list(limits or []))
    return PlanDraft(ctx, reason, notes, int(cat.eq("anchor_mismatch").sum()), readiness_open)


def _pilot(actions: pd.DataFrame, okta: pd.DataFrame) -> str | None:
    """A user to try the two-sided change on first: the first Okta-side user (by UPN) who holds no role."""
    if okta.empty:
        return None
    holders = actions.loc[actions["step"].eq("remove_roles"), "entra_id"]
    usable = okta[okta["action"].eq("SetAppUserImmutableId") & ~columns.isin(okta["entra_id"], holders)]
    candidates = (usable if len(usable) else okta)["entra_upn"].dropna().sort_values()
    return str(candidates.iloc[0]) if len(candidates) else None


def _federated_names(snap: Snapshot) -> list[str]:
    domains = snap["entra_domains"]
    fed = domains["authentication_type"].str.lower().eq("federated").fillna(False).to_numpy(dtype=bool)
    return sorted(domains.loc[fed, "name"].dropna().str.lower())
