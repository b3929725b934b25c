"""What the report renders: the assessment's frames and facts, pseudonymised when ``redact`` is on."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from hybridx_nb.report.errors import clean_errors
from hybridx_nb.report.redact import Redactor


@dataclass
class ReportData:
    """The frames and facts the report renders, already pseudonymised when ``redact`` is on."""

    client: str
    counts: dict[str, int]
    findings: pd.DataFrame
    actions: pd.DataFrame
    readiness: pd.DataFrame
    domains: pd.DataFrame
    tenant: Any
    anchor_setting: str
    anchor_reason: str
    assumptions: list[str]
    plan: Any
    runbook: list[Any]
    plan_notes: list[str]
    manifest: dict[str, Any]
    sources: dict[str, str]
    inputs: dict[str, int]
    rejected: pd.DataFrame
    parameters: dict[str, Any]
    timings: dict[str, float]
    groups: pd.DataFrame | None = None  # groups and contacts on the first sync (engine.groups), when collected
    glance: list[tuple[str, str]] = field(default_factory=list)  # the plan at a glance (label, text)
    redacted: bool = False
    generated: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def prepare(a: Any, redactor: Redactor | None = None) -> ReportData:
    """Collect what the report needs from an ``assess.Assessment``; pseudonymise it when ``a.params.redact``."""
    params = a.params
    if redactor is None and getattr(params, "redact", False):
        with clean_errors():
            redactor = Redactor.from_reference(getattr(params, "redact_key", None))
    snap, plan = a.snapshot, a.plan
    findings = a.prediction.findings
    actions = getattr(plan, "actions", pd.DataFrame())
    readiness = a.readiness
    domains = snap["entra_domains"]
    runbook = list(getattr(plan, "runbook", []))
    notes = list(getattr(plan, "notes", []))
    anchor_reason, assumptions = a.prediction.anchor_reason, list(a.prediction.assumptions)
    rejected = snap.rejected
    groups = getattr(a, "groups", None)
    glance = list(getattr(plan, "glance", []) or [])
    if redactor is not None:
        if groups is not None:
            groups = redactor.frame(groups, {"ad_dn": "dn", "ad_name": "name", "entra_name": "name",
                                             "matched_on": "text"})
        glance = [(label, redactor.text(text)) for label, text in glance]
        findings = redactor.findings(findings)
        actions = redactor.actions(actions)
        readiness = redactor.readiness(readiness)
        domains = domains.assign(name=redactor.series(domains["name"], "domain"))
        rejected = redactor.frame(rejected, {"key": "text", "reason": "text"})
        runbook = [dataclasses.replace(step, **{f: redactor.text(getattr(step, f)) for f in
                                                ("title", "who", "where", "do", "verify", "rollback")})
                   for step in runbook]
        notes = redactor.texts(notes)
        anchor_reason, assumptions = redactor.text(anchor_reason), redactor.texts(assumptions)
    public = params.public() if hasattr(params, "public") else dataclasses.asdict(params)
    inputs = {name: len(frame) for name, frame in sorted(snap.tables.items()) if name != "rejected"}
    return ReportData(
        client=str(params.client), counts=dict(a.counts), findings=findings, actions=actions, readiness=readiness,
        domains=domains, tenant=snap.tenant, anchor_setting=a.prediction.anchor_setting, anchor_reason=anchor_reason,
        assumptions=assumptions, plan=plan, runbook=runbook, plan_notes=notes, manifest=dict(snap.manifest or {}),
        sources=dict(snap.sources), inputs=inputs, rejected=rejected, parameters=public,
        timings=dict(a.timings), groups=groups, glance=glance, redacted=redactor is not None)
