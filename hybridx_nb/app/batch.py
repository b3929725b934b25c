"""``hybridx batch clients.toml --out reports/ [--jobs N]``: assess a whole portfolio.

Each client runs ``python -m hybridx_nb.app.runner`` in its own process (and papermill starts its own kernel), so one
client's crash, memory or failure cannot touch another; ``--jobs`` clients run at once. A failing client is
reported and the others go on. Each client's report folder is replaced atomically by the runner;
``reports/index.html`` (also written atomically) lists every client with its verdict counts and links.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybridx_nb import __version__
from hybridx_nb.app.paths import resolve_paths
from hybridx_nb.core.errors import InputError

_NOT_PARAMS = {"name", "folder"}


@dataclass
class ClientSpec:
    name: str
    folder: str
    params: dict[str, Any]


@dataclass
class ClientOutcome:
    """What happened to one client."""

    name: str
    folder: str
    ok: bool
    error: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    previous: dict[str, int] | None = None  # the counts of the run before, when its folder was there


@dataclass
class BatchResult:
    index: Path
    clients: list[ClientOutcome]

    @property
    def failed(self) -> list[ClientOutcome]:
        return [c for c in self.clients if not c.ok]


def _folder_name(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-._").lower()
    return slug or "client"


def load_clients(path: str | Path) -> list[ClientSpec]:
    """Read clients.toml: ``[defaults]`` plus one ``[[client]]`` table per client; paths relative to the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "file not found",
                         fix="give the path of a clients.toml (see examples/clients.toml)") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not valid TOML: {exc}", fix="check the line named above") from None
    defaults = data.get("defaults", {})
    clients = data.get("client", [])
    if not isinstance(clients, list) or not clients:
        raise InputError(path, "no [[client]] tables",
                         fix="add one [[client]] table per client, see examples/clients.toml")
    specs, seen = [], set()
    for i, entry in enumerate(clients, start=1):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise InputError(path, f"client #{i} has no name", fix='give every [[client]] a name = "..."')
        folder = str(entry.get("folder") or _folder_name(entry["name"]))
        if folder in seen or "/" in folder or "\\" in folder or folder.startswith("."):
            raise InputError(path, f"client {entry['name']!r}: report folder {folder!r} is used twice or not a "
                             "plain folder name", fix='set folder = "a-unique-name" for this client')
        seen.add(folder)
        params = {**defaults, **{k: v for k, v in entry.items() if k not in _NOT_PARAMS}, "client": entry["name"]}
        specs.append(ClientSpec(entry["name"], folder, resolve_paths(params, path.resolve().parent)))
    return specs


def _run_one(spec: ClientSpec, out: Path, work: Path) -> ClientOutcome:
    """One client in its own Python process; any way it ends becomes an outcome."""
    spec_file, result_file = work / f"{spec.folder}.json", work / f"{spec.folder}.result.json"
    params, previous = _previous_run(spec, out / spec.folder, work)
    spec_file.write_text(json.dumps({"params": params, "out": str(out / spec.folder),
                                     "result": str(result_file)}, default=str), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "hybridx_nb.app.runner", str(spec_file)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if result_file.is_file():
        r = json.loads(result_file.read_text(encoding="utf-8"))
        return ClientOutcome(spec.name, spec.folder, bool(r.get("ok")), r.get("error", ""), r.get("counts", {}),
                             float(r.get("seconds", 0.0)), previous)
    tail = "\n".join((proc.stderr or "").strip().splitlines()[-5:])
    return ClientOutcome(spec.name, spec.folder, False, f"the client's process ended with exit code "
                         f"{proc.returncode} and no result\n{tail}")


def _previous_run(spec: ClientSpec, folder: Path, work: Path) -> tuple[dict, dict[str, int] | None]:
    """The parameters with ``previous`` pointing at a copy of the last run's findings (the run replaces that
    folder), and the last run's counts for the index's trend; unchanged when there was no earlier run."""
    summary = folder / "summary.json"
    if not (folder / "findings.csv").is_file() or not summary.is_file():
        return spec.params, None
    try:
        counts = json.loads(summary.read_text(encoding="utf-8")).get("counts", {})
    except ValueError:
        return spec.params, None
    if spec.params.get("previous"):
        return spec.params, counts
    keep = work / f"{spec.folder}.previous"
    keep.mkdir()
    for name in ("findings.csv", "readiness.csv", "summary.json"):
        if (folder / name).is_file():
            shutil.copy2(folder / name, keep / name)
    return {**spec.params, "previous": str(keep)}, counts


def _trend(c: ClientOutcome) -> str:
    """``Duplicated 12 → 6 · New 30 → 28`` for the categories that changed since the last run."""
    if c.previous is None:
        return "first run"
    now, before = _counts(c), _counts(ClientOutcome(c.name, c.folder, True, counts=c.previous))
    moves = [f"{label} {before.get(k, 0):,} → {now.get(k, 0):,}" for k, label in _COLUMNS
             if before.get(k, 0) != now.get(k, 0)]
    return " · ".join(moves) or "no change"


def run_batch(clients: str | Path, out: str | Path, *, jobs: int = 1, target: str | None = None) -> BatchResult:
    """Assess every client of ``clients.toml`` into ``out/<folder>/`` and write ``out/index.html``.

    ``target`` (connect | cloud-sync) applies to the clients that set no ``target`` of their own."""
    specs = load_clients(clients)
    if target is not None:
        for spec in specs:
            spec.params.setdefault("target", target)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".batch.", dir=out) as work:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            outcomes = list(pool.map(lambda s: _run_one(s, out, Path(work)), specs))
    for o in outcomes:
        status = "ok" if o.ok else "FAILED"
        print(f"{status:<7}{o.name}" + (f": {o.error.splitlines()[0]}" if o.error else ""), file=sys.stderr)
    return BatchResult(write_index(outcomes, out), outcomes)


_PROBLEMS = ("anchor_mismatch", "match_blocked", "ambiguous")
_COLUMNS = (("match", "Match"), ("anchor_mismatch", "Duplicated"), ("match_blocked", "Blocked"),
            ("new_user", "New"), ("ambiguous", "Ambiguous"), ("orphan_anchor", "Orphaned"))


def _counts(c: ClientOutcome) -> dict[str, int]:
    counts = dict(c.counts)
    counts["match"] = counts.get("hard_match", 0) + counts.get("soft_match", 0)
    return counts


def write_index(outcomes: list[ClientOutcome], out: Path) -> Path:
    """``index.html``: one row per client, verdict counts, links; failures with their message."""
    e = html.escape
    rows = []
    for c in outcomes:
        link = f"{e(c.folder)}/assessment.html"
        if c.ok:
            n = _counts(c)
            cells = "".join(f'<td class="n{" bad" if k in _PROBLEMS and n.get(k) else ""}">{n.get(k, 0):,}</td>'
                            for k, _ in _COLUMNS)
            files = " · ".join(f'<a href="{e(c.folder)}/{f}">{f}</a>' for f in ("findings.xlsx", "findings.csv",
                                                                               "remediation.ps1", "summary.json"))
            rows.append(f'<tr><td><a href="{link}">{e(c.name)}</a></td><td class="ok">ok</td>{cells}'
                        f'<td class="trend">{e(_trend(c))}</td><td>{files}</td></tr>')
        else:
            previous = (out / c.folder / "assessment.html").is_file()
            failed = f"{e(c.folder)}.failed/assessment.html"
            extra = (f' · <a href="{failed}">partial run</a>' if (out / f"{c.folder}.failed").is_dir() else "")
            extra += f' · <a href="{link}">previous report</a>' if previous else ""
            rows.append(f'<tr class="failed"><td>{e(c.name)}</td><td class="bad">failed</td>'
                        f'<td colspan="{len(_COLUMNS) + 1}"><pre>{e(c.error)}</pre></td><td>{extra.lstrip(" ·")}</td>'
                        "</tr>")
    head = "".join(f"<th>{label}</th>" for _, label in _COLUMNS)
    failed_n = sum(not c.ok for c in outcomes)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>hybridx portfolio</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>
body{{font-family:-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2933;margin:0}}
main{{max-width:1100px;margin:0 auto;padding:24px 32px}}h1{{color:#1f3a5f;margin-bottom:4px}}p{{color:#52606d}}
table{{border-collapse:collapse;width:100%;font-size:14px}}th{{background:#1f3a5f;color:#fff;text-align:left;padding:6px 8px}}
td{{padding:6px 8px;border-top:1px solid #d9e2ec;vertical-align:top}}td.n{{text-align:right}}.bad{{color:#c62828;font-weight:600}}
.ok{{color:#2e7d32;font-weight:600}}pre{{white-space:pre-wrap;margin:0;font-size:12px;color:#52606d}}a{{color:#1f3a5f}}
</style></head><body><main><h1>Entra Connect first-sync assessments</h1>
<p>{len(outcomes)} client(s), {failed_n} failed · generated {now} · hybridx {e(__version__)}</p>
<table><thead><tr><th>Client</th><th>Status</th>{head}<th>Since the last run</th><th>Files</th></tr></thead><tbody>
{"".join(rows)}</tbody></table></main></body></html>
"""
    index = out / "index.html"
    tmp = out / ".index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, index)
    return index
