"""The readiness context takes the engine's pairs as a frame or as a function called only when a rule needs them
(so the rules can run beside the engine): both give the same readiness rows."""

from __future__ import annotations

import pandas as pd

from hybridx_nb.app.assess import matched_pairs
from hybridx_nb.demo.tenant import generate
from hybridx_nb.engine.match import predict
from hybridx_nb.readiness.context import build_context
from hybridx_nb.readiness.rules import run_rules


def test_pairs_given_late_give_the_same_rows() -> None:
    snap = generate(300).snapshot
    pairs = matched_pairs(predict(snap).findings)
    calls = []

    def later() -> pd.DataFrame:
        calls.append(1)
        return pairs

    pd.testing.assert_frame_equal(run_rules(snap, pairs=later), run_rules(snap, pairs=pairs))
    assert calls == [1]  # asked for once, when the first rule needed them


def test_the_function_is_not_called_while_building_the_context() -> None:
    snap = generate(100).snapshot

    def fail() -> pd.DataFrame:
        raise AssertionError("called too early")

    ctx = build_context(snap, pairs=fail)
    assert len(ctx.users) > 0
