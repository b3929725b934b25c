"""``hybridx okta-apply``: the Okta side of the anchor fix, per user, dry run by default.

While Okta federates a Microsoft 365 domain, the Office 365 app user's ``immutableId`` is what Okta sends as the
ImmutableID claim (docs/domain.md §9), so it must change together with the Entra value. This reads
okta-remediation.csv (okta-rollback.csv with ``rollback``) from a hybridx report folder and, for each row:
re-reads the app user (``GET /api/v1/apps/{appId}/users/{userId}``), skips it unless the current value is the one
hybridx saw, writes the new value only with ``apply`` (``POST`` of the app user's profile with ``immutableId``
changed: the whole profile is sent back, so no other attribute can be lost whatever the update semantics), reads
it back, and logs one CSV line per user. Requests go through the okta SDK's request executor (authentication,
session), with bounded retries on 429 (until ``X-Rate-Limit-Reset``), 5xx and network errors. The token is
scrubbed from every message.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hybridx_nb.core.errors import HybridxError
from hybridx_nb.core.secrets import ScrubFilter, scrub
from hybridx_nb.remediation.scripts import OKTA_PLAN_CSV, OKTA_ROLLBACK_CSV
from hybridx_nb.sources.live.config import OktaConfig, load_config
from hybridx_nb.sources.live.guard import okta_session
from hybridx_nb.sources.live.http import RetryPolicy, run_sync
from hybridx_nb.sources.live.okta_api import _client, _reset_wait, immutable_id_key

log = logging.getLogger(__name__)

_ANCHOR = re.compile(r"^[A-Za-z0-9+/]{21}[AQgw]==$")
_OKTA_ID = re.compile(r"^[A-Za-z0-9]{20}$")
LOG_COLUMNS = ["Time", "Mode", "AppId", "OktaUserId", "EntraId", "UserPrincipalName", "Outcome", "ValueBefore",
               "ValueAfter", "Message"]
PROBLEMS = ("Failed", "Skipped", "Invalid")
_MAPPED_HINT = ("; if the immutableId mapping is applied on every update (Profile Editor → Mappings), change the "
                "mapping instead (runbook)")


@dataclass
class ApplyResult:
    """What one run did: the outcome per user (in plan order), the log file, and warnings about the org."""

    mode: str
    outcomes: list[dict[str, str]]
    log_path: Path
    warnings: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.outcomes:
            out[row["Outcome"]] = out.get(row["Outcome"], 0) + 1
        return dict(sorted(out.items()))

    @property
    def ok(self) -> bool:
        return not any(r["Outcome"] in PROBLEMS for r in self.outcomes)


def _read_plan(path: Path, current: str, new: str) -> list[dict[str, str]]:
    if not path.is_file():
        raise HybridxError(f"{path}: not found; give --plan the folder of a hybridx report with {path.name} "
                           "(it exists when anchors change in a federated domain)")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"Action", "AppId", "OktaUserId", "EntraId", "UserPrincipalName", current, new}
        missing = sorted(need - set(reader.fieldnames or []))
        if missing:
            raise HybridxError(f"{path}: column(s) {', '.join(missing)} missing; use the file hybridx wrote")
        return list(reader)


def _entra_done(path: Path) -> set[str]:
    """Entra object ids whose Entra side is done according to a remediation.ps1 log (Changed or Unchanged)."""
    if not path.is_file():
        raise HybridxError(f"{path}: Entra log not found (remediation.ps1 writes remediation-log-*.csv)")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if rows and not {"EntraId", "Outcome"} <= set(rows[0]):
        raise HybridxError(f"{path}: not a remediation.ps1 log (columns EntraId and Outcome missing)")
    return {r["EntraId"].lower() for r in rows if r.get("Outcome") in ("Changed", "Unchanged")}


def okta_apply(config: str | Path | OktaConfig, plan_dir: str | Path, *, apply: bool = False,
               rollback: bool = False, user: str | None = None, entra_log: str | Path | None = None,
               retry: RetryPolicy | None = None, echo: Callable[[str], None] = print) -> ApplyResult:
    """Run the Okta side of a plan against the org of client.toml's ``[okta]`` table (see the module docstring)."""
    cfg = config if isinstance(config, OktaConfig) else load_config(config).okta
    if cfg is None:
        raise HybridxError(f"{config}: no [okta] table: okta-apply needs the Okta org and an API token")
    plan_dir = Path(plan_dir)
    current, new = ("PlannedImmutableId", "OriginalImmutableId") if rollback else (
        "ExpectedCurrentImmutableId", "NewImmutableId")
    rows = _read_plan(plan_dir / (OKTA_ROLLBACK_CSV if rollback else OKTA_PLAN_CSV), current, new)
    if user:
        rows = [r for r in rows if r["UserPrincipalName"].lower() == user.lower()]
    done = _entra_done(Path(entra_log)) if entra_log else None
    mode = ("rollback, " if rollback else "") + ("apply" if apply else "dry run")
    log_path = plan_dir / f"okta-apply-log-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.csv"
    retry = retry or RetryPolicy(attempts=cfg.retries, max_wait=cfg.max_wait)
    token = cfg.token.reveal() if cfg.token is not None else None
    key = cfg.private_key.reveal() if cfg.private_key is not None else (
        str(cfg.private_key_file) if cfg.private_key_file is not None else None)
    if token:
        auth: dict[str, Any] = {"authorizationMode": "SSWS", "token": token}
    else:
        scopes = sorted(set(cfg.scopes) | {"okta.apps.read"} | ({"okta.apps.manage"} if apply else set()))
        auth = {"authorizationMode": "PrivateKey", "clientId": cfg.client_id, "scopes": scopes, "privateKey": key}
    run = _Run(cfg.org_url, auth, [s for s in (token, key) if s], retry, mode, apply, log_path, echo)
    run.check_anchor = not rollback  # a rollback restores whatever was there before, anchor or not
    echo(f"hybridx okta-apply ({mode}): {len(rows)} user(s) from {plan_dir}")
    outcomes = run_sync(run.all(rows, current, new, done))
    result = ApplyResult(mode, outcomes, log_path, run.warnings)
    echo(f"Summary ({mode}): " + (", ".join(f"{k}: {v}" for k, v in result.counts.items()) or "nothing to do"))
    echo(f"Log: {log_path}")
    return result


class _Run:
    """One okta-apply run: an SDK client, the log file, the per-row logic."""

    def __init__(self, org_url: str, auth: dict[str, Any], secrets: list[str], retry: RetryPolicy, mode: str,
                 apply: bool, log_path: Path, echo: Callable[[str], None]) -> None:
        self.org_url, self.auth, self.secrets, self.retry = org_url, auth, secrets, retry
        self.mode, self.apply, self.log_path, self.echo = mode, apply, log_path, echo
        self.keys: dict[str, str | None] = {}
        self.warnings: list[str] = []
        self.executor: Any = None
        self.check_anchor = True

    async def all(self, rows: list[dict[str, str]], current: str, new: str, done: set[str] | None) -> list[dict]:
        sdk_log = logging.getLogger("okta-sdk-python")
        redact, quiet = ScrubFilter(self.secrets), logging.NullHandler()
        sdk_log.addFilter(redact)
        sdk_log.addHandler(quiet)  # no last-resort printing of the SDK's records
        outcomes: list[dict] = []
        try:
            client = _client(self.org_url, self.auth, self.secrets)
            session, guarded = okta_session()  # no redirects followed, answers capped (sources.live.guard)
            async with session:
                client.get_request_executor().set_session(guarded)
                self.executor = client.get_request_executor()
                for row in rows:
                    try:
                        outcome = await self.one(row, row.get(current, ""), row.get(new, ""), done)
                    except HybridxError as exc:
                        outcome = ("Failed", "", "", scrub(str(exc), self.secrets))
                    outcomes.append(self.record(row, *outcome))
        finally:
            sdk_log.removeFilter(redact)
            sdk_log.removeHandler(quiet)
        return outcomes

    async def one(self, row: dict[str, str], expected: str, value: str,
                  done: set[str] | None) -> tuple[str, str, str, str]:
        app, uid = row["AppId"], row["OktaUserId"]
        if row["Action"] == "Manual":
            return "Manual", "", "", "no Okta app user in the plan: set its immutableId by hand (runbook)"
        if row["Action"] != "SetAppUserImmutableId" or not _OKTA_ID.match(app) or not _OKTA_ID.match(uid):
            return "Invalid", "", "", "unknown Action, or AppId/OktaUserId is not an Okta id; row ignored"
        if self.check_anchor and not _ANCHOR.match(value):
            return "Invalid", "", "", "the new value is not a 24-character base64 anchor; row ignored"
        if done is not None and row["EntraId"].lower() not in done:
            return "NotYet", "", "", "the Entra side of this user is not changed (remediation log): Okta left as is"
        key = await self.immutable_key(app)
        if key is None:
            return "Failed", "", "", "the app's profile schema has no immutableId attribute"
        path = f"/api/v1/apps/{quote(app, safe='')}/users/{quote(uid, safe='')}"
        member = await self.call("GET", path)
        profile = member.get("profile") if isinstance(member.get("profile"), dict) else {}
        before = "" if profile.get(key) is None else str(profile.get(key))
        if before == value:
            return "Unchanged", before, before, "already has the target value"
        if before != expected:
            return "Skipped", before, "", "the current value is not the one hybridx saw: not changed; re-run hybridx"
        if not self.apply:
            return "WouldSet", before, value, "dry run: add --apply to change it"
        try:
            await self.call("POST", path, {"profile": {**profile, key: value or None}})
        except HybridxError as exc:
            return "Failed", before, "", str(exc) + _MAPPED_HINT
        after_profile = (await self.call("GET", path)).get("profile") or {}
        after = "" if after_profile.get(key) is None else str(after_profile.get(key))
        if after == value:
            return "Changed", before, after, "set and verified"
        return "Failed", before, after, "written, but reading it back shows another value" + _MAPPED_HINT

    async def immutable_key(self, app: str) -> str | None:
        """The app-user profile key of the ImmutableID (from the app's schema), and a warning when the mapping
        pushes it on every update (then a per-user value does not last: docs/domain.md §9)."""
        if app in self.keys:
            return self.keys[app]
        schema = await self.call("GET", f"/api/v1/meta/schemas/apps/{quote(app, safe='')}/default", missing_ok=True)
        key, _ = immutable_id_key(schema or None)
        self.keys[app] = key
        try:
            mappings = await self.call("GET", f"/api/v1/mappings?targetId={quote(app, safe='')}", missing_ok=True)
            for m in mappings if isinstance(mappings, list) else []:
                detail = await self.call("GET", f"/api/v1/mappings/{quote(str(m.get('id')), safe='')}",
                                         missing_ok=True)
                prop = ((detail or {}).get("properties") or {}).get(key or "immutableId") or {}
                if prop.get("pushStatus") == "PUSH":
                    text = (f"app {app}: the Okta mapping of {key} is applied on every update (pushStatus PUSH, "
                            f"expression {prop.get('expression')!r}): a per-user value is overwritten at the next "
                            "update; change the mapping instead (runbook)")
                    self.warnings.append(text)
                    self.echo("WARNING " + text)
        except HybridxError as exc:  # reading mappings needs more rights than the write itself: note and go on
            self.warnings.append(f"app {app}: profile mappings not checked ({exc})")
        return key

    async def call(self, method: str, path: str, body: dict | None = None, *, missing_ok: bool = False) -> Any:
        """One request through the SDK's executor, retried on 429 / 5xx / network errors; JSON body back."""
        url = self.org_url + path
        for attempt in range(1, self.retry.attempts + 1):
            request, error = await self.executor.create_request(method, url, body, {}, keep_empty_params=True)
            if error is not None:
                raise HybridxError(scrub(f"Okta {method} {path.split('?')[0]}: {error}", self.secrets))
            response, text, error = await self.executor.execute(request)
            status = getattr(response, "status", None)
            if status is not None and 200 <= status < 300:
                return json.loads(text) if text else {}
            if missing_ok and status in (403, 404):
                return None
            if not (status is None or status == 429 or status >= 500) or attempt == self.retry.attempts:
                raise HybridxError(self.describe(method, path, status, text, error))
            wait = self.retry.delay(attempt, _reset_wait(response.headers) if status == 429 else None)
            log.info("Okta %s %s: %s, retry %d in %.1f s", method, path, status or error, attempt, wait)
            await self.retry.sleep(wait)
        raise AssertionError("unreachable")

    def describe(self, method: str, path: str, status: int | None, text: str | None, error: Any) -> str:
        what = f"HTTP {status}" if status is not None else f"no response ({type(error).__name__})"
        try:
            detail = json.loads(text) if text else {}
        except ValueError:
            detail = {}
        if isinstance(detail, dict) and detail.get("errorCode"):
            what += f" {detail['errorCode']} {detail.get('errorSummary', '')}".rstrip()
        return scrub(f"Okta {method} {path.split('?')[0]}: {what}", self.secrets)

    def record(self, row: dict[str, str], outcome: str, before: str, after: str, message: str) -> dict[str, str]:
        entry = {"Time": dt.datetime.now(dt.timezone.utc).isoformat(), "Mode": self.mode, "AppId": row["AppId"],
                 "OktaUserId": row["OktaUserId"], "EntraId": row["EntraId"],
                 "UserPrincipalName": row["UserPrincipalName"], "Outcome": outcome, "ValueBefore": before,
                 "ValueAfter": after, "Message": message}
        new = not self.log_path.exists()
        with open(self.log_path, "a", encoding="utf-8-sig" if new else "utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, LOG_COLUMNS, lineterminator="\r\n")
            if new:
                writer.writeheader()
            writer.writerow(entry)
        self.echo(f"{outcome:<10} {row['UserPrincipalName']}  {message}")
        return entry
