"""The proxy address view: what uniqueness compares is the same whether built from the split values or whole."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from hybridx_nb.readiness.views import proxy_keys, proxy_view

_PREFIXES = ["SMTP:", "smtp:", "SmTp:", "X500:", "sip:", "ſmtp:", "", ":", "SMTP"]
_ADDRESS = st.text(st.sampled_from(list("aZ@.:-") + ["Ü", "ß", "İ", "K"]), max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(st.tuples(st.sampled_from(_PREFIXES), _ADDRESS).map("".join),
                                              max_size=4)), min_size=1, max_size=8))
def test_the_keys_of_the_view_are_proxy_keys(lists: list[list[str] | None]) -> None:
    """Only SMTP addresses, none, or a mix (any letter case, non-ASCII, no colon): the view's key per value is
    ``proxy_keys``'s."""
    frame = pd.DataFrame({"proxy_addresses": pd.Series(pd.arrays.ArrowExtensionArray(
        pa.array(lists, pa.list_(pa.string()))))})
    view = proxy_view(frame)
    assert view.key().to_pylist() == proxy_keys(view.value)[0].to_pylist()
