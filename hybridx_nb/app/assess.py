"""One client's assessment, end to end: inputs → snapshot → engine → readiness → plan → output files.

The notebook calls ``validate_params``, ``run`` and ``write_outputs``; ``hybridx assess`` runs that notebook
through papermill. Nothing here renders HTML: that is the report's job.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from hybridx_nb import __version__
from hybridx_nb.app import outputs
from hybridx_nb.app.impact import Impact, write_impact
from hybridx_nb.app.outputs import write_workbook
from hybridx_nb.core.errors import HybridxError
from hybridx_nb.core.folders import check_replaceable, marker_kind, write_marker
from hybridx_nb.core.memory import use_jemalloc
from hybridx_nb.core.secrets import resolve_secret
from hybridx_nb.core.vocabulary import ANCHOR_SETTINGS, CATEGORIES, STRATEGY_CHOICES, TARGETS, XLSX_FULL
from hybridx_nb.engine.carried import as_dicts
from hybridx_nb.engine.groups import group_counts, predict_groups
from hybridx_nb.engine.match import EngineSettings, Prediction, predict
from hybridx_nb.engine.takeover import Takeover, takeover_impact
from hybridx_nb.readiness.exchange import exchange_readiness
from hybridx_nb.readiness.rules import run_rules, to_idfix_csv
from hybridx_nb.remediation.backfill import chosen as chosen_backfill
from hybridx_nb.remediation.cloud_sync import engine_anchor, target_limits
from hybridx_nb.remediation.model import Plan
from hybridx_nb.remediation.plan import PlanDraft, draft_plan, finish_plan
from hybridx_nb.remediation.resolved import fix_pairs, mark_resolved_by_fix, open_problems
from hybridx_nb.remediation.scripts import write_scripts
from hybridx_nb.snapshot.store import Snapshot, load_snapshot
from hybridx_nb.sources.text import not_a_file

use_jemalloc()  # before the first large allocation (docs in core/memory.py)

EXPORT_INPUTS = ("ad", "entra", "okta", "okta_app_users", "tenant", "entra_groups", "entra_contacts", "exo")
#: Paper sizes the printed report is laid out for (``paper``; empty: from the locale).
PAPER_SIZES = ("A4", "Letter")

#: Columns of findings.csv, contract columns first (docs/architecture.md, outputs).
FINDINGS_COLUMNS = (
    "category", "ad_dn", "ad_upn", "entra_id", "entra_upn", "immutable_id", "expected_immutable_id",
    "anchor_kind", "match_via", "action", "reason", "anchor_detail", "anchor_source", "block_reason",
    "candidates", "duplicate_upn", "ad_object_guid", "ad_sam", "ad_mail", "ad_display_name", "entra_mail",
    "entra_display_name", "on_prem_sync_enabled", "account_enabled", "federated", "entra_roles",
    "assigned_licenses", "okta_user_id", "okta_login", "okta_app_immutable_id", "okta_agrees",
)


@dataclass
class Params:
    """The notebook's parameters, validated. Secrets appear only as references such as ``env:NAME``."""

    client: str = "Client"
    snapshot: str | None = None
    ad: str | None = None
    entra: str | None = None
    okta: str | None = None
    okta_app_users: str | None = None
    okta_app_id: str | None = None
    tenant: str | None = None
    entra_groups: str | None = None  # Graph /groups export (optional; docs/domain.md §11)
    entra_contacts: str | None = None  # Graph /contacts export (optional)
    target: str = "connect"  # connect (Entra Connect) | cloud-sync (Entra Cloud Sync), docs/domain.md §10
    allow_partial: bool = False
    exo: str | None = None
    anchor: str = "auto"
    soft_match_upn: bool | None = None
    strategy: str = "auto"
    bulk_threshold: int = 50
    redact: bool = False
    redact_key: str | None = None
    previous: str | None = None  # an earlier assessment folder: adds "since the last assessment"
    paper: str | None = None
    backfill: str = "proxyAddresses,mail"
    xlsx: str = "action"  # findings.xlsx: "action" (categories that need action in full, a count for the rest) | "all"
    out: str = "reports/client"

    def public(self) -> dict[str, Any]:
        """The parameters as recorded in summary.json and the report (references, never secret values)."""
        return dataclasses.asdict(self)


def validate_params(raw: dict[str, Any]) -> Params:
    """Check a parameter dict (from papermill or the CLI) and return ``Params``; a clear error otherwise."""
    names = {f.name for f in dataclasses.fields(Params)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise HybridxError(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    params = Params(**raw)
    if params.anchor not in ANCHOR_SETTINGS:
        raise HybridxError(f"anchor must be one of {', '.join(ANCHOR_SETTINGS)}, not {params.anchor!r}")
    if params.target not in TARGETS:
        raise HybridxError(f"target must be one of {', '.join(TARGETS)}, not {params.target!r}")
    engine_anchor(params.target, params.anchor)  # refuses an anchor the target cannot use
    if params.strategy not in STRATEGY_CHOICES:
        raise HybridxError(f"strategy must be one of {', '.join(STRATEGY_CHOICES)}, not {params.strategy!r}")
    if params.allow_partial not in (True, False):
        raise HybridxError(f"allow_partial must be true or false, not {params.allow_partial!r}")
    if params.xlsx not in XLSX_FULL:
        raise HybridxError(f"xlsx must be one of {', '.join(XLSX_FULL)}, not {params.xlsx!r}")
    if params.soft_match_upn not in (None, True, False):
        raise HybridxError(f"soft_match_upn must be true, false or empty, not {params.soft_match_upn!r}")
    if not isinstance(params.bulk_threshold, int) or params.bulk_threshold < 1:
        raise HybridxError(f"bulk_threshold must be a positive whole number, not {params.bulk_threshold!r}")
    try:
        chosen_backfill(params.backfill)
    except ValueError as exc:
        raise HybridxError(str(exc)) from None
    if params.redact_key is not None:  # resolved now (and discarded), not after the whole assessment ran
        resolve_secret(params.redact_key, "redact_key")
    if params.previous is not None and not (Path(params.previous) / "findings.csv").is_file():
        raise HybridxError(f"previous must be an earlier assessment folder (with findings.csv): {params.previous}")
    if params.paper is not None and params.paper not in PAPER_SIZES:
        raise HybridxError(f"paper must be one of {', '.join(PAPER_SIZES)} (or empty for the locale's), "
                           f"not {params.paper!r}")
    if params.snapshot:
        given = [n for n in EXPORT_INPUTS if getattr(params, n)]
        if given:
            raise HybridxError(f"give either snapshot or export files, not both (also given: {', '.join(given)})")
        if not Path(params.snapshot).is_dir():
            raise HybridxError(f"snapshot folder not found: {params.snapshot}")
    else:
        missing = [n for n in ("ad", "entra") if not getattr(params, n)]
        if missing:
            raise HybridxError(f"missing input: {' and '.join(missing)} (or give a snapshot folder)")
        for name in EXPORT_INPUTS:
            path = getattr(params, name)
            problem = not_a_file(path) if path else None
            if problem:
                raise HybridxError(f"{name} file not found: {path}" if problem == "file not found"
                                   else f"{name} file {path} {problem}")
    return params


@dataclass
class Assessment:
    """Everything the report shows for one client."""

    params: Params
    snapshot: Snapshot
    prediction: Prediction
    readiness: pd.DataFrame
    plan: Plan
    counts: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    since: Any = None  # verify.diff.Diff against ``params.previous``, when given
    groups: pd.DataFrame | None = None  # groups and contacts: what the first sync does to each (§11)
    impact: Any = None  # app/impact.py: the takeover's changes and the Hybrid Exchange findings
    #: findings.csv and findings.parquet, being written into ``params.out`` since the findings were made
    early_files: dict[str, Future[Path]] = field(default_factory=dict)

    @property
    def findings(self) -> pd.DataFrame:
        return self.prediction.findings


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - start, 3)


def load_inputs(params: Params) -> Snapshot:
    """The snapshot named by the parameters, or one read from the export files."""
    if params.snapshot:
        return load_snapshot(params.snapshot)
    from hybridx_nb.sources.files.exports import read_exports  # the readers are only needed for export files

    files = {n: Path(getattr(params, n)) if getattr(params, n) else None for n in EXPORT_INPUTS}
    return read_exports(**files, okta_app_id=params.okta_app_id, allow_partial=params.allow_partial)


def matched_pairs(findings: pd.DataFrame) -> pd.DataFrame:
    """(ad_dn, entra_id) of the pairs the first sync will join, for the cross-cloud uniqueness rules.

    Only hard and soft matches join: a duplicated (anchor_mismatch) user becomes a new object, so the cloud user
    holding its addresses is a genuine AttributeValueMustBeUnique conflict.
    """
    joined = findings["category"].isin(["hard_match", "soft_match"]).to_numpy()
    return findings.loc[joined, ["ad_dn", "entra_id"]].reset_index(drop=True)


def run(params: Params, snap: Snapshot | None = None) -> Assessment:
    """The whole assessment of one client, each stage timed."""
    timings: dict[str, float] = {}
    if snap is None:
        with _timed(timings, "load"):
            snap = load_inputs(params)
    early: dict[str, Future[Path]] = {}
    try:
        prediction, readiness, draft, groups, impact = _core(params, snap, timings, early=early)
        with _timed(timings, "runbook"):
            plan = finish_plan(draft, impact.runbook_steps() if impact else ())  # the runbook, its steps, the glance
        counts = category_counts(prediction.findings)
        since = None
        if params.previous:
            with _timed(timings, "since_previous"):
                since = since_previous(params.previous, prediction.findings, readiness)
    except BaseException:
        wait(early.values())  # nothing is left writing into the folder the caller is about to clear
        raise
    return Assessment(params, snap, prediction, readiness, plan, counts, timings, since, groups, impact, early)


def _write_early(params: Params, findings: pd.DataFrame, timings: dict[str, float]) -> dict[str, Future[Path]]:
    """findings.csv and findings.parquet, started once the findings are made (nothing changes them after the
    engine) when ``params.out`` is the runner's temporary folder: they use the share of the two cores the takeover,
    the plan and the Exchange checks leave idle. Anywhere else ``write_outputs`` writes them: a finished report
    folder (the explore notebook runs an assessment again with its ``out``) is never written by ``run``."""
    out = Path(params.out) if params.out else None
    if out is None or marker_kind(out) != "temporary":
        return {}

    def timed(name: str, write: Callable[[], Path]) -> Path:
        with _timed(timings, name.replace(".", "_")):  # findings_csv, findings_parquet
            return write()

    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hybridx-findings")
    files = {name: writer.submit(timed, name, write)
             for name, write in outputs.findings_writers(findings, out, FINDINGS_COLUMNS).items()}
    writer.shutdown(wait=False)
    return files


def _core(params: Params, snap: Snapshot, timings: dict[str, float], *, impact: bool = True,
          early: dict[str, Future[Path]] | None = None) -> tuple[Prediction, pd.DataFrame, PlanDraft, Any,
                                                                   Impact | None]:
    """Engine, readiness, plan (decided, its runbook not yet built: ``finish_plan`` does that once the takeover's
    steps are known) and, with ``impact``, the takeover and Hybrid Exchange checks, in three threads.

    The readiness rules need only the joined pairs from the engine, which ``predict`` hands out once matching is
    done; until then the rules that do not read them run. The takeover, the longest stage after the engine, starts
    as soon as the prediction is made, beside the rules' last part; this thread then drafts the plan and runs the
    Exchange checks. Arrow and NumPy release the GIL in their kernels, so on two cores the stages overlap. Each
    stage's own seconds are recorded, and ``core`` is the wall time of them all. ``early``, when given, receives
    the findings files started once the findings are made (``_write_early``)."""
    pairs: Future[pd.DataFrame] = Future()
    start = time.perf_counter()

    def readiness_stage() -> pd.DataFrame:
        with _timed(timings, "readiness"):
            return run_rules(snap, pairs=pairs.result)

    def takeover_stage(prediction: Prediction) -> Takeover:
        with _timed(timings, "takeover"):
            return takeover_impact(snap, prediction.findings, prediction.rows)

    anchor, anchor_reason = engine_anchor(params.target, params.anchor)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hybridx-core") as pool:
        rules = pool.submit(readiness_stage)
        try:
            with _timed(timings, "engine"):
                prediction = predict(snap, EngineSettings(anchor=anchor, soft_match_upn=params.soft_match_upn),
                                     on_pairs=pairs.set_result)
                if anchor_reason:
                    prediction = dataclasses.replace(prediction, anchor_reason=anchor_reason)
                groups = predict_groups(snap)
        except BaseException as exc:
            if not pairs.done():
                pairs.set_exception(exc)  # the rules waiting for the pairs stop too
            raise
        takeover = pool.submit(takeover_stage, prediction) if impact else None
        if early is not None:
            early.update(_write_early(params, prediction.findings, timings))
        with _timed(timings, "plan"):
            exceeded, unchecked = target_limits(snap, params.target)
            fixes = fix_pairs(prediction.findings)
            readiness = mark_resolved_by_fix(rules.result(), fixes)
            draft = draft_plan(prediction, snap, strategy=params.strategy, bulk_threshold=params.bulk_threshold,
                               target=params.target, groups=group_counts(groups), limits=exceeded,
                               readiness_open=len(open_problems(readiness)))
            if unchecked:
                draft.notes.append("Cloud Sync limits hybridx cannot check from this data: "
                                   + "; ".join(unchecked) + ".")
        found = None
        if takeover is not None:
            with _timed(timings, "exchange"):
                exchange = exchange_readiness(snap, prediction.findings, prediction.rows)
            found = Impact(takeover.result(), exchange, chosen_backfill(params.backfill))
    timings["core"] = round(time.perf_counter() - start, 3)
    return prediction, readiness, draft, groups, found


def since_previous(previous: str | Path, findings: pd.DataFrame, readiness: pd.DataFrame) -> Any:
    """What changed since the assessment in ``previous`` (``hybridx assess --previous``)."""
    from hybridx_nb.verify.diff import diff_assessments
    from hybridx_nb.verify.inputs import load_assessment

    old = load_assessment(previous)
    return diff_assessments(old.findings, findings.astype({c: "str" for c in findings.columns}), old.readiness,
                            readiness)


def category_counts(findings: pd.DataFrame) -> dict[str, int]:
    """Findings per category, every category present (zeros included), in contract order."""
    counts = findings["category"].value_counts()
    return {c: int(counts.get(c, 0)) for c in CATEGORIES}


def input_counts(snap: Snapshot) -> dict[str, int]:
    """Rows per table that reached the snapshot (rejected rows are counted apart)."""
    return {name: len(frame) for name, frame in sorted(snap.tables.items()) if name != "rejected"}


def write_findings_csv(findings: pd.DataFrame, path: Path) -> Path:
    """findings.csv, contract columns first (``app.outputs.write_findings_csv`` builds the bytes)."""
    return outputs.write_findings_csv(findings, path, FINDINGS_COLUMNS)


def summary(a: Assessment) -> dict[str, Any]:
    """The summary.json contract: counts, inputs, rejected, parameters, timings (plus context)."""
    rejected = a.snapshot.rejected
    return {
        "client": a.params.client,
        "hybridx_version": __version__,
        "counts": a.counts,
        "inputs": input_counts(a.snapshot),
        "rejected": {
            "total": int(len(rejected)),
            "by_table": {str(k): int(v) for k, v in rejected["table"].value_counts().sort_index().items()},
        },
        "anchor_setting": a.prediction.anchor_setting,
        "anchor_reason": a.prediction.anchor_reason,
        "assumptions": as_dicts(a.prediction.assumptions),
        "strategy": a.plan.strategy,
        "strategy_reason": a.plan.strategy_reason,
        "expected_staging": dict(a.plan.expected),
        "readiness": {str(k): int(v) for k, v in
                      open_problems(a.readiness)["ERROR"].value_counts().sort_index().items()},
        "readiness_resolved_by_anchor_fix": int(len(a.readiness) - len(open_problems(a.readiness))),
        "target": a.plan.target,
        "groups": group_counts(a.groups),
        "okta_side": {"writes": int(a.plan.expected.get("okta_writes", 0)),
                      "manual": int(a.plan.expected.get("okta_manual", 0))},
        **({"since_previous": a.since.counts} if a.since is not None else {}),
        "parameters": a.params.public(),
        "timings": a.timings,
        **(a.impact.summary() if a.impact is not None else {}),
    }


def write_outputs(a: Assessment, out: str | Path, view: Any = None) -> dict[str, Path]:
    """Write the output files: findings (CSV, Parquet, and the workbook from ``view``, the report's possibly
    pseudonymised ``ReportData``, when given), readiness, rejected rows, summary, scripts.

    findings.parquet, findings.xlsx and the takeover and Exchange files are written in worker threads while
    findings.csv is written; both findings files ``run`` already started in ``out`` (``_write_early``) are
    awaited instead. ``out`` is the runner's temporary folder, or (a hand run of the notebook) a folder
    that is new, empty or a report folder hybridx wrote: files are never written into a folder of someone else's."""
    out = Path(out)
    if marker_kind(out) not in ("temporary", "report"):
        check_replaceable(out, "report", option="out")
        out.mkdir(parents=True, exist_ok=True)
        write_marker(out, "report")
    start = time.perf_counter()
    early = a.early_files if a.params.out and Path(a.params.out).resolve() == out.resolve() else {}
    writers = outputs.findings_writers(a.findings, out, FINDINGS_COLUMNS)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hybridx-outputs") as pool:
        jobs = {"findings.parquet": early.get("findings.parquet") or pool.submit(writers["findings.parquet"])}
        if view is not None:
            jobs["findings.xlsx"] = pool.submit(write_workbook, view, a.params.xlsx, out / "findings.xlsx")
        impact = pool.submit(write_impact, a.impact, out, write_findings_csv) if a.impact is not None else None
        paths = {"findings.csv": early["findings.csv"].result() if "findings.csv" in early
                 else writers["findings.csv"]()}
        paths.update({name: job.result() for name, job in jobs.items()})
        paths.update(impact.result() if impact is not None else {})
    to_idfix_csv(a.readiness, out / "readiness.csv")
    paths["readiness.csv"] = out / "readiness.csv"
    if len(a.snapshot.rejected):
        a.snapshot.rejected.to_csv(out / "rejected.csv", index=False, encoding="utf-8-sig")
        paths["rejected.csv"] = out / "rejected.csv"
    paths.update({name: Path(p) for name, p in write_scripts(a.plan, out).items()})
    if a.since is not None:
        a.since.changed().to_csv(out / "since-last.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n")
        paths["since-last.csv"] = out / "since-last.csv"
    if a.groups is not None:
        a.groups.to_csv(out / "groups-contacts.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n")
        paths["groups-contacts.csv"] = out / "groups-contacts.csv"
    a.timings["write_outputs"] = round(time.perf_counter() - start, 3)
    summary_path = out / "summary.json"
    summary_path.write_text(json.dumps(summary(a), indent=2, default=str) + "\n", encoding="utf-8")
    paths["summary.json"] = summary_path
    return paths
