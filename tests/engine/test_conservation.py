"""The engine's conservation check on row numbers: it names every missing or repeated row and wrong sides."""

from __future__ import annotations

import pandas as pd
import pytest

from hybridx_nb.core.vocabulary import CATEGORIES
from hybridx_nb.engine.conservation import check_rows

CAT = {name: i for i, name in enumerate(CATEGORIES)}
AD = pd.DataFrame({"object_guid": ["g0", "g1", "g2"]})
CLOUD = pd.DataFrame({"id": ["c0", "c1"]})


def rows(*items: tuple[int, int, str]) -> pd.DataFrame:
    return pd.DataFrame({"_ad": [a for a, _, _ in items], "_cl": [c for _, c, _ in items],
                         "cat": [CAT[k] for _, _, k in items]})


def test_every_row_once_with_the_right_sides_passes() -> None:
    check_rows(rows((0, 0, "hard_match"), (1, -1, "new_user"), (2, -1, "excluded"), (-1, 1, "cloud_only")), AD, CLOUD)


def test_missing_and_repeated_rows_are_named() -> None:
    with pytest.raises(AssertionError) as err:
        check_rows(rows((0, 0, "hard_match"), (0, -1, "new_user"), (-1, 0, "orphan_anchor"), (-1, 1, "cloud_only")),
                   AD, CLOUD)
    text = str(err.value)
    assert "AD row g0: appears 1 extra time(s)" in text
    assert "AD row g1: missing" in text and "AD row g2: missing" in text
    assert "cloud row c0: appears 1 extra time(s)" in text and "c1" not in text


def test_wrong_sides_for_a_category_are_counted() -> None:
    with pytest.raises(AssertionError, match="2 row\\(s\\) with the wrong sides"):
        check_rows(rows((0, -1, "hard_match"), (1, 0, "new_user"), (2, -1, "excluded"), (-1, 1, "cloud_only")),
                   AD, CLOUD)
