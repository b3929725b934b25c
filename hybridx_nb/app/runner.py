"""Run the assessment notebook for one client through papermill and turn it into the shareable HTML report.

The notebook runs in its own kernel process and writes into a temporary sibling of the output folder; only a
complete report set is renamed into place, so a crash never leaves a half-written report. A failing run keeps the
partially executed notebook in ``<out>.failed/`` (the previous good report stays) and the error names the cell.
``python -m hybridx_nb.app.runner SPEC.json`` runs one client in a fresh process (used by ``hybridx batch``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hybridx_nb.app.paths import resolve_paths
from hybridx_nb.core.errors import HybridxError

NOTEBOOK_TAG_HIDDEN = "notebook-only"
KERNEL = "python3"


def notebook_path() -> Path:
    """The one notebook (package data; ``notebooks/assessment.ipynb`` in the repository links to it)."""
    return Path(str(resources.files("hybridx_nb") / "notebooks" / "assessment.ipynb"))


def template_path() -> Path:
    return Path(str(resources.files("hybridx_nb.report") / "templates" / "report.html.j2"))


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

    def __init__(self, cell: str, message: str, notebook: Path) -> None:
        self.cell, self.message, self.notebook = cell, message, notebook
        super().__init__(f"the assessment stopped in {cell}: {message}\n  partially executed notebook: {notebook}")


def prepare_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Validated parameters with absolute paths (the kernel may run elsewhere); raises HybridxError."""
    from hybridx_nb.app.assess import validate_params

    resolved = resolve_paths(raw, Path.cwd())
    validate_params(resolved)
    return resolved


def export_html(notebook: Path, html_path: Path) -> Path:
    """nbconvert without code cells or prompts, without notebook-only cells and stderr noise; self-contained."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    exporter = HTMLExporter(template_name="lab", template_file=str(template_path()), exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={NOTEBOOK_TAG_HIDDEN}, enabled=True),
                                   enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    html_path.write_text(body, encoding="utf-8")
    return html_path


def _swap(tmp: Path, dest: Path) -> None:
    """Put the finished folder ``tmp`` at ``dest``, replacing what was there."""
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        os.replace(dest, old / dest.name)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


def _failed_cell(exc: Exception, notebook: Path) -> str:
    """The failing cell by its id and first line (papermill adds an error banner cell, so indexes shift)."""
    try:
        import nbformat

        cells = nbformat.read(notebook, as_version=4).cells
        code = [c for c in cells if c.cell_type == "code"]
        for number, cell in enumerate(code, start=1):
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
                return f"code cell {number} ({cell.get('id', '?')}: {first!r})"
    except Exception:  # the notebook may not have been written at all
        pass
    count = getattr(exc, "exec_count", None)
    return f"the cell executed as In [{count}]" if count else "the notebook"


def _fix_summary(folder: Path, out: Path) -> None:
    """summary.json names the final folder, not the temporary one the kernel wrote into."""
    path = folder / "summary.json"
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        data.setdefault("parameters", {})["out"] = str(out)
        path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


INPUTS = ("snapshot", "ad", "entra", "okta", "okta_app_users", "tenant")


def _keep_inputs(raw: dict[str, Any], out: Path, tmp: Path) -> None:
    """Inputs that live inside the output folder (``hybridx demo`` writes its export files to ``out/inputs``)
    move into the new folder, so that replacing the folder does not delete them."""
    for name in INPUTS:
        value = raw.get(name)
        if not value:
            continue
        src = Path(value)
        try:
            rel = src.relative_to(out)
        except ValueError:
            continue
        dest = tmp / rel
        if src.exists() and not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, dest)


def run_assessment(params: dict[str, Any], out: str | Path, *, progress: bool = False) -> RunResult:
    """Execute the notebook for one client and write the report set into ``out`` (replaced atomically)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    raw = prepare_params(params)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the report folder is an ordinary folder
    raw["out"] = str(tmp)
    executed = tmp / "assessment.ipynb"
    try:
        pm.execute_notebook(str(notebook_path()), str(executed), parameters=raw, kernel_name=KERNEL,
                            progress_bar=progress, log_output=False, cwd=str(Path.cwd()))
    except PapermillExecutionError as exc:
        cell = _failed_cell(exc, executed)
        message = str(getattr(exc, "evalue", "") or exc).strip()
        (tmp / "error.txt").write_text(f"{cell}\n{getattr(exc, 'ename', '')}: {message}\n", encoding="utf-8")
        if executed.is_file():
            export_html(executed, tmp / "assessment.html")
        failed = out.with_name(out.name + ".failed")
        _swap(tmp, failed)
        raise NotebookFailed(cell, message, failed / "assessment.ipynb") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        html = export_html(executed, tmp / "assessment.html")
        _fix_summary(tmp, out)
        _keep_inputs(raw, out, tmp)
        counts = json.loads((tmp / "summary.json").read_text(encoding="utf-8")).get("counts", {})
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap(tmp, out)
    shutil.rmtree(out.with_name(out.name + ".failed"), ignore_errors=True)
    return RunResult(out=out, html=out / html.name, notebook=out / "assessment.ipynb",
                     seconds=round(time.perf_counter() - start, 2), counts=counts,
                     html_bytes=(out / html.name).stat().st_size)


def main(argv: list[str] | None = None) -> int:
    """``python -m hybridx_nb.app.runner SPEC.json``: SPEC holds ``params``, ``out`` and ``result`` (where the outcome
    goes as JSON). One client per process, so a crash or a leak cannot touch the others."""
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    outcome: dict[str, Any]
    try:
        result = run_assessment(spec["params"], spec["out"], progress=False)
        outcome = {"ok": True, **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()}}
    except NotebookFailed as exc:
        outcome = {"ok": False, "error": str(exc), "cell": exc.cell, "notebook": str(exc.notebook)}
    except HybridxError as exc:
        outcome = {"ok": False, "error": str(exc)}
    Path(spec["result"]).write_text(json.dumps(outcome, default=str), encoding="utf-8")
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
