"""The report's HTML exporter gives the page nbconvert's own exporter gives, without its BeautifulSoup pass."""

from __future__ import annotations

from pathlib import Path

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from hybridx_nb.app.html_export import TEMPLATE, export_html, html_exporter


def _notebook() -> nbformat.NotebookNode:
    table = '<table class="hx"><tr><td>&lt;img src=x onerror=alert(1)&gt;</td><td>jp-OutputArea-output</td></tr></table>'
    return new_notebook(cells=[
        new_markdown_cell("# 1. Verdict\n\nSome *Markdown* with `code` and a [link](https://example.org)."),
        new_code_cell("report.verdict(view)", outputs=[
            new_output("display_data", data={"text/html": table, "text/plain": "<table>"}),
            new_output("display_data", data={"text/html": '<figure><img src="data:image/png;base64,AA==" '
                                                          'alt="3 users"></figure>'}),
            new_output("stream", name="stdout", text="printed\n"),
            new_output("execute_result", data={"text/plain": "42"}, execution_count=1),
        ]),
        new_markdown_cell("Closing words."),
    ])


def _tags(html: str) -> list[tuple[str, dict[str, object]]]:
    return [(t.name, t.attrs) for t in BeautifulSoup(html, "html.parser").find_all(True)]


def test_the_page_has_the_tags_and_attributes_nbconvert_gives(tmp_path: Path) -> None:
    nb = _notebook()
    exporter = html_exporter()
    ours, _ = exporter.from_notebook_node(nb, resources={"hybridx_csp": "default-src 'none'"})
    theirs = HTMLExporter(template_name="lab", template_file=str(TEMPLATE), exclude_input=True,
                          exclude_input_prompt=True, exclude_output_prompt=True)
    reference, _ = theirs.from_notebook_node(nb, resources={"hybridx_csp": "default-src 'none'"})
    assert _tags(ours) == _tags(reference)
    soup = BeautifulSoup(ours, "html.parser")
    focusable = soup.select("[tabindex='0']")
    assert len(focusable) == 6  # four outputs and two Markdown cells
    assert not soup.select("img:not([alt])")
    assert "onerror" not in str(soup.find_all("img"))  # escaped data stays text


def test_export_drops_stderr_and_writes_the_page(tmp_path: Path) -> None:
    nb = _notebook()
    nb.cells[1].outputs.append(new_output("stream", name="stderr", text="a warning\n"))
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    html = export_html(path, tmp_path / "run.html", "default-src 'none'").read_text(encoding="utf-8")
    assert "printed" in html and "a warning" not in html
    assert 'content="default-src &#39;none&#39;"' in html
