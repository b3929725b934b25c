"""The three verify commands end to end: read the inputs, compare, write the CSV (and page), print the verdict.

``hybridx verify-staging``, ``hybridx diff`` and ``hybridx verify-sync``; each returns its exit code (0: as
predicted / safe, 1: something unexpected). Bad input raises ``HybridxError`` (exit 2 in the CLI).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hybridx_nb.core.errors import InputError
from hybridx_nb.report.checks import staging_page, write_page
from hybridx_nb.verify.inputs import load_assessment


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """UTF-8 with BOM and CRLF, like findings.csv (opens cleanly in Excel); written atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    tmp.replace(path)
    return path


def _out(out: str | Path) -> Path:
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise InputError(path, "is a file, not a folder", fix="give --out a folder (it is created when missing)")
    path.mkdir(parents=True, exist_ok=True)
    return path


def verify_staging(export: str | Path, assessment: str | Path, out: str | Path, *, anchor: str = "auto") -> int:
    """staging-check.csv and staging-check.html for a pending export against an assessment; 1 unless safe."""
    from hybridx_nb.sources.files.csexport import read_pending_export
    from hybridx_nb.verify.staging import check_staging

    view = load_assessment(assessment, anchor=anchor)
    pending = read_pending_export(export)
    check = check_staging(pending.objects, view.findings)
    folder = _out(out)
    write_csv(check.rows, folder / "staging-check.csv")
    if len(pending.rejected):
        write_csv(pending.rejected, folder / "staging-check-rejected.csv")
    client = str(view.summary.get("client") or Path(assessment).resolve().name)
    sources = {"pending export": pending.source, "prediction": str(view.folder),
               "objects set aside": f"{len(pending.rejected):,} (staging-check-rejected.csv)" if len(pending.rejected)
               else "none", "other objects (groups, contacts, devices)": f"{check.other_objects:,} not checked"}
    write_page(staging_page(check, client, sources), folder / "staging-check.html")
    print(check.verdict)
    for status in ("duplicate", "delete", "unexpected_add", "unexpected_update", "missing"):
        for r in check.rows[check.rows["status"].eq(status)].head(20).itertuples():
            print(f"  {status}: {r.upn if isinstance(r.upn, str) else r.cs_dn} ({r.reason})")
    print(f"check:    {folder / 'staging-check.html'}")
    print(f"rows:     {folder / 'staging-check.csv'}")
    return 0 if check.safe else 1


def diff(old: str | Path, new: str | Path, out: str | Path, *, anchor: str = "auto") -> int:
    """diff.csv and diff-readiness.csv; prints the summary. 1 when anything regressed."""
    from hybridx_nb.verify.diff import diff_assessments

    a, b = load_assessment(old, anchor=anchor), load_assessment(new, anchor=anchor)
    d = diff_assessments(a.findings, b.findings, a.readiness, b.readiness)
    folder = _out(out)
    write_csv(d.changed(), folder / "diff.csv")
    write_csv(d.readiness, folder / "diff-readiness.csv")
    print(f"since {a.folder}:")
    for line in d.summary_lines():
        print(line)
    for status in ("fixed", "regressed"):
        for r in d.identities[d.identities["status"].eq(status)].head(50).itertuples():
            who = r.ad_upn if isinstance(r.ad_upn, str) else r.entra_upn
            print(f"  {status}: {who} ({r.before} -> {r.after})")
    print(f"rows:     {folder / 'diff.csv'}")
    return 1 if d.counts["regressed"] else 0


def verify_sync(before: str | Path, after: str | Path, out: str | Path, *, anchor: str = "auto") -> int:
    """verify-sync.csv; prints the prediction accuracy and each disagreement with both sides. 1 on any."""
    from hybridx_nb.engine.detail import initial_domain
    from hybridx_nb.snapshot.store import load_snapshot
    from hybridx_nb.verify.after_sync import check_sync

    view = load_assessment(before, anchor=anchor)
    snap = load_snapshot(after)
    users = snap["entra_users"]
    if users["on_prem_provisioning_errors"].isna().all():
        print("note: the after snapshot has no provisioning errors (collected with sync_state = false?): "
              "blocks and duplicates are judged from ImmutableIDs and UPNs only")
    domain = initial_domain(snap["entra_domains"]) if snap.has("entra_domains") else None
    check = check_sync(view.findings, users, domain)
    folder = _out(out)
    write_csv(check.rows, folder / "verify-sync.csv")
    write_csv(check.duplicates, folder / "verify-sync-duplicates.csv")
    print(check.summary())
    for r in check.disagreements().itertuples():
        print(f"  {r.ad_upn}: predicted {r.predicted} (expected {r.expected}), observed {r.observed}"
              + (f" by {r.cloud_upn}" if isinstance(r.cloud_upn, str) else "")
              + (f"; errors: {r.errors}" if isinstance(r.errors, str) else ""))
    print(f"duplicates found in Graph: {len(check.duplicates):,}")
    print(f"rows:     {folder / 'verify-sync.csv'}")
    return 0 if check.agreed == check.scored else 1
