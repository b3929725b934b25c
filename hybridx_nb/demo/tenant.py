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
from hybridx_nb.snapshot.store import Snapshot, TenantFacts, build_snapshot

DOMAIN = "contoso.com"                 # federated with Okta
INITIAL_DOMAIN = "contoso.onmicrosoft.com"
MANAGED_DOMAIN = "fabrikam.com"        # acquired company, managed
BASE_DN = "DC=contoso,DC=com"
TENANT_ID = "4f1c2b7e-8d3a-4e59-9b1f-2c6d8e0a7b35"
OKTA_APP_ID = "0oa1b2c3d4E5f6G7h8i9"
ROLES = {"Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
         "Exchange Administrator": "29232cdf-9323-42fd-ade2-1d097af3e4de"}
SKUS = {"ENTERPRISEPACK": "6fd2c87f-b296-42f0-b197-1e91e994b900",   # Office 365 E3
        "STANDARDPACK": "18181a46-0d4e-45cd-891e-60aabd171b4e",     # Office 365 E1
        "EXCHANGESTANDARD": "4b9405b0-7788-4568-add1-99614e613b69"}
FEATURES = {"softMatchOnUpnEnabled": True, "blockSoftMatchEnabled": False,
            "blockCloudObjectTakeoverThroughHardMatchEnabled": False}
ANCHOR_SETTING = "objectGUID"
ANCHOR_REASON = ("auto: mS-DS-ConsistencyGuid is already set on some users (one holds the ASCII text of a GUID), "
                 "so Entra Connect keeps objectGUID as the source anchor")

FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
         "Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Donald "
         "Ashley Steven Emily Paul Donna Andrew Michelle Joshua Carol Kenneth Amanda Kevin Melissa Brian Deborah "
         "George Stephanie Timothy Rebecca Ronald Laura Jason Helen Edward Sharon Jeffrey Cynthia Ryan Kathleen "
         "Jacob Amy Gary Angela Nicholas Anna Eric Ruth Jonathan Brenda Stephen Pamela Larry Nicole Justin Katherine "
         "Scott Samantha Brandon Christine Benjamin Emma Samuel Olivia Raymond Sophie Lukas Hannah Felix Lea Jonas "
         "Mia Noah Chloe Mateo Sofia Arjun Priya Wei Mei Hiroshi Yuki Kwame Amara Omar Layla Ivan Olga Pierre Camille "
         "Luca Giulia Sven Ingrid Diego Lucia Rafael Ana Tariq Fatima").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
        "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
        "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall "
        "Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes "
        "Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard "
        "Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price "
        "Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Schmidt Schneider Fischer Weber Meyer Wagner "
        "Becker Hoffmann Schulz Koch Richter Klein Wolf Neumann Dubois Laurent Moreau Rossi Russo Ferrari Esposito "
        "Bianchi Romano Colombo Jansen Devries Bakker Visser Larsen Hansen Nielsen Andersen Nakamura Tanaka Suzuki "
        "Watanabe Chen Wang Zhang Liu Singh Kumar Sharma Okafor Mensah Haddad Khan Ivanov Petrov Novak Kowalski"
        ).split()
DEPARTMENTS = ("Sales", "Marketing", "Finance", "Engineering", "Operations", "HR", "Legal", "Support")
SHARES = {"soft_match": 0.03, "new_user": 0.04, "orphan_anchor": 0.02, "cloud_only": 0.015}  # of `users`

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

_USERS_OU = f"CN=Users,{BASE_DN}"
_SYSTEM = dict(category="excluded", has_cloud=False, okta=None, app=False, upn="", mail="", display="", critical=True)
_CLOUD_ONLY = dict(has_ad=False, imm="empty", okta=None, app=False, c_sync=None, licence=None)


def _case(case: str, category: str, first: str | None = None, last: str | None = None, **kw: object) -> dict:
    row = dict(case=case, category=category, first=first, last=last, **kw)
    if "local" not in row and first and last:
        row["local"] = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    return row


def _specials() -> list[dict]:
    """The named scenarios; each row is one identity of the truth table (a matched pair counts once)."""
    fab, S = MANAGED_DOMAIN, _case

    def system(case: str, **kw: object) -> dict:  # an AD system object: no cloud user, no Okta user
        return _case(case, **{**_SYSTEM, **kw})

    def cloud_only(case: str, first: str, last: str, **kw: object) -> dict:
        return _case(case, "cloud_only", first, last, **{**_CLOUD_ONLY, **kw})
    mismatch = dict(category="anchor_mismatch", via="smtp")
    hand_made = dict(imm="empty", okta=None, app=False, c_sync=None)  # cloud user created by hand, not by Okta
    ambiguous_cloud = dict(category="ambiguous", has_ad=False, okta=None, app=False, c_sync=None, imm="empty")
    return [
        # The field report's three users: ImmutableID is their own Okta user id, SMTP matches -> duplicates.
        S("okta_user_id_1", first="Megan", last="Bowen", imm="okta_id", kind="okta_user_id", **mismatch),
        S("okta_user_id_2", first="Alex", last="Wilber", imm="okta_id", kind="okta_user_id", **mismatch),
        S("okta_user_id_3", first="Lidia", last="Holloway", imm="okta_id", kind="okta_user_id", **mismatch),
        S("big_endian_guid", first="Diego", last="Siciliani", imm="big_endian", kind="big_endian_guid", **mismatch),
        S("guid_text_base64", first="Isaiah", last="Langer", imm="guid_text_b64", kind="guid_text_base64",
          **mismatch),
        S("guid_string", first="Grady", last="Archie", imm="guid_string", kind="guid_string", **mismatch),
        S("email", first="Johanna", last="Lorenz", imm="email", kind="email", **mismatch),
        S("hex", first="Lee", last="Gu", imm="hex", kind="hex", **mismatch),
        S("other_employee_id", first="Nestor", last="Wilke", imm="employee_id", kind="other", **mismatch),
        S("other_ad_object", first="Pradeep", last="Gupta", imm="anchor_of:excluded_conflict_object",
          kind="other_ad_object", note="ImmutableID is the objectGUID of this user's replication-conflict copy",
          **mismatch),
        S("unknown_guid", first="Zoë", last="Ünal", local="zoe.unal", imm="unknown", kind="unknown_guid",
          note="name with diacritics: tests encoding and escaping", **mismatch),
        S("same_user_other_anchor", first="Christie", last="Cline", cons="other", imm="consistency",
          kind="same_user_other_anchor", note="migrated from another forest: mS-DS-ConsistencyGuid holds the old "
          "objectGUID and Okta sent it; Entra Connect will use objectGUID", **mismatch),
        # mS-DS-ConsistencyGuid already in use, so `auto` resolves to objectGUID (see ANCHOR_REASON).
        S("consistency_guid_set_1", "hard_match", "Enrico", "Cattaneo", cons="same"),
        S("consistency_guid_set_2", "hard_match", "Irvin", "Sayers", cons="same"),
        S("consistency_guid_set_3", "hard_match", "Patti", "Fernandez", cons="same"),
        S("consistency_guid_ascii_text", "hard_match", "Miriam", "Graham", cons="ascii",
          note="mS-DS-ConsistencyGuid holds the ASCII text of a GUID; with objectGUID as anchor she hard-matches, "
               "with mS-DS-ConsistencyGuid she would be duplicated"),
        # Matches Entra will refuse.
        S("admin_role_hard_match", "match_blocked", "Lynne", "Robbins", role="Global Administrator",
          block="admin_role", via="immutable_id"),
        S("federated_soft_match", "match_blocked", "Joni", "Sherman", block="federated_domain", via="smtp",
          **hand_made),
        # Soft matches on the managed domain.
        S("soft_match_smtp", "soft_match", "Henrietta", "Mueller", domain=fab, via="smtp", **hand_made),
        S("soft_match_upn", "soft_match", "Debra", "Berger", domain=fab, via="upn", c_mail="", licence=None,
          **hand_made),
        # Ambiguous: one AD user, two cloud users with its primary SMTP; one ImmutableID on two cloud users.
        S("ambiguous_shared_smtp", "ambiguous", "Cameron", "White", domain=fab, has_cloud=False, okta=None,
          app=False),
        S("ambiguous_shared_smtp_cloud_1", first="Cameron", last="White", local="cameron.white.c1",
          c_upn=f"cameron.white@{fab}", c_mail=f"cameron.white@{fab}", **ambiguous_cloud),
        S("ambiguous_shared_smtp_cloud_2", first="Cameron", last="White", local="cameron.white.c2",
          c_upn=f"cwhite@{fab}", c_mail=f"cameron.white@{fab}", **ambiguous_cloud),
        S("ambiguous_shared_immutable_id", "ambiguous", "Allan", "Deyoung", has_cloud=False, okta=None,
          app=False),
        S("ambiguous_shared_immutable_id_cloud_1", "ambiguous", "Allan", "Deyoung", local="allan.deyoung.c1",
          has_ad=False, c_upn=f"allan.deyoung@{DOMAIN}", c_mail=f"allan.deyoung@{DOMAIN}",
          imm="anchor_of:ambiguous_shared_immutable_id"),
        S("ambiguous_shared_immutable_id_cloud_2", "ambiguous", "Allan", "Deyoung", local="allan.deyoung.c2",
          has_ad=False, c_upn=f"allan.deyoung.adm@{DOMAIN}", c_mail="", licence=None, okta=None, app=False,
          c_sync=None, imm="anchor_of:ambiguous_shared_immutable_id",
          note="second account whose ImmutableID a script copied from Allan's"),
        # Never provisioned, with readiness problems.
        S("new_user_dot_local", "new_user", "Backup", "Service", local="svc.backup", upn="svc.backup@contoso.local",
          mail="", sam="svc.backup", has_cloud=False, okta=None, app=False, readiness="TopLevelDomain"),
        S("new_user_upn_space", "new_user", "Anna Maria", "Schulz", upn=f"anna maria.schulz@{DOMAIN}",
          has_cloud=False, okta=None, app=False, readiness="Character"),
        S("new_user_upn_umlaut", "new_user", "Jürgen", "Müller", local="juergen.mueller",
          upn=f"jürgen.müller@{DOMAIN}", has_cloud=False, okta=None, app=False, readiness="Character"),
        # Matching users with readiness problems.
        S("duplicate_proxy_1", "hard_match", "Nadia", "Rahman", extra_proxy=f"smtp:sales@{DOMAIN}",
          readiness="Duplicate"),
        S("duplicate_proxy_2", "hard_match", "Omar", "Haddad", extra_proxy=f"smtp:sales@{DOMAIN}",
          readiness="Duplicate"),
        S("long_mail_nickname", "hard_match", "Bartholomew", "Featherstonehaugh",
          nick="bartholomew.featherstonehaugh.finance.controlling.emea.interim.lead", readiness="Length"),
        S("blank_display_name", "hard_match", "Kim", "Akers", display="", c_display="Kim Akers",
          readiness="Blank"),
        # Names that test escaping, on users the report lists.
        S("escape_apostrophe", "soft_match", "Sean", "O'Brien", domain=fab, via="smtp", **hand_made),
        S("escape_hostile_display_name", "new_user", "Mallory", "Evans", display="<img src=x onerror=alert(1)>",
          has_cloud=False, okta=None, app=False),
        S("okta_app_disagrees", "hard_match", "Rowan", "Price", app_imm="big_endian",
          note="Okta's app user holds the big-endian form: its mapping was changed after provisioning"),
        # AD system objects (docs/domain.md §6) and an Entra guest.
        system("excluded_krbtgt", cn="krbtgt", dn=f"CN=krbtgt,{_USERS_OU}", sam="krbtgt", enabled=False),
        system("excluded_guest", cn="Guest", dn=f"CN=Guest,{_USERS_OU}", sam="Guest", enabled=False),
        system("excluded_administrator", cn="Administrator", dn=f"CN=Administrator,{_USERS_OU}",
               sam="Administrator"),
        system("excluded_health_mailbox", critical=None, cn="HealthMailbox3f7a1c2e9b0d4e5f",
          dn=f"CN=HealthMailbox3f7a1c2e9b0d4e5f,CN=Monitoring Mailboxes,CN=Microsoft Exchange System Objects,"
             f"{BASE_DN}", sam="HealthMailbox3f7a1c2", upn=f"HealthMailbox3f7a1c2e9b0d4e5f@{DOMAIN}",
          display="HealthMailbox-EXCH01-001"),
        system("excluded_system_mailbox", critical=None,
          cn="SystemMailbox{1f05a927-3be2-4fb9-aa03-b59fe3b56f4c}",
          dn=f"CN=SystemMailbox{{1f05a927-3be2-4fb9-aa03-b59fe3b56f4c}},{_USERS_OU}", sam="SM_2f1e0d9c8b7a6f5e4",
          upn=f"SystemMailbox{{1f05a927-3be2-4fb9-aa03-b59fe3b56f4c}}@{DOMAIN}", display="Microsoft Exchange",
          enabled=False),
        system("excluded_msol_account", critical=None, cn="MSOL_6c8f2a1b9d3e",
          dn=f"CN=MSOL_6c8f2a1b9d3e,{_USERS_OU}", sam="MSOL_6c8f2a1b9d3e",
          display="On-Premises Directory Synchronization Service Account"),
        system("excluded_conflict_object", critical=None, first="Pradeep", last="Gupta",
          local="pradeep.gupta.cnf", cn="Pradeep Gupta\\0ACNF:{guid}", sam="$DUPLICATE-1f4",
          note="replication conflict copy of Pradeep Gupta; its objectGUID is Pradeep's cloud ImmutableID"),
        S("excluded_entra_guest", "excluded", "Jane", "Partner", local="jane.partner", has_ad=False,
          c_upn="jane.partner_northwind.com#EXT#@contoso.onmicrosoft.com", c_mail="jane.partner@northwind.com",
          user_type="Guest", creation="Invitation", imm="empty", okta=None, app=False, c_sync=None, licence=None),
        # Cloud-only accounts and a leaver.
        cloud_only("cloud_only_break_glass", "Break Glass", "Admin", local="breakglass",
                   c_upn=f"breakglass@{INITIAL_DOMAIN}", c_mail="", role="Global Administrator"),
        cloud_only("cloud_only_shared_mailbox", "Contoso", "Info", local="info", c_upn=f"info@{DOMAIN}",
                   c_mail=f"info@{DOMAIN}", c_enabled=False),
        cloud_only("cloud_only_service_account", "Scan to", "Email", local="scanner", c_upn=f"scanner@{DOMAIN}",
                   c_mail=f"scanner@{DOMAIN}", licence="EXCHANGESTANDARD"),
        S("orphan_anchor_leaver", "orphan_anchor", "Hugo", "Lindqvist", has_ad=False, imm="unknown",
          c_enabled=False, okta="DEPROVISIONED", app=False, licence=None),
    ]


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
    rows = _specials()
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
    tables = _tables(wide)
    snap = build_snapshot(tables, tenant, {name: origin for name in tables})
    return DemoTenant(snap, _truth(wide), seed)


def write_exports(tenant: DemoTenant, folder: str | Path, *, ad_format: str = "csv") -> dict[str, Path]:
    """Write the tenant as real export files (see ``export_writers``); returns {"ad", "entra", "okta",
    "okta_app_users", "tenant"} → path."""
    from hybridx_nb.demo.export_writers import write_exports as write
    return write(tenant.snapshot, folder, ad_format=ad_format)
