"""The object-valued user properties of Graph exports, taken apart into canonical columns.

``onPremisesExtensionAttributes`` (one object with extensionAttribute1…15), ``manager`` (``$expand=manager``: an
object with the manager's ``id``), ``assignedPlans`` and ``provisionedPlans`` (lists of plan objects; hybridx keeps
the state of the Exchange Online service, docs/domain.md §15). In a Get-MgUser CSV the same facts come as the
calculated columns README.md (Export files) shows: ``extensionAttribute1``…, ``ManagerId``, ``AssignedPlans`` and
``ProvisionedPlans`` joined as ``service:capabilityStatus[:provisioningStatus]`` with ``;``.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hybridx_nb.sources import common, powershell_csv

EXTENSIONS = tuple(f"extension_attribute_{i}" for i in range(1, 16))
#: Reader field → the canonical columns it fills.
_EXPANDS = {"extension_attributes": EXTENSIONS, "manager": ("manager_id",),
            "assigned_plans": ("exchange_assigned",), "provisioned_plans": ("exchange_provisioned",)}
#: Graph leaves ``$expand=manager`` out of users without a manager: never required, carried once any record has it.
SPARSE = ("manager",)
#: The service name Graph gives Exchange Online's plans.
EXCHANGE_SERVICE = "exchange"


#: Every canonical column the object-valued properties fill.
EXPANDED = tuple(c for cols in _EXPANDS.values() for c in cols)


def expand_presence(present: dict[str, np.ndarray], sparse: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Per-record presence of the object-valued fields, as presence of the canonical columns they fill.

    A ``sparse`` field (Graph's ``$expand=manager`` leaves the key out of users without a manager) counts as
    carried by every record once any record carries it.
    """
    out = {f: m for f, m in present.items() if f not in _EXPANDS}
    for field, cols in _EXPANDS.items():
        if field not in present:
            continue
        mask = present[field]
        if field in sparse and mask.any():
            mask = np.ones(len(mask), dtype=bool)
        out.update({c: mask for c in cols})
    return out


def _get(obj: object, key: str) -> object:
    """``obj[key]`` in Graph's camelCase or ConvertTo-Json's PascalCase."""
    if not isinstance(obj, dict):
        return None
    value = obj.get(key)
    return obj.get(key[:1].upper() + key[1:]) if value is None else value


def _pascal(key: str) -> str:
    return key[:1].upper() + key[1:]


def _either(keys: list[str]) -> pa.StructType:
    """A struct of text fields in both spellings (``_get`` reads camelCase first, then PascalCase)."""
    return pa.struct([(k, pa.string()) for k in keys] + [(_pascal(k), pa.string()) for k in keys])


_PLAN_KEYS = ["service", "capabilityStatus", "provisioningStatus"]
#: How Arrow reads each object-valued property on the fast path (``entra_arrow``); other JSON types are refused.
ARROW_TYPES = {"assigned_licenses": pa.list_(_either(["skuId"])),
               "extension_attributes": _either([f"extensionAttribute{i}" for i in range(1, 16)]),
               "manager": _either(["id"]), "assigned_plans": pa.list_(_either(_PLAN_KEYS)),
               "provisioned_plans": pa.list_(_either(_PLAN_KEYS)), "business_phone": pa.list_(pa.string())}


def _text_struct(keys: list[str]) -> pa.StructType:
    return pa.struct([(k, pa.string()) for k in keys])


#: The same properties exactly as Graph v1.0 returns them: camelCase, with the keys hybridx does not read
#: (assignedLicense, assignedPlan and provisionedPlan resource types; ``$expand=manager($select=id)`` gives the
#: manager's ``@odata.type`` and ``id``). The fast path tries these first and refuses any other key: Arrow then
#: builds no column for the PascalCase forms, about a fifth of its parsing (``json_arrow.read_pages``).
GRAPH_TYPES = {"assigned_licenses": pa.list_(pa.struct([("disabledPlans", pa.list_(pa.string())),
                                                        ("skuId", pa.string())])),
               "extension_attributes": _text_struct([f"extensionAttribute{i}" for i in range(1, 16)]),
               "manager": _text_struct(["@odata.type", "id"]),
               "assigned_plans": pa.list_(_text_struct(["assignedDateTime", "capabilityStatus", "service",
                                                        "servicePlanId"])),
               "provisioned_plans": pa.list_(_text_struct(_PLAN_KEYS)), "business_phone": pa.list_(pa.string())}


def _field(items: pa.Array, key: str) -> pa.Array:
    """``_get(item, key)`` over a struct array: the camelCase value, else the PascalCase one."""
    parts = [pc.struct_field(items, k) for k in (key, _pascal(key)) if items.type.get_field_index(k) >= 0]
    if not parts:
        return pa.nulls(len(items), pa.string())
    return pc.coalesce(*parts) if len(parts) > 1 else parts[0]


def _first_where(mask: np.ndarray, parent: np.ndarray, n: int) -> np.ndarray:
    """Per list, the index of its first item where ``mask`` holds (-1 for none)."""
    idx = np.flatnonzero(mask)
    owner = parent[idx]
    first = np.ones(len(idx), dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    out = np.full(n, -1, dtype=np.int64)
    out[owner[first]] = idx[first]
    return out


def _plan_state(plans: pa.ListArray, provisioned: bool) -> pd.Series:
    """Per user, the Exchange Online plan state: ``Enabled`` when an assigned exchange plan is enabled (else the
    status of the first one); for provisioned plans the provisioningStatus of an enabled one (else of the first)."""
    n = len(plans)
    items = plans.flatten()
    parent = pc.list_parent_indices(plans).to_numpy()
    status = _field(items, "capabilityStatus")
    mine = pc.equal(pc.utf8_lower(_field(items, "service")), EXCHANGE_SERVICE).fill_null(False).to_numpy(
        zero_copy_only=False)
    enabled = _first_where(mine & pc.equal(status, "Enabled").fill_null(False).to_numpy(zero_copy_only=False),
                           parent, n)
    first = _first_where(mine, parent, n)
    if provisioned:
        pick, values = np.where(enabled >= 0, enabled, first), _field(items, "provisioningStatus")
    else:
        pick, values = first, status
    state = pc.take(values, pa.array(pick, mask=pick < 0))
    if not provisioned:
        state = pc.if_else(pa.array(enabled >= 0), "Enabled", state)
    state = pc.if_else(pc.equal(state, ""), pa.scalar(None, pa.string()), state)
    return pd.Series(pd.array(state, dtype="str"))


def _plans(values: list[object], provisioned: bool) -> pd.Series:
    """``plan_state`` of plan lists given as Python objects (irregular JSON, or a CSV's calculated column)."""
    def text(v: object) -> str | None:
        return str(v) if v else None

    rows = [[{k: text(_get(p, k)) for k in _PLAN_KEYS} for p in plans] if isinstance(plans, list) else None
            for plans in values]
    return _plan_state(pa.array(rows, type=pa.list_(pa.struct([(k, pa.string()) for k in _PLAN_KEYS]))),
                      provisioned)


def _first_item(lists: pa.ListArray) -> pd.Series:
    """The first item of each list (businessPhones: Entra holds one), missing for an empty or null list."""
    offsets = lists.offsets.to_numpy()
    has = (offsets[1:] > offsets[:-1]) & lists.is_valid().to_numpy(zero_copy_only=False)
    return pd.Series(pd.array(pc.take(lists.values, pa.array(offsets[:-1], mask=~has)), dtype="str"))


def sku_ids(values: list[object] | pa.Array) -> pd.Series:
    """assignedLicenses as a list of skuIds: Graph's ``[{"skuId": ...}]`` objects, or plain ids."""
    with contextlib.suppress(pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        arr = values if isinstance(values, pa.Array) else pa.array(values)  # list<struct<skuId, ...>>, in C
        if pa.types.is_list(arr.type) and pa.types.is_string(arr.type.value_type):
            return common.lists_from_python(arr)
        if pa.types.is_list(arr.type) and pa.types.is_struct(arr.type.value_type):
            items = arr.flatten()
            ids = _field(items, "skuId")
            if pa.types.is_string(ids.type) or pa.types.is_null(ids.type):
                offsets = pc.subtract(arr.offsets, arr.offsets[0])
                return common.lists_from_python(pa.ListArray.from_arrays(offsets, ids.cast(pa.string())))
    return common.lists_from_python(
        [[_get(lic, "skuId") if isinstance(lic, dict) else lic for lic in v] if isinstance(v, list) else None
         for v in values])


def arrow_columns(users: pa.StructArray, keys: dict[str, str]) -> dict[str, pd.Series]:
    """The canonical columns from the object-valued properties read by Arrow (``keys``: field → JSON key)."""
    def get(field: str) -> pa.Array:
        return users.field(keys[field])

    ext = get("extension_attributes")
    out = {name: pd.Series(pd.array(_field(ext, f"extensionAttribute{i}"), dtype="str"))
           for i, name in enumerate(EXTENSIONS, 1)}
    out["manager_id"] = pd.Series(pd.array(_field(get("manager"), "id"), dtype="str"))
    out["exchange_assigned"] = _plan_state(get("assigned_plans"), False)
    out["exchange_provisioned"] = _plan_state(get("provisioned_plans"), True)
    out["business_phone"] = _first_item(get("business_phone"))
    return out


def _fields(values: list[object], keys: list[str]) -> dict[str, pd.Series] | None:
    """``_get(value, key)`` for every key over a list of JSON objects (or nulls), read by Arrow in C: the values
    become one struct array; None when they do not (mixed types), or when a field is not text."""
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if pa.types.is_null(arr.type):
        return {k: pd.Series(pd.array(pa.nulls(len(values), pa.string()), dtype="str")) for k in keys}
    if not pa.types.is_struct(arr.type):
        return None
    names = {arr.type.field(i).name: arr.type.field(i).type for i in range(arr.type.num_fields)}
    out = {}
    for key in keys:
        spelled = [k for k in (key, key[:1].upper() + key[1:]) if k in names]
        if any(not (pa.types.is_string(names[k]) or pa.types.is_null(names[k])) for k in spelled):
            return None
        parts = [pc.struct_field(arr, k).cast(pa.string()) for k in spelled]
        text = pc.coalesce(*parts) if len(parts) > 1 else parts[0] if parts else pa.nulls(len(values), pa.string())
        out[key] = pd.Series(pd.array(text, dtype="str"))
    return out


def columns(cols: dict[str, list[object]]) -> dict[str, pd.Series]:
    """The canonical columns from the object-valued JSON fields: extension attributes and the manager read as
    Arrow structs in C (a Python pass only where the objects are irregular), the Exchange plans and phones in
    one Python pass each."""
    ext = cols.get("extension_attributes") or []
    keys = [f"extensionAttribute{i}" for i in range(1, 16)]
    fields = _fields(ext, keys) if ext else None
    if fields is None:
        fields = {k: common.text_column([_get(e, k) for e in ext]) for k in keys}
    out = {name: fields[key] for name, key in zip(EXTENSIONS, keys)}
    managers = cols.get("manager") or []
    found = _fields(managers, ["id"]) if managers else None
    out["manager_id"] = found["id"] if found else common.text_column([_get(m, "id") for m in managers])
    out["exchange_assigned"] = _plans(cols.get("assigned_plans") or [], False)
    out["exchange_provisioned"] = _plans(cols.get("provisioned_plans") or [], True)
    out["business_phone"] = common.text_column([v[0] if isinstance(v, list) and v else None
                                                for v in cols.get("business_phone") or []])
    n = len(cols["id"])
    return {k: v if len(v) == n else pd.Series(np.full(n, None, object), dtype="str") for k, v in out.items()}


def _csv_plans(values: pd.Series, provisioned: bool) -> pd.Series:
    parts = [[p.split(":") for p in v.split(";") if p.strip()] if isinstance(v, str) else None for v in values]
    plans = [[{"service": p[0].strip(), "capabilityStatus": p[1].strip() if len(p) > 1 else None,
               "provisioningStatus": p[2].strip() if len(p) > 2 else None} for p in v] if v is not None else None
             for v in parts]
    return _plans(plans, provisioned).set_axis(values.index)


def csv_columns(raw: pd.DataFrame, headers: list[str]) -> dict[str, pd.Series]:
    """The same columns from a Get-MgUser CSV's calculated columns, where the export has them."""
    synonyms = {**{name: (f"extensionAttribute{i}",) for i, name in enumerate(EXTENSIONS, 1)},
                "manager_id": ("ManagerId", "Manager"), "assigned_plans": ("AssignedPlans",),
                "provisioned_plans": ("ProvisionedPlans",)}
    found = powershell_csv.match_columns(None, headers, synonyms, (), fix="")  # type: ignore[arg-type]
    out = {}
    for name, header in found.items():
        values = raw[header].str.strip().replace("", np.nan)
        if name == "assigned_plans":
            out["exchange_assigned"] = _csv_plans(values, False)
        elif name == "provisioned_plans":
            out["exchange_provisioned"] = _csv_plans(values, True)
        else:
            out[name] = values
    return out
