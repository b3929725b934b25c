"""Hybrid Exchange readiness: the mailbox state of every user the first sync takes over (docs/domain.md §15).

Per hard or soft match, the on-premises state (``mailbox``: homeMDB set or a mailbox recipient type;
``remote_mailbox``: a remote recipient type; ``none``; ``unknown`` when the AD export did not carry the Exchange
attributes) and the cloud state (``mailbox``: a Get-EXOMailbox row, or without that export an Exchange Online plan
provisioned successfully; ``licensed``: an enabled Exchange plan and no mailbox yet; ``none``; ``unknown``). The
findings (``EXCHANGE_FINDINGS``), one row per user and finding:

- ``mailbox_both_sides``: a mailbox on-premises and one in Exchange Online.
- ``licence_creates_mailbox``: a mailbox on-premises, an enabled Exchange Online plan and no cloud mailbox yet:
  unless the ExchangeGuid reaches the cloud first, Exchange Online creates a second mailbox.
- ``exchange_guid_mismatch``: a remote mailbox whose msExchMailboxGuid is not the cloud mailbox's ExchangeGuid.
- ``no_remote_mailbox``: a cloud mailbox, the organisation has Exchange on-premises, and the AD user is no Exchange
  recipient at all.
- ``x500_missing``: the cloud mailbox's LegacyExchangeDN is not an X500 address of the AD user (not reported
  next to ``mailbox_both_sides``, whose way out decides which mailbox stays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.core.columns import lower, one_array
from hybridx_nb.core.vocabulary import EXCHANGE_FINDINGS
from hybridx_nb.engine.detail import initial_domain
from hybridx_nb.engine.takeover import index_in, matched_rows, member, take_text
from hybridx_nb.snapshot.carried import carried_columns
from hybridx_nb.snapshot.store import Snapshot

#: msExchRecipientTypeDetails of on-premises mailboxes (user, linked, shared, room, equipment) and of remote ones.
MAILBOX_TYPES = ("1", "2", "4", "16", "32")
REMOTE_TYPES = ("2147483648", "8589934592", "17179869184", "34359738368")
COLUMNS = ("finding", "entra_id", "entra_upn", "ad_dn", "ad_object_guid", "ad_sam", "onprem_state", "cloud_state",
           "ad_exchange_guid", "cloud_exchange_guid", "cloud_legacy_dn", "routing_address", "explanation")
_STR = pa.large_string()


@dataclass
class ExchangeReadiness:
    """Per-user findings (``COLUMNS``), the state of every pair, and what could not be judged."""

    findings: pd.DataFrame
    states: pd.DataFrame  # entra_id, onprem_state, cloud_state per pair
    notes: list[str]

    def summary(self) -> dict[str, object]:
        counts = self.findings["finding"].value_counts()
        pairs = self.states.groupby(["onprem_state", "cloud_state"]).size()
        return {"findings": {f: int(counts.get(f, 0)) for f in EXCHANGE_FINDINGS},
                "states": {f"{a}/{b}": int(n) for (a, b), n in pairs.items()}, "notes": list(self.notes)}


EXPLAIN = {
    "mailbox_both_sides": (
        "The user has a mailbox on-premises and one in Exchange Online: after the takeover mail is delivered to "
        "one of them only and the on-premises mailbox cannot be moved to the cloud. Decide which content stays. "
        "Keep on-premises: export what the cloud mailbox holds (eDiscovery/PST) if needed, remove the Exchange "
        "Online licence, then Set-User -PermanentlyClearPreviousMailboxInfo (Exchange Online PowerShell) deletes "
        "the cloud mailbox for good; migrate later with a hybrid move. Loses: the cloud mailbox's mail, calendar "
        "and its LegacyExchangeDN unless exported and added as X500. Keep the cloud mailbox: copy the on-premises "
        "content into it first (PST import or a migration tool: a hybrid move cannot target an existing "
        "mailbox), then Disable-Mailbox on-premises and Enable-RemoteMailbox with the cloud ExchangeGuid. Loses: "
        "on-premises folder permissions, delegates and rules, and the on-premises LegacyExchangeDN unless kept "
        "as X500 in the cloud."),
    "licence_creates_mailbox": (
        "The mailbox is on-premises but the cloud user has an enabled Exchange Online plan and no mailbox yet: "
        "Exchange Online creates a second, empty mailbox when it does not know the on-premises ExchangeGuid. "
        "Disable the Exchange Online service plan (or remove the licence) until the first sync has brought "
        "msExchMailboxGuid to the cloud, then license for the hybrid move."),
    "exchange_guid_mismatch": (
        "The remote mailbox on-premises carries another ExchangeGuid than the cloud mailbox: moves back to "
        "on-premises fail and Exchange on-premises treats them as two mailboxes. Set-RemoteMailbox -ExchangeGuid "
        "<the cloud mailbox's ExchangeGuid> (Exchange Management Shell)."),
    "no_remote_mailbox": (
        "The user has an Exchange Online mailbox but is no Exchange recipient on-premises, in an organisation "
        "with Exchange on-premises: on-premises mail to the user is not routed to the cloud and the mailbox "
        "cannot be managed from on-premises. Enable-RemoteMailbox -RemoteRoutingAddress "
        "<alias>@<tenant>.mail.onmicrosoft.com, then Set-RemoteMailbox -ExchangeGuid <the cloud ExchangeGuid>."),
    "x500_missing": (
        "The cloud mailbox's LegacyExchangeDN is not an X500 address on-premises: after the takeover AD's proxy "
        "addresses replace the cloud's, and replies to old mail and cached Outlook recipients bounce (IMCEAEX "
        "non-delivery reports). Add X500:<LegacyExchangeDN> to the user's proxy addresses on-premises."),
}


def exchange_readiness(snap: Snapshot, findings: pd.DataFrame, rows: pd.DataFrame | None = None
                       ) -> ExchangeReadiness:
    """The Hybrid Exchange findings of every hard and soft match in ``findings`` (``rows``: the engine's rows of
    each finding, ``Prediction.rows``, which spare looking the pairs up). The states are tested on whole columns
    and picked per pair as booleans; text is taken only for the pairs with a finding."""
    ad, cloud, exo = snap["ad_users"], snap["entra_users"], snap["exo_mailboxes"]
    pairs = matched_rows(findings, ad, cloud, rows)
    ai, ci = pairs["ai"].to_numpy(), pairs["ci"].to_numpy()
    notes: list[str] = []
    exchange_ad = bool({"recipient_type_details", "home_mdb"} & carried_columns(snap, "ad_users"))
    rtd = ad["recipient_type_details"]
    onprem_mailbox = (ad["home_mdb"].notna() | rtd.isin(MAILBOX_TYPES)).to_numpy()[ai]
    onprem_remote = (rtd.isin(REMOTE_TYPES) | ad["remote_recipient_type"].notna()).to_numpy()[ai]
    onprem = np.select([onprem_mailbox, onprem_remote], ["mailbox", "remote_mailbox"], "none")
    if not exchange_ad:
        onprem[:] = "unknown"
        notes.append("The AD export carries no on-premises Exchange attributes (msExchRecipientTypeDetails, "
                     "homeMDB): on-premises mailboxes could not be told apart; export them as README.md shows.")
    has_exo = snap.has("exo_mailboxes")
    ei = index_in(cloud["id"], exo["entra_id"])[ci] if has_exo else np.full(len(ci), -1)
    in_exo = ei >= 0
    at_exo = np.maximum(ei, 0)

    def exo_has(values: pd.Series) -> np.ndarray:  # per pair: its Exchange Online row's test, False without one
        return values.fillna(False).to_numpy(dtype=bool)[at_exo] & in_exo if len(exo) else np.zeros(len(ei), bool)

    provisioned = (cloud["exchange_provisioned"] == "Success").fillna(False).to_numpy()[ci]
    cloud_mailbox = exo_has(exo["recipient_type_details"].str.endswith("Mailbox")) if has_exo else provisioned
    licensed = (cloud["exchange_assigned"] == "Enabled").fillna(False).to_numpy()[ci]
    cloud_state = np.select([cloud_mailbox, licensed], ["mailbox", "licensed"], "none")
    if not has_exo and "exchange_provisioned" not in carried_columns(snap, "entra_users"):
        cloud_state[:] = "unknown"
        notes.append("Neither an Exchange Online export (--exo) nor the users' provisionedPlans were given: "
                     "cloud mailboxes could not be told.")
    elif not has_exo:
        notes.append("No Exchange Online export (--exo): cloud mailboxes are inferred from provisionedPlans, and "
                     "ExchangeGuid and LegacyExchangeDN checks are skipped.")
    both = (onprem == "mailbox") & (cloud_state == "mailbox")
    licence = (onprem == "mailbox") & (cloud_state == "licensed")
    mismatch = (onprem == "remote_mailbox") & (cloud_state == "mailbox") & exo_has(exo["exchange_guid"].notna())
    at = np.flatnonzero(mismatch)
    mismatch[at] = (take_text(ad["exchange_guid"], ai[at]).str.lower() !=
                    take_text(exo["exchange_guid"], ei[at]).str.lower()).fillna(True).to_numpy()
    org_has_exchange = exchange_ad and bool((ad["home_mdb"].notna() | rtd.notna()).any())
    no_remote = (onprem == "none") & (cloud_state == "mailbox") & org_has_exchange
    x500 = exo_has(exo["legacy_exchange_dn"].notna()) & (cloud_state == "mailbox") & ~both & (onprem != "unknown")
    at = np.flatnonzero(x500)
    x500[at] = ~_has_x500(ad, ai[at], take_text(exo["legacy_exchange_dn"], ei[at]))
    masks = {"mailbox_both_sides": both, "licence_creates_mailbox": licence, "exchange_guid_mismatch": mismatch,
             "no_remote_mailbox": no_remote, "x500_missing": x500}
    shown = np.flatnonzero(np.logical_or.reduce(list(masks.values())))
    out = _finding_rows(snap, ai[shown], ci[shown], ei[shown], onprem[shown], cloud_state[shown],
                        {name: m[shown] for name, m in masks.items()})
    states = pd.DataFrame({"entra_id": take_text(cloud["id"], ci), "onprem_state": pd.Series(onprem, dtype="str"),
                           "cloud_state": pd.Series(cloud_state, dtype="str")})
    return ExchangeReadiness(out, states, notes)


def _finding_rows(snap: Snapshot, ai: np.ndarray, ci: np.ndarray, ei: np.ndarray, onprem: np.ndarray,
                  cloud_state: np.ndarray, masks: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per pair and finding (``COLUMNS``), finding by finding in ``EXCHANGE_FINDINGS`` order."""
    ad, cloud, exo = snap["ad_users"], snap["entra_users"], snap["exo_mailboxes"]

    def from_exo(col: str) -> pd.Series:  # the pair's Exchange Online row's value, missing without one
        if not len(exo):
            return pd.Series(pd.array(pa.nulls(len(ei), _STR), dtype="str"))
        return take_text(exo[col], np.maximum(ei, 0)).where(ei >= 0)

    alias = take_text(ad["mail_nickname"], ai).fillna(take_text(cloud["mail_nickname"], ci)).fillna(
        take_text(cloud["upn"], ci).str.replace(r"@.*$", "", regex=True))
    routing = alias + "@" + initial_domain(snap["entra_domains"]).replace(".onmicrosoft.com", ".mail.onmicrosoft.com")
    base = pd.DataFrame({
        "entra_id": take_text(cloud["id"], ci), "entra_upn": take_text(cloud["upn"], ci),
        "ad_dn": take_text(ad["dn"], ai), "ad_object_guid": take_text(ad["object_guid"], ai),
        "ad_sam": take_text(ad["sam_account_name"], ai), "onprem_state": pd.Series(onprem, dtype="str"),
        "cloud_state": pd.Series(cloud_state, dtype="str"), "ad_exchange_guid": take_text(ad["exchange_guid"], ai),
        "cloud_exchange_guid": from_exo("exchange_guid"), "cloud_legacy_dn": from_exo("legacy_exchange_dn"),
        "routing_address": routing})
    parts = [base[m].assign(finding=name, explanation=EXPLAIN[name]) for name, m in masks.items() if m.any()]
    out = (pd.concat(parts, ignore_index=True) if parts else
           base.head(0).assign(finding=pd.Series(dtype="str"), explanation=pd.Series(dtype="str")))
    return out[list(COLUMNS)].astype("str")


def _has_x500(ad: pd.DataFrame, ai: np.ndarray, legacy: pd.Series) -> np.ndarray:
    """Whether ``X500:<legacy>`` is among the AD user's proxy addresses (case-insensitive), per pair. Only the
    X500 addresses of these pairs' AD users are lower-cased and hashed: they are few beside the SMTP ones."""
    if not len(ai):
        return np.zeros(0, dtype=bool)
    users, ai = np.unique(ai, return_inverse=True)  # each AD user's addresses once; ``ai`` now indexes ``users``
    lists = one_array(pa.chunked_array(ad["proxy_addresses"].array.__arrow_array__()).take(pa.array(users)))
    rows = pc.list_parent_indices(lists).to_numpy().astype(np.int64)
    flat = pc.list_flatten(lists)
    x500 = pc.starts_with(flat, "x500:", ignore_case=True).fill_null(False)
    flat, rows = lower(flat.filter(x500)).cast(_STR), rows[x500.to_numpy(zero_copy_only=False)]
    legacy_text = pa.array(legacy.array.__arrow_array__()).cast(_STR) if len(legacy) else pa.array([], _STR)
    wanted = lower(pc.binary_join_element_wise(pa.scalar("X500:", _STR), legacy_text, pa.scalar("", _STR)))
    codes = pc.dictionary_encode(pa.concat_arrays([flat, wanted])).indices.fill_null(0).to_numpy(
        zero_copy_only=False).astype(np.int64)
    width = int(codes.max()) + 1 if len(codes) else 1
    have = rows * width + codes[:len(flat)]
    probe = ai.astype(np.int64) * width + codes[len(flat):]
    return member(probe, have) & wanted.is_valid().to_numpy(zero_copy_only=False)
