"""``hybridx batch clients.toml --out reports/ [--jobs N]``: assess a whole portfolio.

Each client runs ``python -m hybridx_nb.app.runner`` in its own process (and papermill starts its own kernel), so one
client's crash, memory or failure cannot touch another; ``--jobs`` clients run at once. A failing client is
reported and the others go on, and so does a ``[[client]]`` table that cannot run (a bad name or folder: it
fails with its message); a client that runs past its ``timeout`` is stopped with its kernel. Each client's
report folder is replaced atomically by the runner, and only when it is hybridx's;
``reports/index.html`` (also written atomically) lists every client with its verdict counts and links.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybridx_nb import __version__
from hybridx_nb.app.assess import EXPORT_INPUTS
from hybridx_nb.app.paths import resolve_paths
from hybridx_nb.core.errors import InputError
from hybridx_nb.core.folders import check_apart, check_replaceable, marker_kind, stage, sweep, write_marker
from hybridx_nb.core.secrets import scrub

_NOT_PARAMS = {"name", "folder", "timeout"}
#: Seconds one client may run before it is stopped (``timeout`` in clients.toml); a large tenant takes minutes.
DEFAULT_TIMEOUT = 6 * 3600.0
NAME_MAX = 200  # characters of a client name
FOLDER_MAX = 64  # characters of a report folder name
#: Folder names that Windows cannot create (with any extension), so a report set copied there would break.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass
class ClientSpec:
    name: str
    folder: str
    params: dict[str, Any]
    timeout: float = DEFAULT_TIMEOUT
    problem: str = ""  # set when this [[client]] cannot run; the others still do


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
    redacted: bool = False  # pseudonymised report: only the shareable files are linked


@dataclass
class BatchResult:
    index: Path
    clients: list[ClientOutcome]

    @property
    def failed(self) -> list[ClientOutcome]:
        return [c for c in self.clients if not c.ok]


def _folder_name(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-._").lower()[:FOLDER_MAX].strip("-._")
    return slug or "client"


def folder_problem(folder: str) -> str:
    """Why ``folder`` cannot be a client's report folder under ``--out``, or an empty string."""
    if not folder or len(folder) > FOLDER_MAX:
        return f"must have 1 to {FOLDER_MAX} characters"
    if _CONTROL.search(folder) or any(c in folder for c in '/\\:*?"<>|'):
        return "must not contain a path separator, a control character or any of : * ? \" < > |"
    if folder.startswith(".") or folder.endswith((".", " ")):
        return "must not start with a dot or end with a dot or a space"
    lower = folder.lower()
    if lower == "index.html" or lower.endswith(".failed"):
        return "is a name hybridx uses itself (index.html, <folder>.failed)"
    if lower.split(".", 1)[0] in _RESERVED:
        return "is a reserved device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9)"
    return ""


def shown_name(name: object) -> str:
    """A client name fit for one line of a message or the index: control characters visible, length capped."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", str(name))
    return text if len(text) <= 80 else text[:80] + f"… ({len(text)} characters)"


def _client(path: Path, i: int, entry: Any, defaults: dict[str, Any], seen: set[str]) -> ClientSpec:
    """One ``[[client]]`` table; a problem is recorded on the spec (that client fails, the others run)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
        return ClientSpec(f"client #{i}", f"client-{i}", {}, problem='has no name: give it name = "..."')
    name = entry["name"]
    fix = f"{path}: client {shown_name(name)!r}"
    spec = ClientSpec(name, "", {})
    if len(name) > NAME_MAX or _CONTROL.search(name):
        spec.problem = (f"{fix}: the name has {len(name)} characters or a control character; give a name of at "
                        f"most {NAME_MAX} printable characters")
    explicit = entry.get("folder")
    if explicit is not None:
        why = folder_problem(explicit) if isinstance(explicit, str) else "must be a string"
        spec.folder = explicit if isinstance(explicit, str) and not why else f"client-{i}"
        if why and not spec.problem:
            spec.problem = f"{fix}: folder {shown_name(explicit)!r} {why}; set another folder = \"...\""
        elif explicit.lower() in seen and not spec.problem:
            spec.problem = f"{fix}: report folder {explicit!r} is used twice; set folder = \"a-unique-name\""
    else:
        base = _folder_name(name)
        if folder_problem(base):
            base = base.replace(".", "-")
            base = base if not folder_problem(base) else f"client-{base}"[:FOLDER_MAX]
        spec.folder, n = base, 1
        while spec.folder.lower() in seen:
            n += 1
            spec.folder = f"{base[:FOLDER_MAX - len(str(n)) - 1]}-{n}"
    seen.add(spec.folder.lower())
    timeout = entry.get("timeout", defaults.get("timeout", DEFAULT_TIMEOUT))
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 7 * 86400:
        spec.problem = spec.problem or f"{fix}: timeout must be a number of seconds (1 to 604800)"
    else:
        spec.timeout = float(timeout)
    params = {**{k: v for k, v in defaults.items() if k != "timeout"},
              **{k: v for k, v in entry.items() if k not in _NOT_PARAMS}, "client": name}
    try:
        spec.params = resolve_paths(params, path.resolve().parent)
    except (TypeError, ValueError) as exc:
        spec.problem = spec.problem or f"{fix}: a path parameter is not a string ({exc})"
    return spec


def load_clients(path: str | Path) -> list[ClientSpec]:
    """Read clients.toml: ``[defaults]`` plus one ``[[client]]`` table per client; paths relative to the file.

    A problem of the file as a whole raises ``InputError``; a problem of one client is kept on its spec, so that
    the others still run."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise InputError(path, "file not found",
                         fix="give the path of a clients.toml (see examples/clients.toml)") from None
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text", fix="save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not valid TOML: {exc}", fix="check the line named above") from None
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise InputError(path, "[defaults] is not a table", fix="write [defaults] with key = value lines")
    clients = data.get("client", [])
    if not isinstance(clients, list) or not clients:
        raise InputError(path, "no [[client]] tables",
                         fix="add one [[client]] table per client, see examples/clients.toml")
    seen: set[str] = set()
    return [_client(path, i, entry, defaults, seen) for i, entry in enumerate(clients, start=1)]


_RUNNING: set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()


def _stop(proc: subprocess.Popen) -> None:
    """End a client's process group (the runner and its kernel)."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _run_one(spec: ClientSpec, out: Path, work: Path) -> ClientOutcome:
    """One client in its own Python process (and process group); any way it ends becomes an outcome."""
    if spec.problem:
        return ClientOutcome(spec.name, spec.folder, False, spec.problem)
    spec_file, result_file = work / f"{spec.folder}.json", work / f"{spec.folder}.result.json"
    params, previous = _previous_run(spec, out / spec.folder, work)
    spec_file.write_text(json.dumps({"params": params, "out": str(out / spec.folder),
                                     "result": str(result_file)}, default=str), encoding="utf-8")
    redacted = bool(spec.params.get("redact"))
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "hybridx_nb.app.runner", str(spec_file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace",
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
    try:
        _, stderr = proc.communicate(timeout=spec.timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        proc.communicate()
        sweep(out, f".{spec.folder}.")  # its temporary folder holds client data
        return ClientOutcome(spec.name, spec.folder, False, f"stopped after {spec.timeout:,.0f} s (timeout in "
                             "clients.toml); the previous report, if any, stays",
                             seconds=round(time.monotonic() - started, 2), redacted=redacted)
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)
    if result_file.is_file():
        r = json.loads(result_file.read_text(encoding="utf-8"))
        return ClientOutcome(spec.name, spec.folder, bool(r.get("ok")), r.get("error", ""), r.get("counts", {}),
                             float(r.get("seconds", 0.0)), previous, redacted)
    tail = "\n".join(scrub((stderr or "").strip()).splitlines()[-5:])
    return ClientOutcome(spec.name, spec.folder, False, f"the client's process ended with exit code "
                         f"{proc.returncode} and no result\n{tail}", redacted=redacted)


def _previous_run(spec: ClientSpec, folder: Path, work: Path) -> tuple[dict, dict[str, int] | None]:
    """The parameters with ``previous`` pointing at a copy of the last run's findings (the run replaces that
    folder), and the last run's counts for the index's trend; unchanged when there was no earlier run (a folder
    without hybridx's report marker is no earlier run)."""
    summary = folder / "summary.json"
    if marker_kind(folder) != "report" or not (folder / "findings.csv").is_file() or not summary.is_file():
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


INPUTS = ("snapshot", *EXPORT_INPUTS)


def _check_out(clients: Path, specs: list[ClientSpec], out: Path) -> None:
    """The portfolio folder: apart from every input, and new, empty or hybridx's."""
    inputs: dict[str, Any] = {"clients.toml": clients}
    for spec in specs:
        inputs.update({f"{n} of {shown_name(spec.name)}": spec.params.get(n) for n in INPUTS
                       if isinstance(spec.params.get(n), str)})
    check_apart(out, inputs)
    check_replaceable(out, "portfolio")


def run_batch(clients: str | Path, out: str | Path, *, jobs: int = 1, target: str | None = None) -> BatchResult:
    """Assess every client of ``clients.toml`` into ``out/<folder>/`` and write ``out/index.html``.

    ``target`` (connect | cloud-sync) applies to the clients that set no ``target`` of their own."""
    specs = load_clients(clients)
    if target is not None:
        for spec in specs:
            spec.params.setdefault("target", target)
    out = Path(out).resolve()
    _check_out(Path(clients), specs, out)
    out.mkdir(parents=True, exist_ok=True)
    if marker_kind(out) != "portfolio":
        write_marker(out, "portfolio")
    work = stage(out / "batch")  # .batch.*.tmp: spec and result files, removed (or swept by the next batch)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        outcomes = list(pool.map(lambda s: _run_one(s, out, work.path), specs))
    except BaseException:  # Ctrl-C: stop every running client, remove their temporary folders
        with _RUNNING_LOCK:
            running = list(_RUNNING)
        for proc in running:
            _stop(proc)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        work.discard()
        for spec in specs:
            sweep(out, f".{spec.folder}.")
    for o in outcomes:
        status = "ok" if o.ok else "FAILED"
        print(f"{status:<7}{shown_name(o.name)}" + (f": {o.error.splitlines()[0]}" if o.error else ""),
              file=sys.stderr)
    return BatchResult(write_index(outcomes, out), outcomes)


#: Files linked from the index; a pseudonymised client gets only those that are safe to share (the CSVs, the
#: summary and the scripts hold the real values the fixes need, and the executed notebook the input paths).
FILES = ("findings.xlsx", "findings.csv", "remediation.ps1", "summary.json")
SHAREABLE = ("findings.xlsx",)

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
            files = " · ".join(f'<a href="{e(c.folder)}/{f}">{f}</a>' for f in (SHAREABLE if c.redacted else FILES))
            files += " · pseudonymised" if c.redacted else ""
            rows.append(f'<tr><td><a href="{link}">{e(c.name)}</a></td><td class="ok">ok</td>{cells}'
                        f'<td class="trend">{e(_trend(c))}</td><td>{files}</td></tr>')
        elif c.redacted:  # a failed run's partial notebook and error text are not pseudonymised
            rows.append(f'<tr class="failed"><td>{e(c.name)}</td><td class="bad">failed</td>'
                        f'<td colspan="{len(_COLUMNS) + 1}"><pre>the run failed; its error is in '
                        f'{e(c.folder)}.failed/error.txt (not pseudonymised, not linked)</pre></td><td></td></tr>')
        else:
            previous = marker_kind(out / c.folder) == "report" and (out / c.folder / "assessment.html").is_file()
            failed = f"{e(c.folder)}.failed/assessment.html"
            ours = marker_kind(out / f"{c.folder}.failed") == "failed-run" and c.error.find("partially executed") >= 0
            extra = f' · <a href="{failed}">partial run</a>' if ours else ""
            extra += f' · <a href="{link}">previous report</a>' if previous else ""
            rows.append(f'<tr class="failed"><td>{e(shown_name(c.name))}</td><td class="bad">failed</td>'
                        f'<td colspan="{len(_COLUMNS) + 1}"><pre>{e(c.error)}</pre></td><td>{extra.lstrip(" ·")}</td>'
                        "</tr>")
    head = "".join(f"<th>{label}</th>" for _, label in _COLUMNS)
    failed_n = sum(not c.ok for c in outcomes)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>hybridx portfolio</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'">
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
