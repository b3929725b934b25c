"""The hand-made identities of the demo tenant: every case the first sync can meet at least once, each with the
finding it must get."""

from __future__ import annotations

from hybridx_nb.demo.constants import (
    BASE_DN,
    DOMAIN,
    INITIAL_DOMAIN,
    MANAGED_DOMAIN,
)

_USERS_OU = f"CN=Users,{BASE_DN}"


_SYSTEM = dict(category="excluded", has_cloud=False, okta=None, app=False, upn="", mail="", display="", critical=True)


_CLOUD_ONLY = dict(has_ad=False, imm="empty", okta=None, app=False, c_sync=None, licence=None)


def _case(case: str, category: str, first: str | None = None, last: str | None = None, **kw: object) -> dict:
    row = dict(case=case, category=category, first=first, last=last, **kw)
    if "local" not in row and first and last:
        row["local"] = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    return row


def special_cases() -> list[dict]:
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
        # AD system objects (docs/domain.md §16) and an Entra guest.
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
