"""Benchmark hybridx at 10k / 100k / 1M users per side, stage by stage, against a hand-written reference.

    python bench/run_bench.py                      # 10k, 100k, 1M; prints the tables, writes bench/results.json
    python bench/run_bench.py --sizes 10000 --no-notebook

Each size runs in five child processes, so each peak resident memory is that part's own: ``generate`` (the demo
tenant's export files), ``read`` (each reader timed, as ``hybridx assess`` reads in a new process, and the
snapshot), ``core`` (load + engine + readiness + plan as ``hybridx assess`` runs them, and the reference engine),
``job_snapshot`` (the whole ``hybridx assess --snapshot`` job: notebook, every output file, HTML) and ``job_exports``
(the whole ``hybridx assess --ad ad.csv --entra entra.json`` job). The reference engine is what a consultant writes
by hand in a notebook (``apply`` with ``uuid``/``base64`` per row, then merges); its findings must agree with
hybridx's on the categories both compute. Both ratios (reference engine ÷ hybridx's engine, reference engine ÷ the
whole job) come from the same run. Seconds are wall-clock; ``core_cpu_s`` is the core part's CPU time (both
threads), which a busy machine disturbs less.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
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

# Targets on the 2-core reference machine at 1M users per side (issue 15), printed next to the measured values.
TARGETS = {
    "job_exports": 30.0,       # hybridx assess --ad ad.csv --entra entra.json, every output, seconds
    "job_snapshot": 20.0,      # hybridx assess --snapshot, every output, seconds
    "assess_core": 12.0,       # load snapshot + engine + readiness + plan, seconds
    "read_csv_json": 10.0,     # AD CSV + Graph JSON read together (as assess reads them), seconds
    "read_ldif": 15.0,         # AD LDIF, seconds
    "job_rss_gb": 4.0,         # peak resident memory of the whole job from export files
    "redact_extra": 30.0,      # what --redact adds to the report's preparation, seconds (issue 14)
    "takeover": 10.0,          # the takeover's changes and their CSV, seconds (issue 13)
}
STAGES = ["generate", "write_exports", "read_ad_csv", "read_entra_json", "read_csv_json", "read_ldif",
          "read_all_exports", "snapshot_write", "snapshot_load", "engine", "readiness", "plan", "assess_core",
          "takeover", "takeover_csv", "exchange", "reference_engine", "report_prepare", "report_prepare_redacted", "redact_extra", "redact_cpu", "job_snapshot",
          "job_exports"]
GOALS = {"read_csv_json": "≤ 10 s", "read_ldif": "≤ 15 s", "assess_core": "≤ 12 s", "job_snapshot": "≤ 20 s",
         "job_exports": "≤ 30 s", "redact_extra": "≤ 30 s", "takeover": "≤ 10 s (with takeover_csv)"}


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


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _generate(users: int, work: Path, t: dict[str, float]) -> dict[str, object]:
    from hybridx_nb.demo.tenant import generate, write_exports

    with timed(t, "generate"):
        tenant = generate(users=users, seed=11)
    with timed(t, "write_exports"):
        files = write_exports(tenant, work / "exports")
        files["ldif"] = write_exports(tenant, work / "exports-ldif", ad_format="ldif")["ad"]
    (work / "files.json").write_text(json.dumps({k: str(v) for k, v in files.items()}))
    if hasattr(os, "sync"):  # gigabytes just written: flushed now, not by the kernel while the readers are timed
        os.sync()
    return {}


def _read(work: Path, t: dict[str, float]) -> dict[str, object]:
    """The readers, in a process of their own with the memory pool of ``hybridx assess``, as it reads its inputs in
    a new kernel (timed in the process that had generated the tenant, on Arrow's default pool, they were up to a
    fifth slower than the command's own reads)."""
    from hybridx_nb.core.memory import use_jemalloc
    from hybridx_nb.snapshot.store import write_snapshot
    from hybridx_nb.sources.files.entra_export import read_entra
    from hybridx_nb.sources.files.exports import read_ad, read_exports

    use_jemalloc()  # the memory pool ``hybridx assess`` reads with
    files = json.loads((work / "files.json").read_text())
    ldif = files.pop("ldif")
    with timed(t, "read_ad_csv"):
        read_ad(files["ad"])
    with timed(t, "read_entra_json"):
        read_entra(files["entra"])
    with timed(t, "read_csv_json"):
        read_exports(ad=files["ad"], entra=files["entra"])
    with timed(t, "read_ldif"):
        read_ad(ldif)
    with timed(t, "read_all_exports"):
        snap = read_exports(**files)
    with timed(t, "snapshot_write"):
        write_snapshot(snap, work / "snapshot")
    return {"prep_rss_gb": _peak_rss_gb()}


def _core(work: Path, t: dict[str, float], reference: bool) -> dict[str, object]:
    from hybridx_nb import report
    from hybridx_nb.app import assess
    from hybridx_nb.core import columns
    from hybridx_nb.remediation.plan import finish_plan
    from hybridx_nb.snapshot.store import load_snapshot

    cpu, start = _cpu(), time.perf_counter()
    with timed(t, "snapshot_load"):
        snap = load_snapshot(work / "snapshot")
    stages: dict[str, float] = {}
    prediction, readiness, draft, groups, _ = assess._core(assess.Params(snapshot=str(work / "snapshot")), snap,
                                                           stages, impact=False)
    plan = finish_plan(draft)  # its runbook without the takeover steps (their stages are timed below)
    t.update({k: stages[k] for k in ("engine", "readiness", "plan")})  # each its own seconds (they overlap)
    t["assess_core"] = round(time.perf_counter() - start, 3)
    result: dict[str, object] = {"findings": len(prediction.findings), "readiness_rows": len(readiness),
                                 "core_cpu_s": round(_cpu() - cpu, 2), "core_rss_gb": _peak_rss_gb()}
    # Issue 13: what the takeover changes, and Hybrid Exchange readiness (the diff adds ≤ 10 s at 1M).
    from hybridx_nb.engine.takeover import takeover_impact
    from hybridx_nb.readiness.exchange import exchange_readiness

    with timed(t, "takeover"):
        takeover = takeover_impact(snap, prediction.findings, prediction.rows)
    with timed(t, "takeover_csv"):
        assess.write_findings_csv(takeover.changes, work / "takeover.csv")
    with timed(t, "exchange"):
        exchange_readiness(snap, prediction.findings, prediction.rows)
    result.update(takeover_pairs=takeover.pairs, takeover_changes=len(takeover.changes))
    # What --redact adds (issue 14): the report's frames pseudonymised, against the same without.
    a = assess.Assessment(assess.Params(client="bench"), snap, prediction, readiness, plan,
                          assess.category_counts(prediction.findings), groups=groups)
    with timed(t, "report_prepare"):
        report.prepare(a)
    a.params.redact = True
    redact_cpu = _cpu()
    with timed(t, "report_prepare_redacted"):
        report.prepare(a)
    t["redact_extra"] = round(t["report_prepare_redacted"] - t["report_prepare"], 3)
    t["redact_cpu"] = round(_cpu() - redact_cpu, 3)  # CPU seconds: steadier on a shared machine
    if reference:
        # The reference gets the in-scope users only: it knows nothing of system accounts or conflict objects.
        excluded = prediction.findings.loc[prediction.findings["category"] == "excluded", "ad_dn"].dropna()
        ad_in_scope = snap["ad_users"][~columns.isin(snap["ad_users"]["dn"], excluded)]
        with timed(t, "reference_engine"):
            ref = reference_engine(ad_in_scope, snap["entra_users"])
        result["agreement"] = agreement(ref, prediction.findings)
    return result


def _job(part: str, users: int, work: Path, t: dict[str, float]) -> dict[str, object]:
    from hybridx_nb.app.runner import run_assessment

    if part == "job_snapshot":
        params = {"client": f"Bench {users}", "snapshot": str(work / "snapshot")}
    else:
        files = json.loads((work / "files.json").read_text())
        params = {"client": f"Bench {users}", "ad": files["ad"], "entra": files["entra"]}
    out = work / f"report-{part}"
    with timed(t, part):
        run = run_assessment({**params, "out": str(out)}, out, progress=False)
    return {f"{part}_rss_gb": _peak_rss_gb(), "html_mb": round(Path(run.html).stat().st_size / 1e6, 2),
            "outputs_mb": round(sum(p.stat().st_size for p in out.iterdir() if p.is_file()) / 1e6, 1)}


def run_part(part: str, users: int, work: Path, reference: bool) -> dict[str, object]:
    """One part of one size, in this process."""
    t: dict[str, float] = {}
    if part == "generate":
        result = _generate(users, work, t)
    elif part == "read":
        result = _read(work, t)
    elif part == "core":
        result = _core(work, t, reference)
    else:
        result = _job(part, users, work, t)
    return {"timings": t, **result}


def run_size(users: int, notebook: bool, reference: bool) -> dict[str, object]:
    """Every part of one size, each in a child process so that each peak memory is that part's own."""
    merged: dict[str, object] = {"users": users, "timings": {}}
    with tempfile.TemporaryDirectory(prefix=f"hybridx-bench-{users}-") as folder:  # gigabytes at 1M: removed after
        work = Path(folder)
        for part in ("generate", "read", "core") + (("job_snapshot", "job_exports") if notebook else ()):
            cmd = [sys.executable, __file__, "--part", part, "--one", str(users), "--work", str(work)]
            cmd += ["--no-reference"] * (not reference)
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"{part} at {users:,} users failed:\n{proc.stderr[-4000:]}")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            merged["timings"].update(result.pop("timings"))  # type: ignore[union-attr]
            merged.update(result)
    t = merged["timings"]
    if "reference_engine" in t:  # type: ignore[operator]
        ref = t["reference_engine"]  # type: ignore[index]
        merged["ratio_engine"] = round(ref / max(t["engine"], 1e-9), 2)  # type: ignore[index]
        if "job_exports" in t:  # type: ignore[operator]
            merged["ratio_job"] = round(ref / max(t["job_exports"], 1e-9), 2)  # type: ignore[index]
    return merged


def _row(label: str, cells: list[object], goal: str = "", fmt: str = "{:>12.2f}") -> str:
    return (f"{label:<26}" + "".join(fmt.format(c) if isinstance(c, (int, float)) else f"{c or '-':>12}"
                                     for c in cells) + (f"   {goal}" if goal else ""))


def print_table(results: list[dict[str, object]]) -> None:
    head = f"{'stage (seconds, wall)':<26}" + "".join(f"{r['users']:>12,}" for r in results) + "   target at 1M"
    print(head)
    print("-" * len(head))
    for stage in STAGES:
        cells = [r["timings"].get(stage) for r in results]  # type: ignore[union-attr]
        if any(c is not None for c in cells):
            print(_row(stage, cells, GOALS.get(stage, "")))
    for key, label, goal in (("core_cpu_s", "core CPU seconds", ""), ("prep_rss_gb", "peak RSS exports (GB)", ""),
                             ("core_rss_gb", "peak RSS core (GB)", ""),
                             ("job_snapshot_rss_gb", "peak RSS job snapshot (GB)", ""),
                             ("job_exports_rss_gb", "peak RSS job exports (GB)", "≤ 4 GB"),
                             ("html_mb", "HTML (MB)", ""), ("outputs_mb", "output files (MB)", ""),
                             ("ratio_engine", "reference ÷ engine ×", "(> 1: faster)"),
                             ("ratio_job", "reference ÷ whole job ×", "(> 1: the job beats it)")):
        cells = [r.get(key) for r in results]
        if any(c is not None for c in cells):
            print(_row(label, cells, goal))
    for r in results:
        if "agreement" in r:
            a = r["agreement"]
            print(f"reference agreement at {r['users']:,}: {a['compared']:,} users compared, "  # type: ignore[index]
                  f"{a['disagree']} disagree")  # type: ignore[index]
    print("\ngrowth: seconds per 100k users (linear growth keeps a row flat)")
    print(f"{'stage':<26}" + "".join(f"{r['users']:>12,}" for r in results))
    for stage in STAGES:
        if stage in ("generate", "write_exports"):
            continue
        cells = [r["timings"][stage] * 100_000 / int(r["users"])  # type: ignore[index,arg-type]
                 if stage in r["timings"] else None for r in results]  # type: ignore[operator]
        if any(c is not None for c in cells):
            print(_row(stage, cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--no-notebook", action="store_true", help="skip the two whole-job runs (notebook + HTML)")
    parser.add_argument("--no-reference", action="store_true", help="skip the hand-written reference engine")
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("results.json"))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size, one part
    parser.add_argument("--part", choices=("generate", "read", "core", "job_snapshot", "job_exports"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.part:
        print(json.dumps(run_part(args.part, args.one, args.work, not args.no_reference)))
        return 0
    load_before = os.getloadavg()
    results = []
    for size in args.sizes:
        try:
            results.append(run_size(size, not args.no_notebook, not args.no_reference))
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"done: {size:,} users", file=sys.stderr)
    print_table(results)
    command = ("python bench/run_bench.py --sizes " + " ".join(map(str, args.sizes))
               + " --no-notebook" * args.no_notebook + " --no-reference" * args.no_reference)
    machine = {"cpus": os.cpu_count(), "load_average_before": [round(x, 2) for x in load_before],
               "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    args.json.write_text(json.dumps({"command": command, "machine": machine, "targets_at_1m": TARGETS,
                                     "results": results}, indent=2) + "\n")
    print(f"\nJSON: {args.json.name} (load average before/after: {machine['load_average_before'][0]} / "
          f"{machine['load_average_after'][0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
