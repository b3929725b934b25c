"""``hybridx collect``: read every source configured in client.toml and write one snapshot.

All or nothing: the sources run one after the other, and the snapshot is written (atomically) only when every
one of them completed. A source that fails raises ``CollectionError``; nothing is written and any snapshot
already in ``out`` stays as it was. Collection is read-only everywhere.

On a terminal each source gets a progress bar (objects, pages, rate); a summary follows. ``verbose`` turns on
hybridx's own log messages (requests, pages, timings). Third-party loggers stay at WARNING, because some of
them log HTTP headers, and an Authorization header is a secret.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from hybridx_nb.core.errors import CollectionError, HybridxError
from hybridx_nb.core.folders import check_apart, check_replaceable
from hybridx_nb.core.secrets import ScrubFilter, scrub
from hybridx_nb.snapshot.coverage import combine
from hybridx_nb.snapshot.store import TenantFacts, build_snapshot, write_snapshot
from hybridx_nb.sources.common import ReadResult, concat
from hybridx_nb.sources.live.config import ClientConfig, load_config

log = logging.getLogger(__name__)
Collector = Callable[[Any, Callable[[str, int, int], None]], ReadResult]


@dataclass
class SourceRun:
    """One source's outcome, for the summary."""

    label: str
    seconds: float
    rows: dict[str, int]
    rejected: int


def _collectors(cfg: ClientConfig) -> list[tuple[str, Collector, Any]]:
    """(label, function, its config) for each configured source; imported only when configured."""
    jobs: list[tuple[str, Collector, Any]] = []
    if cfg.ldap:
        from hybridx_nb.sources.live.ldap_ad import collect_ad

        jobs.append((f"Active Directory ({', '.join(d.name for d in cfg.ldap)})", collect_ad, cfg.ldap))
    if cfg.okta:
        from hybridx_nb.sources.live.okta_api import collect_okta

        jobs.append((f"Okta ({cfg.okta.org_url})", collect_okta, cfg.okta))
    if cfg.graph:
        from hybridx_nb.sources.live.graph_api import collect_graph

        jobs.append((f"Entra ID (tenant {cfg.graph.tenant_id})", collect_graph, cfg.graph))
    return jobs


class _Bar:
    """The progress callback for one source: ``(table, objects_so_far, pages_so_far)`` → one tqdm bar."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.tables: dict[str, tuple[int, int]] = {}
        self.bar = tqdm(desc=label, unit=" obj", file=sys.stderr, disable=not enabled, dynamic_ncols=True,
                        leave=True)

    def __call__(self, table: str, objects: int, pages: int) -> None:
        self.tables[table] = (objects, pages)
        total = sum(o for o, _ in self.tables.values())
        self.bar.update(total - self.bar.n)
        self.bar.set_postfix_str(", ".join(f"{t} {o} in {p} page{'s' * (p != 1)}"
                                           for t, (o, p) in self.tables.items()), refresh=False)
        log.debug("%s: %d objects, %d pages", table, objects, pages)

    def close(self) -> None:
        self.bar.close()


def _merge_tenant(facts: list[TenantFacts]) -> TenantFacts:
    merged = TenantFacts()
    for fact in facts:
        for f in fields(TenantFacts):
            value = getattr(fact, f.name)
            if f.name == "features":
                merged.features.update(value)
            elif value is not None:
                setattr(merged, f.name, value)
    return merged


#: Libraries whose log records may carry a request (headers included) or a server's answer.
THIRD_PARTY_LOGGERS = ("okta-sdk-python", "azure", "msgraph", "msgraph_core", "kiota_http", "kiota_abstractions",
                       "httpx", "httpcore", "aiohttp", "ldap3", "asyncio")


def _configure_logging(verbose: bool) -> None:
    """hybridx's records (warnings always, everything with ``verbose``) go to stderr through a scrubbing
    handler; third-party records are dropped (warnings shown with ``verbose``, scrubbed too), so that Python's
    last-resort handler never prints an SDK's record or traceback."""
    pkg = logging.getLogger("hybridx_nb")
    if verbose:
        pkg.setLevel(logging.DEBUG)
    handler = next((h for h in pkg.handlers if getattr(h, "_hybridx", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
        handler.addFilter(ScrubFilter())
        handler._hybridx = True  # type: ignore[attr-defined]
        pkg.addHandler(handler)
    handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    for name in THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        third = next((h for h in logger.handlers if getattr(h, "_hybridx", False)), None)
        if third is None:
            third = logging.StreamHandler(sys.stderr)
            third.addFilter(ScrubFilter())
            third._hybridx = True  # type: ignore[attr-defined]
            logger.addHandler(third)
        third.setLevel(logging.WARNING if verbose else logging.CRITICAL + 1)


def collect(config_path: str | Path, out: str | Path, *, verbose: bool = False, progress: bool = True) -> Path:
    """Collect every configured source into the snapshot folder ``out``; returns it.

    Raises ``CollectionError`` (nothing written) if any source fails, ``InputError`` for a bad client.toml.
    """
    _configure_logging(verbose)
    cfg = load_config(config_path)
    out = Path(out)
    files = {"--config": cfg.path, **{f"[{d.name}] ca_file": d.ca_file for d in cfg.ldap}}
    if cfg.okta:
        files["[okta] private_key_file"] = cfg.okta.private_key_file
    if cfg.graph:
        files["[graph] certificate_file"] = cfg.graph.certificate_file
    check_apart(out, files)  # before any source is read: a collection may not be repeatable
    check_replaceable(out, "snapshot")
    try:
        cfg.check_secrets()
    except HybridxError as exc:
        raise CollectionError(f"{cfg.path}: {exc}; nothing was collected") from None
    log.info("client %s: collecting %s into %s", cfg.client, ", ".join(cfg.sources), out)
    tables: dict[str, list[pd.DataFrame]] = {}
    rejected, tenants, runs = [], [], []
    sources: dict[str, list[str]] = {}
    coverages = []
    for label, function, source_cfg in _collectors(cfg):
        bar = _Bar(label, progress)
        started = time.monotonic()
        try:
            result = function(source_cfg, bar)
        except HybridxError as exc:
            raise CollectionError(scrub(f"{label}: collection failed, nothing was written to {out}:\n{exc}")) \
                from None
        except Exception as exc:  # a bug or an SDK surprise: still all-or-nothing, with the cause in the log
            log.debug("%s failed", label, exc_info=True)  # the traceback with --verbose only (scrubbed)
            raise CollectionError(scrub(f"{label}: collection failed with an unexpected {type(exc).__name__}: "
                                        f"{exc}; nothing was written to {out} (run with --verbose for "
                                        "details)")) from None
        finally:
            bar.close()
        seconds = time.monotonic() - started
        for name, frame in result.tables.items():
            tables.setdefault(name, []).append(frame)
            sources.setdefault(name, []).append(result.sources.get(name, result.source))
        coverages.append(result.coverage)  # the LDAP collector names the attributes the schema lacks
        rejected.append(result.rejected)
        if len(result.rejected):
            sources.setdefault("rejected", []).append(result.source)
        if result.tenant is not None:
            tenants.append(result.tenant)
        runs.append(SourceRun(label, seconds, {n: len(f) for n, f in result.tables.items()}, len(result.rejected)))
        log.info("%s: done in %.1f s", label, seconds)
    merged = {name: concat(frames, name) for name, frames in tables.items()}
    merged["rejected"] = concat(rejected, "rejected")
    snap = build_snapshot(merged, _merge_tenant(tenants), {n: " + ".join(s) for n, s in sources.items()},
                          combine(coverages))
    folder = write_snapshot(snap, out)
    text = summary(runs, folder)
    if progress:
        tqdm.write(text, file=sys.stderr)
    log.info("%s", text)
    return folder


def summary(runs: list[SourceRun], folder: Path) -> str:
    """A few lines: per source, rows per table, rows set aside, time and rate."""
    lines = [f"collected into {folder}:"]
    for run in runs:
        total = sum(run.rows.values())
        rate = f", {total / run.seconds:,.0f} objects/s" if run.seconds > 0 else ""
        tables = ", ".join(f"{name} {rows:,}" for name, rows in run.rows.items())
        rejected = f", {run.rejected:,} set aside (see the rejected table)" if run.rejected else ""
        lines.append(f"  {run.label}: {tables}{rejected} in {run.seconds:.1f} s{rate}")
    return "\n".join(lines)
