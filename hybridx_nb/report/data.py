"""What the report renders: the assessment's frames and facts, pseudonymised when ``redact`` is on."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from hybridx_nb.engine.match import Prediction
from hybridx_nb.engine.takeover import Takeover
from hybridx_nb.readiness.exchange import ExchangeReadiness
from hybridx_nb.remediation.model import Plan, RunbookStep
from hybridx_nb.report.errors import clean_errors
from hybridx_nb.report.redact import Redactor, directory_literals
from hybridx_nb.snapshot.store import Snapshot, TenantFacts

#: Parameters that name input files or folders: the report shows their names only, never where they were.
PATH_PARAMETERS = ("snapshot", "ad", "entra", "okta", "okta_app_users", "tenant", "entra_groups", "entra_contacts",
                   "exo", "previous", "out")


def _file_name(value: object) -> object:
    """``exports/contoso/ad.csv`` (or with backslashes) → ``ad.csv``."""
    return str(value).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] if value else value


def _with_file_hashes(manifest: dict[str, Any], sources: dict[str, str], files: dict[str, str]) -> dict[str, Any]:
    """The manifest with a SHA-256 for every table: the snapshot's own (Parquet file), else that of the export file
    the table was read from (a source text starts with the file's name; the hash is of the bytes the reader read),
    so the appendix proves what was read."""
    tables = {k: dict(v) for k, v in manifest.get("tables", {}).items()}
    for table, source in sources.items():
        digest = files.get(str(source).split(" (", 1)[0])
        if digest and not tables.get(table, {}).get("sha256"):
            tables.setdefault(table, {})["sha256"] = digest
    return {**manifest, "tables": tables}


class Assessed(Protocol):
    """What ``prepare`` reads of an assessment (``app/assess.py``'s ``Assessment``, which the report cannot import:
    the app layer sits above it)."""

    params: Any  # app/assess.py Params: client, redact, redact_key, the input file parameters, public()
    snapshot: Snapshot
    prediction: Prediction
    readiness: pd.DataFrame
    plan: Plan
    counts: dict[str, int]
    timings: dict[str, float]
    groups: pd.DataFrame | None
    impact: Any  # app/impact.py Impact (takeover, exchange), when computed


@dataclass
class ReportData:
    """The frames and facts the report renders, already pseudonymised when ``redact`` is on."""

    client: str
    counts: dict[str, int]
    findings: pd.DataFrame
    actions: pd.DataFrame
    readiness: pd.DataFrame
    domains: pd.DataFrame
    tenant: TenantFacts
    anchor_setting: str
    anchor_reason: str
    assumptions: list[str]
    plan: Plan
    runbook: list[RunbookStep]
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
    takeover: Takeover | None = None            # its changes pseudonymised when redacted
    exchange: ExchangeReadiness | None = None  # likewise
    generated: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def prepare(a: Assessed, redactor: Redactor | None = None) -> ReportData:
    """Collect what the report needs from an ``assess.Assessment``; pseudonymise it when ``a.params.redact``."""
    params = a.params
    if redactor is None and params.redact:
        with clean_errors():
            redactor = Redactor.from_reference(params.redact_key)
    snap, plan = a.snapshot, a.plan
    findings = a.prediction.findings
    actions = plan.actions
    readiness = a.readiness
    domains = snap["entra_domains"]
    runbook = list(plan.runbook)
    notes = list(plan.notes)
    anchor_reason, assumptions = a.prediction.anchor_reason, list(a.prediction.assumptions)
    rejected = snap.rejected
    groups = a.groups
    glance = list(plan.glance)
    tenant, sources = snap.tenant, dict(snap.sources)
    manifest = _with_file_hashes(dict(snap.manifest or {}), sources, snap.files)
    if redactor is not None:
        from hybridx_nb.engine.scope import system_object_mask

        ad = snap.tables.get("ad_users")
        system = pd.Series(system_object_mask(ad)) if ad is not None and len(ad) else None
        redactor.learn(directory_literals(snap, system))
        tenant = dataclasses.replace(tenant, display_name=redactor.org(tenant.display_name)
                                     if tenant.display_name else tenant.display_name)
        if groups is not None:
            groups = redactor.frame(groups, {"ad_dn": "dn", "ad_name": "name", "entra_name": "name",
                                             "matched_on": "text"})
        findings = redactor.findings(findings)
        actions = redactor.actions(actions)
        readiness = redactor.readiness(readiness)
        domains = domains.assign(name=redactor.series(domains["name"], "domain"))
        rejected = redactor.frame(rejected, {"key": "opaque", "reason": "text"})
        fields = ("title", "who", "where", "do", "verify", "rollback")
        tables = manifest.get("tables", {})
        done = _texts_at_once(redactor, {
            "glance": [str(text) for _, text in glance],
            "runbook": [str(getattr(step, f) or "") for step in runbook for f in fields],
            "notes": list(notes), "sources": list(sources.values()),
            "tables": [str(m.get("source", "")) for m in tables.values()],
            "plan": [anchor_reason, plan.strategy_reason or "", *assumptions]})
        glance = list(zip([label for label, _ in glance], done["glance"]))
        flat = iter(done["runbook"])
        runbook = [dataclasses.replace(step, **{f: next(flat) for f in fields}) for step in runbook]
        notes, sources = done["notes"], dict(zip(sources, done["sources"]))
        manifest["tables"] = {k: {**m, "source": said} for (k, m), said in zip(tables.items(), done["tables"])}
        anchor_reason, reason, *assumptions = done["plan"]
        plan = dataclasses.replace(plan, strategy_reason=reason)
    impact = a.impact
    takeover = impact.takeover if impact is not None else None
    exchange = impact.exchange if impact is not None else None
    if redactor is not None and impact is not None:
        takeover = dataclasses.replace(takeover, changes=redact_changes(redactor, takeover.changes))
        exchange = dataclasses.replace(exchange, findings=redactor.frame(exchange.findings, {
            "entra_upn": "email", "ad_dn": "dn", "ad_sam": "name", "routing_address": "email"}))
    public = params.public()
    public = {k: _file_name(v) if k in PATH_PARAMETERS else v for k, v in public.items()}
    inputs = {name: len(frame) for name, frame in sorted(snap.tables.items()) if name != "rejected"}
    return ReportData(
        client=str(params.client), counts=dict(a.counts), findings=findings, actions=actions, readiness=readiness,
        domains=domains, tenant=tenant, anchor_setting=a.prediction.anchor_setting, anchor_reason=anchor_reason,
        assumptions=assumptions, plan=plan, runbook=runbook, plan_notes=notes, manifest=manifest,
        sources=sources, inputs=inputs, rejected=rejected, parameters=public,
        timings=dict(a.timings), groups=groups, glance=glance, redacted=redactor is not None,
        takeover=takeover, exchange=exchange)


#: Entra properties whose values are people's names (aliased as names when redacted; other values as text).
NAME_PROPERTIES = ("displayName", "givenName", "surname")


def _texts_at_once(redactor: Redactor, groups: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Every group of sentences pseudonymised in one pass (each RE2 pattern compiles once), split back by group."""
    flat = redactor.texts([text for texts in groups.values() for text in texts])
    out, at = {}, 0
    for name, texts in groups.items():
        out[name], at = flat[at:at + len(texts)], at + len(texts)
    return out


def redact_changes(redactor: Redactor, changes: pd.DataFrame) -> pd.DataFrame:
    """takeover changes with UPNs, DNs and the values pseudonymised (names as names, the rest as text)."""
    out = redactor.frame(changes, {"entra_upn": "email", "ad_dn": "dn", "cloud_value": "text", "ad_value": "text"})
    names = changes["attribute"].isin(NAME_PROPERTIES).to_numpy()
    if names.any():
        for col in ("cloud_value", "ad_value"):
            out.loc[names, col] = redactor.series(changes.loc[names, col], "name")
    return out
