"""The report stage: one module per section of assessment.html, called by the notebook in page order.

``prepare`` gathers (and pseudonymises) what the page shows; each section function returns HTML.
"""

from hybridx_nb.report.appendix import appendix
from hybridx_nb.report.data import ReportData, prepare
from hybridx_nb.report.errors import clean_errors
from hybridx_nb.report.exchange import exchange_section
from hybridx_nb.report.findings import findings_sections
from hybridx_nb.report.page import title
from hybridx_nb.report.plan import plan_section
from hybridx_nb.report.readiness import readiness_section
from hybridx_nb.report.since import since_section
from hybridx_nb.report.takeover import takeover_section, xlsx_extra
from hybridx_nb.report.tenant import tenant_facts
from hybridx_nb.report.verdict import headline, recommendation, verdict, xlsx_summary

__all__ = ["ReportData", "appendix", "clean_errors", "exchange_section", "findings_sections", "headline",
           "plan_section", "prepare", "readiness_section", "recommendation", "since_section", "takeover_section",
           "tenant_facts", "title", "verdict", "xlsx_extra", "xlsx_summary"]
