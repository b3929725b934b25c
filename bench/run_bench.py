"""Benchmark hybridx at 10k / 100k / 1M users per side, stage by stage, against a hand-written reference.

    python bench/run_bench.py                      # 10k, 100k, 1M; prints a table, writes bench/results.json
    python bench/run_bench.py --sizes 10000 --no-notebook

Each size runs in three child processes (export files and snapshot; the assessment's core stages; the whole
``hybridx assess`` notebook job), so each peak resident memory reported is that part's own. The
reference engine is what a consultant writes by hand in a notebook (``apply`` with ``uuid``/``base64`` per row,
then merges); its findings must agree with hybridx's on the categories both compute, and the speed-up is printed.
"""

from __future__ import annotations

import argparse
import base64
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd

# Targets on the 2-core reference machine (issue 6), printed next to the measured values.
TARGETS = {
    "assess_core_s": 20.0,     # load snapshot + engine + readiness + plan, 1M per side
    "peak_rss_gb": 6.0,
    "read_exports_s": 60.0,    # reading 1M-row CSV + JSON (+ LDIF) into a snapshot
    "notebook_html_s": 90.0,
    "html_mb": 25.0,
    "speedup_vs_reference": 20.0,
    "redact_extra_s": 30.0,    # what --redact adds to the report's preparation, 1M per side (issue 14)
}


@contextmanager
def timed(results: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    results[stage] = round(time.perf_counter() - start, 3)


def reference_engine(ad: pd.DataFrame, entra: pd.DataFrame) -> pd.DataFrame:
    """The straightforward notebook approach: per-row uuid/base64, then merges on anchor, primary SMTP, UPN."""
    ad = ad.copy()
    ad["anchor"] = ad["object_guid"].apply(lambda g: base64.b64encode(uuid.UUID(g).bytes_le).decode())
    ad["smtp"] = ad["proxy_addresses"].apply(
        lambda addrs: next((a[5:].lower() for a in addrs if a.startswith("SMTP:")), None))
    cloud = entra.copy()
    cloud["smtp"] = cloud["proxy_addresses"].apply(
        lambda addrs: next((a[5:].lower() for a in addrs if a.startswith("SMTP:")), None))
    hard = ad.merge(cloud, left_on="anchor", right_on="immutable_id", suffixes=("", "_cloud"))
    rest = ad[~ad["dn"].isin(hard["dn"])]
    free = cloud[~cloud["id"].isin(hard["id"])]
    soft = rest.dropna(subset=["smtp"]).merge(free.dropna(subset=["smtp"]), on="smtp", suffixes=("", "_cloud"))
    rest = rest[~rest["dn"].isin(soft["dn"])]
    free = free[~free["id"].isin(soft["id"])]
    by_upn = rest.assign(key=rest["upn"].str.lower()).dropna(subset=["key"]).merge(
        free.assign(key=free["upn"].str.lower()), on="key", suffixes=("", "_cloud"))
    soft = pd.concat([soft, by_upn])
    soft["category"] = soft["immutable_id"].apply(lambda v: "soft_match" if pd.isna(v) else "anchor_mismatch")
    hard["category"] = "hard_match"
    new = rest[~rest["dn"].isin(soft["dn"])].assign(category="new_user")
    return pd.concat([hard[["dn", "category"]], soft[["dn", "category"]], new[["dn", "category"]]])


def agreement(reference: pd.DataFrame, findings: pd.DataFrame) -> dict[str, object]:
    """Compare categories per AD user where both engines have an opinion (hybridx's other categories aside)."""
    ours = findings.dropna(subset=["ad_dn"]).set_index("ad_dn")["category"]
    ref = reference.drop_duplicates("dn", keep=False).set_index("dn")["category"]
    common = ref.index.intersection(ours[ours.isin(["hard_match", "soft_match", "anchor_mismatch",
                                                     "new_user"])].index)
    differ = (ours.loc[common] != ref.loc[common])
    return {"compared": int(len(common)), "disagree": int(differ.sum()),
            "examples": [f"{dn}: hybridx={ours[dn]} reference={ref[dn]}" for dn in common[differ.to_numpy()][:5]]}


def _peak_rss_gb() -> float:
    """Peak resident memory of this process and of its finished children (the notebook's kernel)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1e6, 2)


def run_part(part: str, users: int, work: Path, reference: bool, redact: bool = True) -> dict[str, object]:
    """One part of one size, in this process: ``prep`` (exports and snapshot), ``core`` (the assessment's
    stages, as ``hybridx assess`` runs them) or ``notebook`` (the whole ``hybridx assess`` job)."""
    from hybridx_nb.app.assess import Params, matched_pairs
    from hybridx_nb.core import anchors, columns
    from hybridx_nb.snapshot.store import load_snapshot, write_snapshot

    t: dict[str, float] = {}
    result: dict[str, object] = {"timings": t}
    if part == "prep":
        from hybridx_nb.demo.tenant import generate, write_exports
        from hybridx_nb.sources.files.exports import read_exports

        with timed(t, "generate"):
            tenant = generate(users=users, seed=11)
        with timed(t, "write_exports"):
            files = write_exports(tenant, work / "exports")
            ldif = write_exports(tenant, work / "exports-ldif", ad_format="ldif")["ad"]
        del tenant
        with timed(t, "read_exports_csv_json"):
            snap = read_exports(**files)
        with timed(t, "snapshot_write"):
            write_snapshot(snap, work / "snapshot")
        del snap
        with timed(t, "read_ldif"):
            read_exports(ad=ldif, entra=files["entra"])
    elif part == "core":
        from hybridx_nb.engine.match import EngineSettings, predict
        from hybridx_nb.readiness.rules import run_rules
        from hybridx_nb.remediation.plan import build_plan

        with timed(t, "snapshot_load"):
            snap = load_snapshot(work / "snapshot")
        with timed(t, "anchors"):
            anchors.guid_to_immutable_id_series(snap["ad_users"]["object_guid"])
        with timed(t, "engine"):
            prediction = predict(snap, EngineSettings())
        with timed(t, "readiness"):
            readiness = run_rules(snap, pairs=matched_pairs(prediction.findings))
        with timed(t, "plan"):
            build_plan(prediction, snap)
        t["assess_core"] = round(t["snapshot_load"] + t["engine"] + t["readiness"] + t["plan"], 3)
        # issue 13: what the takeover changes, and Hybrid Exchange readiness (target: the diff adds ≤ 10 s at 1M)
        from hybridx_nb.app.assess import write_findings_csv
        from hybridx_nb.engine.takeover import takeover_impact
        from hybridx_nb.readiness.exchange import exchange_readiness

        with timed(t, "takeover"):
            takeover = takeover_impact(snap, prediction.findings)
        with timed(t, "takeover_csv"):
            write_findings_csv(takeover.changes, work / "takeover.csv")
        with timed(t, "exchange"):
            exchange_readiness(snap, prediction.findings)
        if redact:  # what --redact adds: the report's frames pseudonymised, against the same without
            from hybridx_nb import report
            from hybridx_nb.app.assess import Assessment, category_counts

            a = Assessment(Params(client="bench"), snap, prediction, readiness, build_plan(prediction, snap),
                           category_counts(prediction.findings))
            with timed(t, "report_prepare"):
                report.prepare(a)
            a.params.redact = True
            cpu = time.process_time()
            with timed(t, "report_prepare_redacted"):
                report.prepare(a)
            t["redact_extra"] = round(t["report_prepare_redacted"] - t["report_prepare"], 3)
            t["redact_cpu"] = round(time.process_time() - cpu, 3)  # CPU seconds: steadier on a shared machine
        result.update(findings=len(prediction.findings), readiness_rows=len(readiness), core_rss_gb=_peak_rss_gb(),
                      takeover_pairs=takeover.pairs, takeover_changes=len(takeover.changes))
        if reference:
            # The reference gets the in-scope users only: it knows nothing of system accounts or conflict objects.
            excluded = prediction.findings.loc[prediction.findings["category"] == "excluded", "ad_dn"].dropna()
            ad_in_scope = snap["ad_users"][~columns.isin(snap["ad_users"]["dn"], excluded)]
            with timed(t, "reference_engine"):
                ref = reference_engine(ad_in_scope, snap["entra_users"])
            result["agreement"] = agreement(ref, prediction.findings)
            result["speedup"] = round(t["reference_engine"] / max(t["engine"], 1e-9), 1)
    else:
        from hybridx_nb.app.runner import run_assessment

        params = Params(client=f"Bench {users}", snapshot=str(work / "snapshot"), out=str(work / "report"))
        with timed(t, "notebook_html"):
            run = run_assessment(params.public(), work / "report", progress=False)
        result["html_mb"] = round(Path(run.html).stat().st_size / 1e6, 2)
        result["job_rss_gb"] = _peak_rss_gb()
    if part == "prep":
        result["prep_rss_gb"] = _peak_rss_gb()
    return result


def run_size(users: int, notebook: bool, reference: bool) -> dict[str, object]:
    """Every part of one size, each in a child process so that each peak memory is that part's own."""
    work = Path(tempfile.mkdtemp(prefix=f"hybridx-bench-{users}-"))
    merged: dict[str, object] = {"users": users, "timings": {}}
    for part in ("prep", "core") + (("notebook",) if notebook else ()):
        cmd = [sys.executable, __file__, "--part", part, "--one", str(users), "--work", str(work)]
        cmd += ["--no-reference"] * (not reference)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{part} at {users:,} users failed:\n{proc.stderr[-4000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        merged["timings"].update(result.pop("timings"))  # type: ignore[union-attr]
        merged.update(result)
    return merged


def print_table(results: list[dict[str, object]]) -> None:
    stages = ["generate", "write_exports", "read_exports_csv_json", "read_ldif", "snapshot_write",
              "snapshot_load", "anchors", "engine", "readiness", "plan", "assess_core", "takeover", "takeover_csv",
              "exchange", "reference_engine",
              "report_prepare", "report_prepare_redacted", "redact_extra", "redact_cpu", "notebook_html"]
    head = f"{'stage (seconds)':<26}" + "".join(f"{r['users']:>12,}" for r in results) + "   target at 1M"
    print(head)
    print("-" * len(head))
    target = {"assess_core": "≤ 20 s", "notebook_html": "≤ 90 s", "redact_extra": "≤ 30 s", "read_exports_csv_json": "≤ 60 s (with LDIF)",
              "takeover": "≤ 10 s (with takeover_csv)"}
    for stage in stages:
        cells = [r["timings"].get(stage) for r in results]  # type: ignore[union-attr]
        if all(c is None for c in cells):
            continue
        print(f"{stage:<26}" + "".join(f"{c:>12.2f}" if c is not None else f"{'-':>12}" for c in cells)
              + f"   {target.get(stage, '')}")
    for key, label, goal in (("prep_rss_gb", "peak RSS exports (GB)", ""),
                             ("core_rss_gb", "peak RSS core (GB)", "≤ 6 GB"),
                             ("job_rss_gb", "peak RSS assess job (GB)", "≤ 6 GB"), ("html_mb", "HTML (MB)", "≤ 25 MB"),
                             ("speedup", "engine speed-up ×", "≥ 20×")):
        cells = [r.get(key) for r in results]
        if any(c is not None for c in cells):
            print(f"{label:<26}" + "".join(f"{c:>12}" if c is not None else f"{'-':>12}" for c in cells)
                  + f"   {goal}")
    for r in results:
        if "agreement" in r:
            a = r["agreement"]
            print(f"reference agreement at {r['users']:,}: {a['compared']:,} users compared, "  # type: ignore[index]
                  f"{a['disagree']} disagree")  # type: ignore[index]
    print("linear growth check (seconds per 100k users, engine / readiness):")
    for r in results:
        t = r["timings"]
        per = 100_000 / int(r["users"])  # type: ignore[arg-type]
        print(f"  {r['users']:>9,}: {t['engine'] * per:.2f} / {t['readiness'] * per:.2f}")  # type: ignore[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--no-notebook", action="store_true", help="skip the notebook + HTML stage")
    parser.add_argument("--no-reference", action="store_true", help="skip the hand-written reference engine")
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("results.json"))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size, one part
    parser.add_argument("--part", choices=("prep", "core", "notebook"), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.part:
        print(json.dumps(run_part(args.part, args.one, args.work, not args.no_reference)))
        return 0
    results = []
    for size in args.sizes:
        try:
            results.append(run_size(size, not args.no_notebook, not args.no_reference))
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"done: {size:,} users", file=sys.stderr)
    print_table(results)
    args.json.write_text(json.dumps({"targets": TARGETS, "results": results}, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
