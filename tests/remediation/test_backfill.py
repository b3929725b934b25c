"""ad-backfill and the Exchange plan on the demo tenant: the rows restore what the takeover would lose, the CSVs
carry every value, the scripts are fixed code that parses, and the runbook has their steps."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.powershell import syntax_errors

from hybridx_nb.demo.tenant import generate
from hybridx_nb.engine.match import EngineSettings, predict
from hybridx_nb.engine.takeover import takeover_impact
from hybridx_nb.readiness.exchange import exchange_readiness
from hybridx_nb.remediation import backfill, exchange_plan
from hybridx_nb.snapshot.store import build_snapshot


@pytest.fixture(scope="module")
def demo():
    tenant = generate(users=400, seed=3)
    findings = predict(tenant.snapshot, EngineSettings()).findings
    return tenant, findings, takeover_impact(tenant.snapshot, findings)


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _apply(ad: pd.DataFrame, rows: list[dict[str, str]]) -> pd.DataFrame:
    """What ad-backfill.ps1 -Apply does, row by row, to a copy of the AD table (its dry run reports exactly these
    rows as WouldAdd/WouldSet)."""
    ad = ad.copy()
    proxies = {g: list(p) for g, p in zip(ad["object_guid"], ad["proxy_addresses"])}
    for row in rows:
        i = np.flatnonzero(ad["object_guid"].to_numpy() == row["ObjectGuid"])[0]
        if row["Operation"] == "AddProxyAddress":
            proxies[row["ObjectGuid"]].append(row["Value"])
        else:
            column = {"mail": "mail", "mobile": "mobile", "title": "title"}[row["Attribute"]]
            assert pd.isna(ad.at[i, column]) and row["ExpectedCurrent"] == ""  # only ever fills an empty value
            ad.at[i, column] = row["Value"]
    ad["proxy_addresses"] = [proxies[g] for g in ad["object_guid"]]
    return ad


def test_backfill_restores_what_the_takeover_loses(demo, tmp_path: Path) -> None:
    tenant, findings, result = demo
    paths = backfill.write_backfill(result.changes, tmp_path, ("proxyAddresses", "mail", "mobilePhone"))
    rows = _read(paths[backfill.PLAN_CSV])
    truth = tenant.takeover_truth
    lost = truth[truth["status"].eq("lost")]
    assert len([r for r in rows if r["Operation"] == "AddProxyAddress"]) == len(lost)
    assert {r["Value"].lower() for r in rows if r["Attribute"] == "proxyAddresses"} == \
        set(lost["cloud_value"].str.lower())
    cleared = truth[truth["attribute"].isin(["mail", "mobilePhone"])]
    assert len([r for r in rows if r["Operation"] == "SetAttribute"]) == len(cleared)
    snap = tenant.snapshot
    fixed = build_snapshot({**{n: f for n, f in snap.tables.items() if n != "rejected"},
                            "ad_users": _apply(snap["ad_users"], rows)}, snap.tenant, coverage=snap.coverage)
    after = takeover_impact(fixed, findings).changes
    assert not after["status"].eq("lost").any()
    assert not after[after["attribute"].isin(["mail", "mobilePhone"])]["status"].eq("cleared").any()
    undo = _read(paths[backfill.ROLLBACK_CSV])
    assert [(u["Operation"], u["Value"]) for u in undo] == [
        ({"AddProxyAddress": "RemoveProxyAddress", "SetAttribute": "ClearAttribute"}[r["Operation"]], r["Value"])
        for r in rows]


def test_scripts_are_fixed_code_that_parses(demo, tmp_path: Path) -> None:
    tenant, findings, result = demo
    paths = backfill.write_backfill(result.changes, tmp_path)
    paths |= exchange_plan.write_exchange_plan(exchange_readiness(tenant.snapshot, findings).findings, tmp_path)
    for name in (backfill.SCRIPT, exchange_plan.SCRIPT):
        text = paths[name].read_text(encoding="utf-8")
        assert syntax_errors(text) == [], name
        assert "contoso" not in text.lower()  # no directory value in the code: values come from the CSVs
        assert "-Apply" in text and "Rollback" in text
    assert paths[backfill.SCRIPT].read_bytes() == backfill.script_text()


def test_exchange_plan_rows(demo, tmp_path: Path) -> None:
    tenant, findings, _ = demo
    readiness = exchange_readiness(tenant.snapshot, findings)
    paths = exchange_plan.write_exchange_plan(readiness.findings, tmp_path)
    rows = _read(paths[exchange_plan.PLAN_CSV])
    actions = [r["Action"] for r in rows]
    assert actions == sorted(actions, key=["EnableRemoteMailbox", "SetExchangeGuid", "AddX500",
                                           "ClearPreviousMailboxInfo", "ReviewLicence"].index)
    by = {f: readiness.findings["finding"].eq(f).sum() for f in readiness.findings["finding"].unique()}
    assert actions.count("EnableRemoteMailbox") == by["no_remote_mailbox"]
    assert actions.count("ClearPreviousMailboxInfo") == by["mailbox_both_sides"]
    assert all(r["Approved"] == "" for r in rows)  # a person approves the destructive rows
    enable = next(r for r in rows if r["Action"] == "EnableRemoteMailbox")
    assert enable["RoutingAddress"].endswith("@contoso.mail.onmicrosoft.com") and len(enable["NewValue"]) == 36
    x500 = next(r for r in rows if r["Action"] == "AddX500")
    assert x500["NewValue"].startswith("X500:/o=ExchangeLabs/")
    undo = _read(paths[exchange_plan.ROLLBACK_CSV])
    assert {u["Action"] for u in undo} <= {"DisableRemoteMailbox", "SetExchangeGuid", "RemoveX500"}
    swap = next(u for u in undo if u["Action"] == "SetExchangeGuid")
    orig = next(r for r in rows if r["Action"] == "SetExchangeGuid" and r["Identity"] == swap["Identity"])
    assert (swap["ExpectedCurrent"], swap["NewValue"]) == (orig["NewValue"], orig["ExpectedCurrent"])


def test_backfill_parameter_is_checked() -> None:
    assert backfill.chosen(None) == ("proxyAddresses", "mail")
    assert backfill.chosen("proxyAddresses, jobTitle") == ("proxyAddresses", "jobTitle")
    with pytest.raises(ValueError, match="manager"):
        backfill.chosen("manager")
