"""The page around the sections: its CSS and script (files in ``assets/``) and the title block."""

from __future__ import annotations

import base64
import hashlib
import os
from importlib import resources

from IPython.display import HTML

from hybridx_nb import __version__
from hybridx_nb.report.data import ReportData
from hybridx_nb.report.html import esc


def _asset(name: str) -> str:
    return resources.files("hybridx_nb.report").joinpath("assets", name).read_text(encoding="utf-8")


def content_security_policy() -> str:
    """The report page's Content-Security-Policy (a ``<meta>`` in its head): nothing from anywhere, except

    - styles inline (``'unsafe-inline'``: the page's own ``<style>`` blocks and the category colours in
      ``style`` attributes; styles cannot run code),
    - the one inline script (report.js: sorting and filtering), allowed by its SHA-256 hash rather than by
      ``'unsafe-inline'``, so a script that reached the page any other way (an escaping bug, a hand edit) is
      blocked,
    - images from ``data:`` URIs (the chart is an SVG drawing inside the page; in an ``<img>`` it runs no script).
    """
    digest = base64.b64encode(hashlib.sha256(_asset("report.js").encode("utf-8")).digest()).decode("ascii")
    return ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'")


#: Territories whose paper is US Letter (CLDR's paperSize data); everywhere else prints on A4.
LETTER_TERRITORIES = frozenset({"US", "CA", "MX", "CL", "CO", "CR", "GT", "PA", "PH", "PR", "SV", "VE", "NI",
                                "DO", "BZ"})


def paper(value: str | None = None) -> str:
    """``A4`` or ``Letter``: the parameter when given, else from the locale (``LC_PAPER``, ``LC_ALL``, ``LANG``:
    ``en_US.UTF-8`` → Letter), else A4."""
    if value:
        return value
    for name in ("LC_PAPER", "LC_ALL", "LANG"):
        tag = os.environ.get(name, "")
        if tag and tag not in ("C", "POSIX") and not tag.startswith("C."):
            territory = tag.split(".")[0].split("@")[0].replace("-", "_").rpartition("_")[2].upper()
            return "Letter" if territory in LETTER_TERRITORIES else "A4"
    return "A4"


def title(d: ReportData) -> HTML:
    """The page's CSS and script (once), the paper it prints on, then the title block."""
    redacted = '<span class="hx-badge">pseudonymised</span>' if d.redacted else ""
    size = paper(d.parameters.get("paper"))
    return HTML(f"<style>{_asset('report.css')}@page{{size:{size};margin:10mm}}</style>"
                f"<script>{_asset('report.js')}</script>"
                f'<header class="hx-header"><h1>Entra Connect first-sync assessment: {esc(d.client)}</h1>'
                f'<p class="hx-sub">Generated {esc(d.generated)} · hybridx {esc(__version__)} {redacted}</p></header>')
