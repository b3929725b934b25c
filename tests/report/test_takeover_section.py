"""The report's takeover and Hybrid Exchange sections on the demo tenant: who loses which addresses and values,
each Exchange state explained with its fix, escaped, and pseudonymised when redacted."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from hybridx_nb import report
from hybridx_nb.app import assess
from hybridx_nb.core.vocabulary import EXCHANGE_LABELS
from hybridx_nb.demo.tenant import generate, write_exports


@pytest.fixture(scope="module")
def assessed(tmp_path_factory: pytest.TempPathFactory):
    tenant = generate(users=300)
    folder = tmp_path_factory.mktemp("demo")
    files = write_exports(tenant, folder / "in")
    params = assess.validate_params({**{k: str(v) for k, v in files.items()}, "out": str(folder / "out")})
    return tenant, assess.run(params)


def test_who_loses_which_addresses_and_values(assessed) -> None:
    tenant, a = assessed
    page = html.unescape(report.takeover_section(report.prepare(a)).data)
    truth = tenant.takeover_truth
    for row in truth[truth["status"].eq("lost")].itertuples():
        assert row.cloud_value in page
    cloud = tenant.snapshot["entra_users"].set_index("id")
    for row in truth[truth["case"].isin(["cloud_title", "okta_mail_only"])].head(5).itertuples():
        assert cloud.loc[row.entra_id, "upn"] in page
    assert "users lose mail addresses" in page.lower() or "user(s) lose mail addresses" in page
    assert "<details>" in report.takeover_section(report.prepare(a)).data  # the full detail is collapsed


def test_every_exchange_state_is_explained(assessed) -> None:
    _, a = assessed
    page = html.unescape(report.exchange_section(report.prepare(a)).data)
    for label in EXCHANGE_LABELS.values():
        assert label in page
    assert "PermanentlyClearPreviousMailboxInfo" in page and "Enable-RemoteMailbox" in page
    assert "Set-RemoteMailbox -ExchangeGuid" in page and "X500" in page


def test_redacted_sections_hide_names(assessed) -> None:
    tenant, a = assessed
    a.params.redact, a.params.redact_key = True, None
    try:
        view = report.prepare(a)
    finally:
        a.params.redact = False
    page = report.takeover_section(view).data + report.exchange_section(view).data
    lost = tenant.takeover_truth.loc[tenant.takeover_truth["case"].eq("cloud_alias"), "cloud_value"]
    assert not any(v.split(":", 1)[1] in page for v in lost)
    assert "@contoso.com" not in page
    sheets = report.xlsx_extra(view)
    assert set(sheets) == {"Takeover", "Exchange"} and not sheets["Takeover"]["entra_upn"].str.endswith(
        "@contoso.com").any()


def test_outputs_and_summary(assessed, tmp_path: Path) -> None:
    _, a = assessed
    paths = assess.write_outputs(a, tmp_path)
    for name in ("takeover.csv", "ad-backfill.csv", "ad-backfill.ps1", "exchange-plan.csv", "exchange-fixes.ps1"):
        assert name in paths and paths[name].is_file()
    summary = assess.summary(a)
    assert summary["takeover"]["users_losing_addresses"] > 0 and summary["timings"]["takeover"] >= 0
    assert sum(summary["exchange"]["findings"].values()) == len(a.impact.exchange.findings)
    titles = [s.title for s in a.plan.runbook]
    assert titles.index("Before leaving staging: copy the cloud values the takeover would lose into AD") \
        < titles.index("Leave staging mode")
    assert [s.number for s in a.plan.runbook] == list(range(1, len(titles) + 1))
