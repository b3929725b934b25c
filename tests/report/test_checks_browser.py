"""staging-check.html in a real headless Chromium: opens from disk without requests or errors, a hostile display
name stays text, and the tables filter offline like the report's."""

from __future__ import annotations

import pandas as pd
import pytest
from test_browser import _open, browser  # noqa: F401  (the module's Chromium fixture)

from hybridx_nb.report.checks import staging_page, write_page
from hybridx_nb.verify.staging import check_staging

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_staging_page_in_chromium(browser, tmp_path):  # noqa: F811
    findings = pd.DataFrame({"category": ["new_user"] * 8, "ad_dn": [f"CN=u{i}" for i in range(8)],
                             "ad_upn": [f"u{i}@contoso.com" for i in range(8)], "ad_mail": [None] * 8,
                             "expected_immutable_id": [f"A{i}" for i in range(8)], "entra_id": [None] * 8,
                             "entra_upn": [None] * 8, "immutable_id": [None] * 8, "entra_mail": [None] * 8,
                             "ad_display_name": ["x"] * 8}).astype("str")
    pending = pd.DataFrame({"operation": ["add"] * 8 + ["delete"], "source_anchor": [f"A{i}" for i in range(9)],
                            "upn": [f"u{i}@contoso.com" for i in range(9)], "object_type": "user",
                            "smtp": None, "display_name": ["<img src=x onerror=alert(1)>"] * 9,
                            "cs_dn": [f"CN={{{i}}}" for i in range(9)], "record": range(1, 10)}).astype(
        {"operation": "str", "upn": "str"})
    check = check_staging(pending, findings)
    html = write_page(staging_page(check, "Contoso <Ltd>", {"pending export": "export.xml"}), tmp_path / "s.html")
    page, events = _open(browser, html)
    try:
        assert page.title() == "Entra Connect staging check: Contoso <Ltd>"
        assert page.locator(".hx-rec-bad").inner_text().startswith("NOT safe to leave staging: 1 Delete(s)")
        assert page.locator("img").count() == 0 and not events["dialog"]
        box = page.locator("#expected_add .hx-filter")
        box.fill("u3@")
        assert page.locator("#expected_add tbody:visible").count() == 1
        assert events["console"] == events["pageerror"] == events["request"] == []
    finally:
        page.close()
