"""The object-valued Graph properties (extension attributes, manager) read as Arrow structs give exactly what the
per-record reading gives, for regular objects, PascalCase keys (ConvertTo-Json), nulls and irregular values."""

from __future__ import annotations

import pandas as pd
import pytest

from hybridx_nb.sources import common
from hybridx_nb.sources.files import entra_objects

RECORDS = [
    ({"extensionAttribute1": "a", "extensionAttribute15": "z"}, {"id": "m1", "@odata.type": "#microsoft.graph.user"}),
    ({"ExtensionAttribute1": "pascal", "extensionAttribute2": None}, None),
    (None, {"Id": "m2"}),
    ({"extensionAttribute3": ""}, {"id": None}),
]


def _per_record(ext: list, managers: list) -> dict[str, list]:
    out = {name: common.text_column([entra_objects._get(e, f"extensionAttribute{i}") for e in ext]).tolist()
           for i, name in enumerate(entra_objects.EXTENSIONS, 1)}
    out["manager_id"] = common.text_column([entra_objects._get(m, "id") for m in managers]).tolist()
    return out


@pytest.mark.parametrize("extra", [None, ({"extensionAttribute4": 7}, "not an object")],
                         ids=["regular", "irregular"])
def test_struct_reading_equals_per_record_reading(extra):
    records = RECORDS + ([extra] if extra else [])
    ext, managers = [r[0] for r in records], [r[1] for r in records]
    cols = {"id": [str(i) for i in range(len(records))], "extension_attributes": ext, "manager": managers}
    got = entra_objects.columns(cols)
    for name, values in _per_record(ext, managers).items():
        assert pd.Series(got[name]).tolist() == values, name
    assert got["extension_attribute_1"].tolist()[:2] == ["a", "pascal"]
    assert [None if pd.isna(v) else v for v in got["manager_id"].tolist()[:3]] == ["m1", None, "m2"]
