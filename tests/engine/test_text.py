"""The findings' sentences: built block by block when the categories come in runs (the engine's order), and the
same sentences when the categories are interleaved and built category by category; either way one array each."""

from __future__ import annotations

import pandas as pd

from hybridx_nb.core.columns import arrow_text
from hybridx_nb.demo.tenant import generate
from hybridx_nb.engine import match, text


def test_interleaved_categories_get_the_same_sentences(monkeypatch) -> None:
    seen = []  # the engine's frame as add_text receives it (with its working columns)

    def keep(f: pd.DataFrame, *args) -> None:
        seen.append((f.copy(), args))
        text.add_text(f, *args)

    monkeypatch.setattr(match, "add_text", keep)
    match.predict(generate(users=400, seed=3).snapshot)
    (frame, args), = seen
    assert frame["category"].nunique() >= 5
    shuffled = frame.sample(frac=1, random_state=1)
    assert int((shuffled["category"] != shuffled["category"].shift()).sum()) > text._BLOCKS  # by category
    assert int((frame["category"] != frame["category"].shift()).sum()) <= text._BLOCKS  # block by block
    blocks, mixed = frame.copy(), shuffled.reset_index(drop=True)
    text.add_text(blocks, *args)
    text.add_text(mixed, *args)
    mixed.index = shuffled.index
    for col in ("reason", "action"):
        pd.testing.assert_series_equal(mixed[col].sort_index(), blocks[col])
    assert blocks["reason"].notna().all() and blocks["action"].notna().all()
    for built in (blocks, mixed):  # one Arrow array each: a take on a chunked column joins its chunks first
        assert all(arrow_text(built[col]).num_chunks == 1 for col in ("reason", "action"))
