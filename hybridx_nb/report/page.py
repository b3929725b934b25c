"""The page around the sections: its CSS and script (files in ``assets/``) and the title block."""

from __future__ import annotations

import base64
import hashlib
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
    - images from ``data:`` URIs (the chart is a PNG inside the page).
    """
    digest = base64.b64encode(hashlib.sha256(_asset("report.js").encode("utf-8")).digest()).decode("ascii")
    return ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'")


def title(d: ReportData) -> HTML:
    """The page's CSS and script (once), then the title block."""
    redacted = '<span class="hx-badge">pseudonymised</span>' if d.redacted else ""
    return HTML(f"<style>{_asset('report.css')}</style><script>{_asset('report.js')}</script>"
                f'<header class="hx-header"><h1>Entra Connect first-sync assessment: {esc(d.client)}</h1>'
                f'<p class="hx-sub">Generated {esc(d.generated)} · hybridx {esc(__version__)} {redacted}</p></header>')
