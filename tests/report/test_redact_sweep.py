"""The marker sweep: a marker planted in every text field of every table (non-ASCII, quotes, mixed case, inside
sentences) must not survive in the pseudonymised HTML, XLSX (every part of the zip) or batch index, while the same
run without ``redact`` shows them (so the sweep can fail)."""

from __future__ import annotations

import html
import re
import uuid
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from support.report_frames import assessment_for, render_all

from hybridx_nb import report
from hybridx_nb.app.batch import ClientOutcome, write_index
from hybridx_nb.core import anchors
from hybridx_nb.report import redact
from hybridx_nb.report.xlsx import write_findings_xlsx
from hybridx_nb.snapshot.store import TenantFacts, build_snapshot

MARKER = re.compile(r"ørk\d{3}x", re.IGNORECASE)
_N = iter(range(1000))


def m(case: str = "lower") -> str:
    """A fresh marker: ``ørk007x`` in lower, upper or title case."""
    text = f"ørk{next(_N):03d}x"
    return {"lower": text, "upper": text.upper(), "title": text.title()}[case]


def _guid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))


def marked_snapshot():
    """Every text field of every table carries a marker: a duplicate whose ImmutableID is an email, a hard match,
    a soft match on a non-ASCII UPN, a system account, readiness problems, Okta rows, a group and a contact."""
    dom = f"{m()}.com"
    dc = ",".join(f"DC={p}" for p in dom.split("."))
    people = []
    for i in range(4):
        first, last = m("title"), m("upper")
        local = f"{m()}.o'{m('title')}"
        people.append({"first": first, "last": last, "local": local, "upn": f"{local}@{dom}",
                       "dn": f'CN={first} \\"{m()}\\" {last},OU={m("title")},{dc}', "sam": m(),
                       "guid": _guid(local)})
    sys_sam = f"HealthMailbox{m()}"
    ad = pd.DataFrame({
        "dn": [p["dn"] for p in people] + [f"CN={sys_sam},CN=Monitoring Mailboxes,{dc}"],
        "object_guid": [p["guid"] for p in people] + [_guid("sys")],
        "sam_account_name": [p["sam"] for p in people] + [sys_sam],
        "upn": [p["upn"] for p in people] + [f"{sys_sam}@{dom}"],
        "mail": [p["upn"] for p in people[:3]] + [f"bad address {m()}@@{dom}", None],
        "proxy_addresses": [[f"SMTP:{p['upn']}", f"smtp:{m()}@{dom}"] for p in people] + [[]],
        "display_name": [f"{p['first']} {m()} {p['last']}" for p in people] + [sys_sam],
        "given_name": [p["first"] for p in people] + [None],
        "surname": [p["last"] for p in people] + [None],
        "mail_nickname": [f"{m()} {m()}" for _ in people] + [sys_sam],  # a space: a readiness problem
        "target_address": [f"SMTP:{m()}@{m()}.mail.onmicrosoft.com" for _ in people] + [None],
        "enabled": [True] * 5, "object_class": ["user"] * 5,
        "domain": [dom] * 5,
    })
    by = {p["local"]: p for p in people}
    a, b, c, d = people
    entra = pd.DataFrame({
        "id": [_guid("e" + p["local"]) for p in people],
        "upn": [a["upn"], b["upn"], c["upn"], f"{m()}@{m()}.onmicrosoft.com"],
        "mail": [a["upn"], b["upn"], c["upn"], f"{m()}@{dom}"],
        "proxy_addresses": [[f"SMTP:{a['upn']}"], [f"SMTP:{b['upn']}"], [f"SMTP:{c['upn']}"], []],
        # a: an email used as ImmutableID (a duplicate); b: the right anchor; c: none (soft match);
        # d: cloud-only with a name as ImmutableID (orphaned)
        "immutable_id": [f"{m()}@{dom}", anchors.guid_to_immutable_id(b["guid"]), None, f"{m('title')} {m()}"],
        "account_enabled": [True] * 4, "user_type": ["Member"] * 4,
        "display_name": [f"{m('title')} {m()}" for _ in range(4)],
        "mail_nickname": [m() for _ in range(4)],
    })
    okta = pd.DataFrame({"id": ["00u" + "a" * 17, "00u" + "b" * 17], "status": ["ACTIVE"] * 2,
                         "login": [a["upn"], f"{m()}@{dom}"], "email": [f"{m()}@{dom}"] * 2,
                         "first_name": [m("title")] * 2, "last_name": [m()] * 2,
                         "provider_type": ["OKTA"] * 2, "provider_name": [m()] * 2})
    app = pd.DataFrame({"app_id": ["0oa" + "c" * 17], "user_id": ["00u" + "a" * 17], "app_label": [m()],
                        "external_id": [entra["id"][0]], "user_name": [a["upn"]],
                        "immutable_id": [entra["immutable_id"][0]], "status": ["PROVISIONED"],
                        "sync_state": ["SYNCHRONIZED"], "scope": ["USER"]})
    mail_objects = pd.DataFrame({"dn": [f"CN={m('title')} group,{dc}", f"CN={m()} contact,{dc}"],
                                 "object_class": ["group", "contact"], "object_guid": [_guid("g"), _guid("c")],
                                 "mail": [c["upn"], f"{m()}@{dom}"],
                                 "proxy_addresses": [[f"smtp:{c['upn']}"], [f"SMTP:{m()}@{dom}"]],
                                 "display_name": [f"{m()} group", f"{m()} contact"]})
    initial = f"{m()}.onmicrosoft.com"
    domains = pd.DataFrame({"name": [dom, initial], "authentication_type": ["Federated", "Managed"],
                            "is_verified": [True, True], "is_default": [True, False], "is_initial": [False, True]})
    roles = pd.DataFrame({"principal_id": [entra["id"][1]], "role_name": ["Global Administrator"],
                          "role_id": ["62e90394-69f5-4237-9190-012177145e10"]})
    rejected = pd.DataFrame({"table": ["ad_users"], "source": ["ad.csv"], "line": [7],
                             "key": [f"CN={m()},{dc}"], "reason": [f"no objectGUID for {m()}@{dom}"]})
    del by
    groups = pd.DataFrame({"id": [_guid("eg")], "display_name": [f"{m('title')} team"], "mail": [f"{m()}@{dom}"],
                           "mail_nickname": [m()], "mail_enabled": [True], "security_enabled": [False],
                           "group_types": [["Unified"]], "proxy_addresses": [[f"SMTP:{m()}@{dom}"]],
                           "on_prem_sync_enabled": [True]})
    contacts = pd.DataFrame({"id": [_guid("ec")], "display_name": [f"{m()} {m('upper')}"],
                             "mail": [f"{m()}@{m()}.example"], "mail_nickname": [m()],
                             "proxy_addresses": [[f"SMTP:{m()}@{m()}.example"]], "on_prem_sync_enabled": [None]})
    return build_snapshot({"ad_users": ad, "entra_users": entra, "okta_users": okta, "okta_app_users": app,
                           "ad_mail_objects": mail_objects, "entra_domains": domains, "entra_role_members": roles,
                           "entra_groups": groups, "entra_contacts": contacts, "rejected": rejected},
                          TenantFacts(tenant_id=_guid("tenant"), display_name=f"{m('title')} Holding {m()}"),
                          sources={"ad_users": "ad.csv (Get-ADUser Export-Csv, UTF-8)"})


def _assessment(tmp: Path, **params):
    """The marked tenant assessed with a previous assessment of it (so "since the last assessment" shows)."""
    from hybridx_nb.app import assess

    snap = marked_snapshot()
    previous = tmp / "previous"
    assess.write_outputs(assessment_for(snap, client="Sweep"), previous)
    return assessment_for(snap, client="Sweep", previous=str(previous), **params)


def _texts(tmp: Path, a, **kw) -> dict[str, str]:
    """The HTML (every section the notebook shows), the XLSX parts and the batch index, unescaped."""
    view = report.prepare(a, **kw)
    page = render_all(a, **kw) + report.since_section(a, redacted=view.redacted).data
    book = write_findings_xlsx(view.findings, tmp / "findings.xlsx", categories=list(a.counts),
                               summary=report.xlsx_summary(view))
    with zipfile.ZipFile(book) as z:
        xlsx = "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
    redacted = bool(kw.get("redactor")) or a.params.redact
    index = write_index([ClientOutcome(a.params.client, "client", True, counts=a.counts, redacted=redacted),
                         ClientOutcome("other", "other", False, error=f"{m()}@x.com failed", redacted=redacted)],
                        tmp).read_text(encoding="utf-8")
    return {"html": html.unescape(page), "xlsx": html.unescape(xlsx), "index": html.unescape(index)}


def test_markers_are_shown_without_redact(tmp_path: Path) -> None:
    a = _assessment(tmp_path)
    texts = _texts(tmp_path, a)
    assert len(set(MARKER.findall(texts["html"].casefold()))) > 40
    assert len(set(MARKER.findall(texts["xlsx"].casefold()))) > 30
    assert 'id="since"' in texts["html"] and "Since" not in texts["html"][:0]
    categories = set(a.findings["category"])
    assert {"anchor_mismatch", "match_blocked", "excluded", "orphan_anchor"} <= categories and len(a.readiness) > 0


@pytest.mark.parametrize("limit", [redact.LITERAL_LIMIT, 0])
def test_no_marker_survives_redaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    """``limit=0`` is how a large tenant runs: only system objects' names are looked for inside sentences."""
    monkeypatch.setattr(redact, "LITERAL_LIMIT", limit)
    a = _assessment(tmp_path, redact=True)
    for where, text in _texts(tmp_path, a).items():
        left = sorted(set(MARKER.findall(text.casefold())))
        assert not left, f"{where} still shows {left}: " + "; ".join(
            text[max(0, x.start() - 60):x.end() + 20] for x in list(MARKER.finditer(text.casefold()))[:3])
    assert "pseudonymised" in _texts(tmp_path, a)["html"]
