"""The page around the sections: its paper size (parameter, else locale, else A4) and CSS scoped to the page."""

from __future__ import annotations

import re

import pytest
from support.report_frames import assessment_for, hand_snapshot

from hybridx_nb import report
from hybridx_nb.app import assess
from hybridx_nb.core.errors import HybridxError
from hybridx_nb.report.page import paper


@pytest.mark.parametrize(("env", "expected"), [
    ({"LANG": "en_US.UTF-8"}, "Letter"), ({"LANG": "de_DE.UTF-8"}, "A4"), ({"LANG": "fr_CA"}, "Letter"),
    ({"LC_PAPER": "en_GB.UTF-8", "LANG": "en_US.UTF-8"}, "A4"), ({"LANG": "C.UTF-8"}, "A4"), ({}, "A4"),
])
def test_paper_from_the_locale(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for name in ("LC_PAPER", "LC_ALL", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert paper() == expected
    assert paper("Letter") == "Letter"


def test_title_sets_the_paper_and_scopes_page_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    a = assessment_for(hand_snapshot(), paper="Letter")
    page = report.title(report.prepare(a)).data
    assert "@page{size:Letter" in page
    # rules that would hide JupyterLab's prompts or restyle its page apply only to the exported page (body.hx-page)
    css = page.split("<style>", 1)[1].split("</style>", 1)[0]
    selectors = [s.strip() for block in re.findall(r"([^{}]+)\{", css) for s in block.split(",")]
    page_wide = [s for s in selectors if re.search(r"(^|\s)(body|main|code)\b|\.jp-", s)]
    assert page_wide and all(".hx-page" in s or s.startswith("[class^=hx-]") for s in page_wide), page_wide
    with pytest.raises(HybridxError, match="paper must be one of"):
        assess.validate_params({"snapshot": ".", "paper": "A3"})
