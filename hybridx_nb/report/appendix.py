"""Section 6: provenance, parameters (references only), rows set aside, timings and version."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML

from hybridx_nb import __version__
from hybridx_nb.report.data import ReportData
from hybridx_nb.report.html import esc, kv, table


def appendix(d: ReportData) -> HTML:
    """Section 6: where the data came from, parameters (references only), timings, version."""
    m = d.manifest
    tables = m.get("tables", {})
    rows = []
    for name in sorted(set(d.inputs) | set(tables)):
        meta = tables.get(name, {})
        rows.append({"table": name, "source": d.sources.get(name) or meta.get("source", ""),
                     "rows": d.inputs.get(name, meta.get("rows")), "sha256": (meta.get("sha256") or "")[:16]})
    prov = table(pd.DataFrame(rows), {"table": "Table", "source": "Source", "rows": "Rows",
                                      "sha256": "SHA-256 (first 16) of the file read"}, interactive=False, limit=100)
    facts = [("hybridx version", __version__), ("Snapshot created", m.get("created", "not saved as a snapshot")),
             ("Snapshot written by", m.get("hybridx_version", "")), ("Report generated", d.generated),
             ("Rows set aside (rejected)", f"{len(d.rejected):,}")]
    params = {k: v for k, v in d.parameters.items() if k != "out"}
    out = [kv(facts), "<h3>Sources</h3>", prov]
    if d.assumptions:
        out += [f"<h3>Assumptions ({len(d.assumptions)})</h3><ul>"
                + "".join(f"<li>{esc(a)}</li>" for a in d.assumptions) + "</ul>"]
    if len(d.rejected):
        out += ["<h3>Rows set aside</h3>", table(d.rejected, {"table": "Table", "source": "Source", "line": "Line",
                                                            "key": "Key", "reason": "Reason"},
                                                 more="The full list is in rejected.csv.")]
    out += ["<h3>Parameters</h3>", kv((k, "" if v is None else v) for k, v in params.items()),
            "<h3>Timings (seconds)</h3>", kv(d.timings.items())]
    return HTML('<section id="appendix">' + "".join(out) + "</section>")
