"""Small hand-built tenants and findings for the report, XLSX, redaction, runner and batch tests."""

from __future__ import annotations

import uuid

import pandas as pd

from hybridx_nb.core import anchors
from hybridx_nb.snapshot.store import Snapshot, TenantFacts, build_snapshot

XSS = "<img src=x onerror=alert(1)>"
GUIDS = {name: str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.hybridx.test")) for name in
         ("alice", "bob", "carol", "dave", "erin")}


def hand_snapshot(domain: str = "contoso.com") -> Snapshot:
    """Five people: a hard match, a soft match, a duplicate (Okta id as ImmutableID), a new user whose display
    name is a script, and a cloud-only user."""
    dc = ",".join(f"DC={p}" for p in domain.split("."))
    ad = pd.DataFrame({
        "dn": [f"CN=Alice Archer,OU=Staff,{dc}", f"CN=Bob Baker,OU=Staff,{dc}", f"CN=Carol Cole,OU=Staff,{dc}",
               f"CN=Dave\\, the Intruder,OU=Staff,{dc}"],
        "object_guid": [GUIDS["alice"], GUIDS["bob"], GUIDS["carol"], GUIDS["dave"]],
        "sam_account_name": ["alice", "bob", "carol", "dave"],
        "upn": [f"alice@{domain}", f"bob@{domain}", f"carol@{domain}", f"dave@{domain}"],
        "mail": [f"alice@{domain}", f"bob@{domain}", f"carol@{domain}", f"dave@{domain}"],
        "proxy_addresses": [[f"SMTP:{n}@{domain}"] for n in ("alice", "bob", "carol", "dave")],
        "display_name": ["Alice Archer", "Bob Baker", "Carol Cole", XSS],
        "enabled": [True, True, True, True],
        "object_class": ["user"] * 4,
    })
    entra = pd.DataFrame({
        "id": [str(uuid.uuid5(uuid.NAMESPACE_URL, n)) for n in ("alice", "bob", "carol", "erin")],
        "upn": [f"alice@{domain}", f"bob@{domain}", f"carol@{domain}", f"erin@{domain}"],
        "mail": [f"alice@{domain}", f"bob@{domain}", f"carol@{domain}", f"erin@{domain}"],
        "proxy_addresses": [[f"SMTP:{n}@{domain}"] for n in ("alice", "bob", "carol", "erin")],
        "immutable_id": [anchors.guid_to_immutable_id(GUIDS["alice"]), None, "00uA1b2C3d4E5f6G7h8i", None],
        "on_prem_sync_enabled": [None, None, None, None],
        "account_enabled": [True, True, True, True],
        "user_type": ["Member"] * 4,
        "display_name": ["Alice Archer", "Bob Baker", "Carol Cole", "Erin Evans"],
    })
    domains = pd.DataFrame({"name": [domain], "authentication_type": ["Managed"], "is_verified": [True],
                            "is_default": [True], "is_initial": [False]})
    return build_snapshot({"ad_users": ad, "entra_users": entra, "entra_domains": domains},
                          TenantFacts(tenant_id="00000000-0000-4000-8000-000000000001", display_name="Hand Tenant"),
                          sources={"ad_users": "hand-built", "entra_users": "hand-built"})


def findings_frame(n_per_category: dict[str, int] | None = None) -> pd.DataFrame:
    """A findings frame in the contract's shape, without the engine."""
    sizes = n_per_category or {"hard_match": 3, "anchor_mismatch": 2, "new_user": 1, "cloud_only": 1}
    rows = []
    for cat, n in sizes.items():
        for i in range(n):
            rows.append({"category": cat, "ad_dn": f"CN=User {cat} {i},OU=Staff,DC=contoso,DC=com",
                         "ad_upn": f"{cat}.{i}@contoso.com", "entra_upn": f"{cat}.{i}@contoso.com",
                         "ad_display_name": f"User {cat} {i}", "entra_display_name": f"user {cat} {i}",
                         "entra_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{cat}{i}")),
                         "immutable_id": "00uA1b2C3d4E5f6G7h8i" if cat == "anchor_mismatch" else None,
                         "federated": i % 2 == 0, "entra_roles": None,
                         "reason": f"Matched {cat}.{i}@contoso.com to CN=User {cat} {i},OU=Staff,DC=contoso,DC=com.",
                         "action": "None." if cat == "hard_match" else "Fix it."})
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        if col != "federated":
            frame[col] = frame[col].astype("str")
    frame["federated"] = frame["federated"].astype("boolean")
    return frame


def assessment_for(snap: Snapshot, **params: object):
    """The real pipeline (engine, rules, plan) on a snapshot, as the notebook runs it."""
    from hybridx_nb.app import assess

    return assess.run(assess.Params(**params), snap=snap)


def render_all(a, **prepare_kw) -> str:
    """Every report section of an assessment, concatenated (what the notebook shows)."""
    from hybridx_nb import report

    v = report.prepare(a, **prepare_kw)
    parts = [report.title(v), report.verdict(v), report.tenant_facts(v), report.findings_sections(v),
             report.plan_section(v), report.readiness_section(v), report.appendix(v)]
    return "".join(p.data for p in parts)


_RUNS: dict[str, object] = {}


def hand_report(base) -> object:
    """One papermill run on the hand-built snapshot per test session (shared by runner and browser tests)."""
    from pathlib import Path

    from hybridx_nb.app.runner import run_assessment
    from hybridx_nb.snapshot.store import write_snapshot

    if "hand" not in _RUNS:
        base = Path(base)
        snap = write_snapshot(hand_snapshot(), base / "hand-snapshot")
        _RUNS["hand"] = run_assessment({"client": "Hand Client", "snapshot": str(snap)}, base / "hand-report")
    return _RUNS["hand"]


def demo_report(base) -> tuple[object, dict]:
    """One papermill run on the demo tenant's export files per test session: (RunResult, export files)."""
    from pathlib import Path

    from hybridx_nb.app.runner import run_assessment
    from hybridx_nb.demo import tenant as demo

    if "demo" not in _RUNS:
        base = Path(base)
        files = {k: str(v) for k, v in demo.write_exports(demo.generate(users=300, seed=7), base / "inputs").items()}
        _RUNS["demo"] = (run_assessment({"client": "Contoso (demo)", **files}, base / "demo"), files)
    return _RUNS["demo"]
