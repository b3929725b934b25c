"""Okta users (``GET /api/v1/users``) and app users (``GET /api/v1/apps/{id}/users``) saved as JSON.

Which of the two a file holds is told by its shape; hybridx's own combined file
``{"users": [...], "appUsers": [...], "apps": [...]}`` is read too.
"""

from __future__ import annotations

import re
from itertools import chain, repeat
from pathlib import Path

import numpy as np
import pandas as pd

from hybridx_nb.core.errors import InputError
from hybridx_nb.snapshot import schema
from hybridx_nb.snapshot.coverage import combine
from hybridx_nb.sources import common, json_columns, presence, text
from hybridx_nb.sources.common import ReadResult
from hybridx_nb.sources.text import Text

OKTA_APP_ID_RE = re.compile(r"0oa[0-9A-Za-z]{17}")
#: App labels of Okta's Office 365 integration (the label is the admin's to change; this is the default family).
_OFFICE_365 = r"(?i)office\s*365|microsoft\s*365|\bo365\b"
_USER_FIELDS = {
    "id": ("id",), "status": ("status",), "login": ("profile", "login"), "email": ("profile", "email"),
    "first_name": ("profile", "firstName"), "last_name": ("profile", "lastName"),
    "provider_type": ("credentials", "provider", "type"), "provider_name": ("credentials", "provider", "name"),
}
_APP_USER_FIELDS = {
    "user_id": ("id",), "external_id": ("externalId",), "status": ("status",), "sync_state": ("syncState",),
    "scope": ("scope",), "user_name": ("credentials", "userName"), "app_href": ("_links", "app", "href"),
    "app_id": ("appId",), "app_label": ("appLabel",),
}
_FIX = "save the API responses as described in README.md, section Export files (Okta)"


def read_okta(path: str | Path, doc: Text | None = None, *, app_id: str | None = None,
              app_label: str | None = None, allow_partial: bool = False) -> ReadResult:
    """``okta_users`` and/or ``okta_app_users`` from one JSON file, whichever it holds.

    A file saved with a link to a next page (``next``, ``nextLink``, ``_links.next.href``) is refused as
    incomplete unless ``allow_partial``.
    """
    doc = doc or text.read_text(path)
    with text.gc_paused():
        result = _read(doc, app_id, app_label)
    link = presence.next_link(doc.utf8())
    if link is not None:
        n = sum(len(f) for f in result.tables.values()) + len(result.rejected)
        if not allow_partial:
            raise InputError(doc.path, f"the export is incomplete: it still links to a next page ({link[:120]}), "
                             f"so only the first {n:,} records were saved",
                             fix="follow the Link: rel=\"next\" headers to the last page, as the curl loop in "
                                 "README.md (Export files) does; or pass --allow-partial")
        for table in result.tables:
            result.coverage.incomplete[table] = f"{doc.name} stops after {n:,} records: it links to a next page"
    return result


def _read(doc: Text, app_id: str | None, app_label: str | None) -> ReadResult:
    fast = _read_fast(doc, app_id, app_label)
    if fast is not None:
        return fast
    documents = text.load_json_documents(doc)
    if len(documents) == 1 and isinstance(documents[0], dict) and {"users", "appUsers"} & set(documents[0]):
        combined = documents[0]
        labels = {a.get("id"): a.get("label") for a in combined.get("apps") or [] if isinstance(a, dict)}
        parts = [_users(doc, combined.get("users") or [], "hybridx Okta JSON"),
                 _app_users(doc, combined.get("appUsers") or [], "hybridx Okta JSON", app_id, app_label, labels)]
    else:
        records = text.json_records(documents)
        first = next((r for r in records if isinstance(r, dict)), None)
        if first is None and records:
            raise InputError(doc.path, "holds no JSON objects, so neither Okta users nor app users", fix=_FIX)
        if first is not None and _is_app_user(first):
            parts = [_app_users(doc, records, "/api/v1/apps/{id}/users JSON", app_id, app_label, {})]
        elif first is None or isinstance(first.get("profile"), dict) and "login" in first["profile"]:
            parts = [_users(doc, records, "/api/v1/users JSON")]
        else:
            raise InputError(doc.path, f"the objects are neither Okta users (profile.login) nor app users "
                             f"(scope, syncState); the first has the keys {sorted(first)[:12]}", fix=_FIX)
    tables = {t: f for p in parts for t, f in p.tables.items()}
    sources = {t: p.source for p in parts for t in p.tables}
    rej = common.concat([p.rejected for p in parts], "rejected")
    return ReadResult(tables, rej, "; ".join(sorted(set(sources.values()))) or parts[0].source, sources=sources,
                      coverage=combine(p.coverage for p in parts))


def _is_app_user(record: dict) -> bool:
    links = record.get("_links")
    return ("scope" in record or "syncState" in record
            or isinstance(links, dict) and isinstance(links.get("app"), dict))


def _read_fast(doc: Text, app_id: str | None, app_label: str | None) -> ReadResult | None:
    """A plain array of users or app users decoded straight into structs (None: not that shape, or in doubt)."""
    raw = doc.utf8()
    first = json_columns.sample(raw)
    if not first:
        return None
    if _is_app_user(first[0]):
        what = "/api/v1/apps/{id}/users JSON"
        keys = {k for r in first if isinstance(r.get("profile"), dict) for k in r["profile"]}
        key = next((k for k in sorted(keys) if k.lower() == "immutableid"), None)
        if key is None and json_columns.mentions(raw, ["immutableId"]):
            return None
        fields = _APP_USER_FIELDS | {"immutable_id": ("profile", key or "immutableId")}
        cols = json_columns.decode(raw, fields, unset=["immutable_id"] if key else [])
        if cols is None or key and json_columns.has_unset(cols["immutable_id"]):  # spelled otherwise there?
            return None
        n = len(cols["user_id"])
        return _app_users_frame(doc, cols, schema.empty("rejected"), what, app_id, app_label, {},
                                np.full(n, key is not None))
    if not (isinstance(first[0].get("profile"), dict) and "login" in first[0]["profile"]):
        return None
    cols = json_columns.decode(raw, _USER_FIELDS)
    return None if cols is None else _users_frame(doc, cols, schema.empty("rejected"), "/api/v1/users JSON")


def _users(doc: Text, records: list[object], what: str) -> ReadResult:
    source = f"{doc.name} (Okta {what}, {doc.encoding})"
    users, _, rej = text.objects_only(doc.path, "okta_users", source, records)
    return _users_frame(doc, common.frame_of(users, _USER_FIELDS), rej, what)


def _users_frame(doc: Text, cols: dict[str, list[object]], rej: pd.DataFrame, what: str) -> ReadResult:
    source = f"{doc.name} (Okta {what}, {doc.encoding})"
    frame = pd.DataFrame({f: common.text_column(v) for f, v in cols.items()})
    reason = common.reject_incomplete(frame, {"id": "id"}, ("id",))
    return _done(doc, "okta_users", source, frame, reason, rej, frame["id"].fillna(frame["login"]))


def _app_users(doc: Text, records: list[object], what: str, app_id: str | None, app_label: str | None,
               labels: dict) -> ReadResult:
    source = f"{doc.name} (Okta {what}, {doc.encoding})"
    users, _, rej = text.objects_only(doc.path, "okta_app_users", source, records)
    values, present = _immutable_ids(users)
    cols = common.frame_of(users, _APP_USER_FIELDS) | {"immutable_id": values}
    return _app_users_frame(doc, cols, rej, what, app_id, app_label, labels, present)


def _app_users_frame(doc: Text, cols: dict[str, list[object]], rej: pd.DataFrame, what: str, app_id: str | None,
                     app_label: str | None, labels: dict, present: np.ndarray) -> ReadResult:
    source = f"{doc.name} (Okta {what}, {doc.encoding})"
    frame = pd.DataFrame({f: common.text_column(v) for f, v in cols.items()})
    coverage, frame["not_exported"] = presence.coverage_of("okta_app_users", source, {"immutable_id": present},
                                                           len(frame))
    from_href = frame.pop("app_href").str.extract(r"/apps/([^/?#]+)", expand=False)
    frame["app_id"] = frame["app_id"].fillna(from_href)
    fallback = app_id or _app_id_from_name(doc.path)
    if fallback:
        frame["app_id"] = frame["app_id"].fillna(fallback)
    if len(frame) and frame["app_id"].isna().all():
        raise InputError(doc.path, "cannot tell which Okta app these app users belong to: the records have no "
                         "_links.app.href", fix="pass the app id (0oa...) with --okta-app-id, or put it in the "
                         "file name, e.g. okta-app-users-0oa1b2c3d4e5f6g7h8i9.json")
    frame["app_label"] = frame["app_label"].fillna(frame["app_id"].map(labels).astype("str"))
    if app_label:
        frame["app_label"] = frame["app_label"].fillna(app_label)
    reason = common.reject_incomplete(frame, {"user_id": "id", "app_id": "app id"},
                                      ("app_id", "user_id"))
    other = frame["app_label"].notna() & ~frame["app_label"].str.contains(_OFFICE_365, regex=True).fillna(False)
    apps = ", ".join(sorted(set(frame["app_label"][other].dropna() + " (" + frame["app_id"][other].fillna("?") + ")")))
    if len(frame) and (other.all() or not present.any()):
        raise InputError(doc.path, "these are not users of Okta's Office 365 app: " + (
            f"they belong to {apps}" if other.any() else "no app user profile has immutableId"),
            fix="export the users of the Office 365 app instance: GET /api/v1/apps/{id}/users with the id of the "
                "app whose label is Microsoft Office 365 (README.md, Export files)")
    if other.any():
        reason = common.add_reason(reason, other, lambda rows: "app user of " + frame["app_label"].iloc[rows]
                                   + ", not of Office 365")
        coverage.notes.append({"attribute": "Okta app users", "status": f"from another app: {apps}",
                               "effect": f"{int(other.sum()):,} app user(s) of that app are set aside; the "
                                         "Office 365 app users are used", "fix": ""})
    result = _done(doc, "okta_app_users", source, frame, reason, rej, frame["user_id"].fillna(frame["user_name"]))
    result.coverage = coverage
    return result


def _immutable_ids(records: list[dict]) -> tuple[list[object], np.ndarray]:
    """profile.immutableId, whatever the case of the key (Okta's app schemas differ)."""
    profiles = [p if isinstance(p, dict) else None for p in map(dict.get, records, repeat("profile"))]
    keys = set(chain.from_iterable(p for p in profiles if p is not None))
    key = next((k for k in sorted(keys) if k.lower() == "immutableid"), "immutableId")
    present = np.fromiter((p is not None and key in p for p in profiles), dtype=bool, count=len(profiles))
    return [p.get(key) if p is not None else None for p in profiles], present


def _app_id_from_name(path: Path) -> str | None:
    match = OKTA_APP_ID_RE.search(path.name)
    return match.group(0) if match else None


def _done(doc: Text, table: str, source: str, frame: pd.DataFrame, reason: pd.Series, rej: pd.DataFrame,
          key: pd.Series) -> ReadResult:
    bad = reason.notna().to_numpy()
    rej = common.concat([rej, common.rejected(table, source, bad, reason, line=None, key=key)], "rejected")
    if len(frame) and bad.all():
        raise common.all_bad(doc.path, table.replace("_", " "), rej, len(frame))
    return ReadResult({table: schema.conform(table, common.kept(frame, ~bad))}, rej, source)
