"""The executed notebook as the shareable HTML page: nbconvert's lab layout with the report's own template.

Imported only when a run has a notebook to export (``runner`` builds the exporter in a thread while the kernel
runs: importing nbconvert and loading its Jinja templates take a second).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import TagRemovePreprocessor

NOTEBOOK_TAG_HIDDEN = "notebook-only"
TEMPLATE = Path(__file__).parents[1] / "report" / "templates" / "report.html.j2"

_FOCUSABLE = re.compile(r'<div class="([^"<>]*\b(?:jp-OutputArea-output|jp-Cell-inputWrapper)\b[^"<>]*)"')


class ReportExporter(HTMLExporter):
    """nbconvert's HTML exporter without its last pass over the finished page.

    ``HTMLExporter.from_notebook_node`` parses the whole page with BeautifulSoup to add alt text to images without
    one and ``tabindex="0"`` to each output and Markdown cell, then serialises it again: at a million users that is 1.7 s of the
    run's critical path for 12,000 tags. Every image of the report has alt text (``report.verdict``), and the
    outputs and Markdown cells get their ``tabindex`` here from the template's own markup, so the page keyboard users reach is the
    same. The steps before the template are nbconvert 7.17's (``requirements.txt`` pins it).
    """

    def from_notebook_node(self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None,
                           **kw: Any) -> tuple[str, dict[str, Any]]:
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _FOCUSABLE.sub(r'<div class="\1" tabindex="0"', html), resources


def html_exporter() -> ReportExporter:
    """The exporter as the report uses it (no code cells or prompts, no notebook-only cells), templates loaded."""
    exporter = ReportExporter(template_name="lab", template_file=str(TEMPLATE), exclude_input=True,
                              exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={NOTEBOOK_TAG_HIDDEN}, enabled=True),
                                   enabled=True)
    _ = exporter.template  # loads the templates now
    return exporter


def export_html(notebook: Path, html_path: Path, csp: str, exporter: ReportExporter | None = None) -> Path:
    """Write ``notebook`` as a self-contained page without stderr noise; ``csp`` is its Content-Security-Policy."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    body, _ = (exporter or html_exporter()).from_notebook_node(nb, resources={"hybridx_csp": csp})
    html_path.write_text(body, encoding="utf-8")
    return html_path
