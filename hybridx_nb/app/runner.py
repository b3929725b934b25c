"""Run the assessment notebook for one client through papermill and turn it into the shareable HTML report.

The notebook runs in its own kernel process and writes into a temporary sibling of the output folder; only a
complete report set is swapped into place (``core.folders``), so a crash never leaves a half-written report, and
only a missing path, an empty folder or a report folder hybridx wrote is replaced. A failing run keeps the
partially executed notebook in ``<out>.failed/`` (when that path is free or hybridx's; the previous good report
stays) and the error names the cell.
``python -m hybridx_nb.app.runner SPEC.json`` runs one client in a fresh process (used by ``hybridx batch``).
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hybridx_nb.app.assess import EXPORT_INPUTS
from hybridx_nb.app.kernel import KERNEL_LOG, quiet_kernel_manager
from hybridx_nb.app.paths import resolve_paths
from hybridx_nb.core.errors import HybridxError
from hybridx_nb.core.folders import Staging, check_apart, check_replaceable, remove_owned, replaceable, stage, swap_in
from hybridx_nb.core.secrets import scrub
from hybridx_nb.report.page import content_security_policy

KERNEL = "python3"
# papermill logs a dying kernel as an error on its own logger, which Python's last-resort handler prints; hybridx
# reports it (or the Ctrl-C behind it) in one line instead
logging.getLogger("papermill").addHandler(logging.NullHandler())

# jsonschema checks the "iri" format with rfc3987_syntax when that is installed (jupyter-events brings it), and
# importing it builds a Lark grammar: a second of every run's start, spent while papermill and nbconvert import
# nbformat. No notebook schema uses the format, so this process imports jsonschema without it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]


def notebook_path() -> Path:
    """The one notebook (package data; ``notebooks/assessment.ipynb`` in the repository links to it)."""
    return Path(str(resources.files("hybridx_nb") / "notebooks" / "assessment.ipynb"))


@dataclass
class RunResult:
    """A finished report set."""

    out: Path
    html: Path
    notebook: Path
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    html_bytes: int = 0


class NotebookFailed(HybridxError):
    """A notebook cell failed; the partially executed notebook is kept at ``notebook``."""

    def __init__(self, cell: str, message: str, notebook: Path, *, kept: bool = True) -> None:
        self.cell, self.message, self.notebook, self.kept = cell, message, notebook, kept
        where = f"\n  partially executed notebook: {notebook}" if kept else ""
        super().__init__(f"the assessment stopped in {cell}: {message}{where}")


def prepare_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Validated parameters with absolute paths (the kernel may run elsewhere); raises HybridxError."""
    from hybridx_nb.app.assess import validate_params

    resolved = resolve_paths(raw, Path.cwd())
    params = validate_params(resolved)
    # every parameter, unset ones as their defaults: the notebook's own defaults (the demo's files) must not
    # fill what the caller left out
    return {**params.public(), **resolved}


def _html_exporter() -> Any:
    from hybridx_nb.app.html_export import html_exporter

    return html_exporter()


def _export_html(notebook: Path, html_path: Path, exporter: Any = None) -> Path:
    from hybridx_nb.app.html_export import export_html

    return export_html(notebook, html_path, content_security_policy(), exporter)


def _heading(source: str) -> str:
    """The first Markdown heading of a cell, without its ``#`` marks and section number."""
    for line in source.splitlines():
        if line.lstrip().startswith("#"):
            return re.sub(r"^\d+(\.\d+)*\.?\s+", "", line.strip().lstrip("#").strip())
    return ""


def _failed_cell(exc: Exception, notebook: Path) -> str:
    """The failing cell by its purpose (the Markdown heading above it) and its id; papermill adds an error banner
    cell, so positions shift and are not used."""
    try:
        import nbformat

        heading = ""
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type == "markdown":
                heading = _heading(cell.source) or heading
            elif any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                return f"{heading!r} (cell {cell.get('id', '?')})" if heading else f"cell {cell.get('id', '?')}"
    except Exception:  # the notebook may not have been written at all
        pass
    count = getattr(exc, "exec_count", None)
    return f"the cell executed as In [{count}]" if count else "the notebook"


def _relocate(value: Any, old: str, new: str) -> Any:
    """``value`` (JSON-like) with every string's ``old`` prefix path replaced by ``new``."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_relocate(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _relocate(v, old, new) for k, v in value.items()}
    return value


def _record_final_folder(folder: Path, out: Path) -> None:
    """The executed notebook, summary.json and rejected.csv name the final folder, not the temporary one the
    kernel wrote into (its name is random, so replacing it cannot touch anything else)."""
    old, new = str(folder), str(out)
    for name in ("assessment.ipynb", "summary.json"):
        path = folder / name
        if path.is_file():
            data = _relocate(json.loads(path.read_text(encoding="utf-8")), old, new)
            text = json.dumps(data, indent=1 if name.endswith(".ipynb") else 2, ensure_ascii=False, default=str)
            path.write_text(text + "\n", encoding="utf-8")
    rejected = folder / "rejected.csv"
    if rejected.is_file():
        rejected.write_text(rejected.read_text(encoding="utf-8-sig").replace(old, new), encoding="utf-8-sig")


INPUTS = ("snapshot", *EXPORT_INPUTS)
Prepare = Callable[[Path], dict[str, Any]]


def check_output(raw: dict[str, Any], out: Path) -> None:
    """Refuse, before any work, an output folder that hybridx may not replace or that overlaps an input."""
    check_apart(out, {name: raw.get(name) for name in INPUTS})
    check_replaceable(out, "report")


def _keep_failed_run(staging: Staging, out: Path) -> Path | None:
    """The failed run moves to ``<out>.failed`` when that path is free or hybridx's; else it is removed (it
    holds client data) and None is returned."""
    failed = out.with_name(out.name + ".failed")
    if not replaceable(failed, "failed-run"):
        staging.discard()
        return None
    return swap_in(staging, "failed-run", failed)


def run_assessment(params: dict[str, Any], out: str | Path, *, progress: bool = False,
                   prepare: Prepare | None = None) -> RunResult:
    """Execute the notebook for one client and write the report set into ``out`` (replaced atomically).

    ``prepare(folder)``, when given, writes extra inputs into the new report folder before the run and returns
    the parameters that name them (``hybridx demo`` puts its export files in ``out/inputs`` that way).
    """
    import papermill as pm
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    out = Path(out).resolve()
    raw = prepare_params(params) if prepare is None else dict(params)
    check_output(raw, out)
    staging = stage(out)
    tmp = staging.path
    executed = tmp / "assessment.ipynb"
    warm = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hybridx-html")
    exporter = warm.submit(_html_exporter)  # ready when the kernel is done
    warm.shutdown(wait=False)
    try:
        if prepare is not None:
            raw = prepare_params({**raw, **prepare(tmp)})
        raw["out"] = str(tmp)
        pm.execute_notebook(str(notebook_path()), str(executed), parameters=raw, kernel_name=KERNEL,
                            progress_bar=progress, log_output=False, cwd=str(Path.cwd()),
                            kernel_manager_class=quiet_kernel_manager(tmp / KERNEL_LOG))
    except PapermillExecutionError as exc:
        if getattr(exc, "ename", "") == "KeyboardInterrupt":  # Ctrl-C reached the kernel too
            staging.discard()
            raise KeyboardInterrupt from None
        cell = _failed_cell(exc, executed)
        message = scrub(str(getattr(exc, "evalue", "") or exc).strip())
        try:
            (tmp / "error.txt").write_text(f"{cell}\n{getattr(exc, 'ename', '')}: {message}\n", encoding="utf-8")
            if executed.is_file():
                _record_final_folder(tmp, out.with_name(out.name + ".failed"))
                _export_html(executed, tmp / "assessment.html")
            failed = _keep_failed_run(staging, out)
        except BaseException:
            staging.discard()
            raise
        if failed is None:
            message += (f"\n  the partial run was not kept: {out.name}.failed next to the output folder is not "
                        "hybridx's")
        raise NotebookFailed(cell, message, (failed or out.with_name(out.name + ".failed")) / "assessment.ipynb",
                             kept=failed is not None) from None
    except DeadKernelError:
        staging.discard()
        raise HybridxError("the notebook's kernel stopped before the assessment was done: it was killed, or ran out "
                           "of memory (a million users per side need about 6 GB); nothing was written") from None
    except RuntimeError as exc:  # (after DeadKernelError, one of its kinds)
        staging.discard()
        if not str(exc).startswith("Kernel "):  # jupyter_client's words for a kernel that died or hung starting
            raise
        raise HybridxError(f"the notebook's kernel stopped while it was starting ({exc}): it was killed, or the "
                           "Python environment cannot start it (check with `jupyter kernelspec list`); nothing was "
                           "written") from None
    except BaseException as exc:
        staging.discard()
        if isinstance(exc, KeyboardInterrupt):  # Ctrl-C may have killed the kernel under nbclient's pending task,
            logging.getLogger("asyncio").disabled = True  # whose error asyncio would print as the process exits
        raise
    try:
        (tmp / KERNEL_LOG).unlink(missing_ok=True)  # the kernel's own messages matter only for a failed run
        _record_final_folder(tmp, out)
        html = _export_html(executed, tmp / "assessment.html", exporter.result())
        counts = json.loads((tmp / "summary.json").read_text(encoding="utf-8")).get("counts", {})
        swap_in(staging, "report")
    except BaseException:
        staging.discard()
        raise
    remove_owned(out.with_name(out.name + ".failed"), "failed-run")
    return RunResult(out=out, html=out / html.name, notebook=out / "assessment.ipynb",
                     seconds=round(time.perf_counter() - start, 2), counts=counts,
                     html_bytes=(out / html.name).stat().st_size)


def main(argv: list[str] | None = None) -> int:
    """``python -m hybridx_nb.app.runner SPEC.json``: SPEC holds ``params``, ``out`` and ``result`` (where the outcome
    goes as JSON). One client per process, so a crash or a leak cannot touch the others."""
    argv = sys.argv[1:] if argv is None else argv
    # stopped by the batch (timeout, Ctrl-C): unwind, so the kernel is shut down and the temporary folder removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    outcome: dict[str, Any]
    try:
        result = run_assessment(spec["params"], spec["out"], progress=False)
        outcome = {"ok": True, **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()}}
    except NotebookFailed as exc:
        outcome = {"ok": False, "error": str(exc), "cell": exc.cell, "notebook": str(exc.notebook) if exc.kept else ""}
    except HybridxError as exc:
        outcome = {"ok": False, "error": str(exc)}
    Path(spec["result"]).write_text(json.dumps(outcome, default=str), encoding="utf-8")
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
