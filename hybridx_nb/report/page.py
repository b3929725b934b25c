"""The page around the sections: its CSS and script (files in ``assets/``) and the title block."""

from __future__ import annotations

from importlib import resources

from IPython.display import HTML

from hybridx_nb import __version__
from hybridx_nb.report.data import ReportData
from hybridx_nb.report.html import esc


def _asset(name: str) -> str:
    return resources.files("hybridx_nb.report").joinpath("assets", name).read_text(encoding="utf-8")


def title(d: ReportData) -> HTML:
    """The page's CSS and script (once), then the title block."""
    redacted = '<span class="hx-badge">pseudonymised</span>' if d.redacted else ""
    return HTML(f"<style>{_asset('report.css')}</style><script>{_asset('report.js')}</script>"
                f'<header class="hx-header"><h1>Entra Connect first-sync assessment: {esc(d.client)}</h1>'
                f'<p class="hx-sub">Generated {esc(d.generated)} · hybridx {esc(__version__)} {redacted}</p></header>')
