"""The ``hybridx`` command: parses arguments and calls the library; no logic of its own."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from hybridx_nb import __version__
from hybridx_nb.app.cli_okta import add_okta_apply
from hybridx_nb.core.errors import HybridxError
from hybridx_nb.core.folders import check_apart, check_replaceable
from hybridx_nb.core.secrets import scrub
from hybridx_nb.core.vocabulary import XLSX_FULL
from hybridx_nb.engine import anchor_forms


def _cmd_anchor(args: argparse.Namespace) -> int:
    forms = anchor_forms.describe(args.value)
    readings = [forms] + ([forms.alternative] if forms.alternative else [])
    for i, reading in enumerate(readings):
        if len(readings) > 1:
            print(f"{'' if i == 0 else chr(10)}reading {i + 1} of {len(readings)}: {reading.note}")
        rows = [
            ("input", reading.input), ("kind", reading.kind), ("GUID", reading.guid),
            ("ImmutableID (base64, AD byte order)", reading.immutable_id),
            ("big-endian base64 (wrong form)", reading.big_endian_immutable_id),
            ("hex octets (AD order)", reading.hex_octets), ("LDAP filter value", reading.ldap_filter),
            ("note", reading.note), ("warning", reading.warning if i == 0 else None),
        ]
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            if key != "warning" or value:
                print(f"{key:<{width}}  {value if value is not None else '-'}")
    return 0


def _params_from_args(args: argparse.Namespace) -> dict:
    raw = {"client": args.client, "anchor": args.anchor, "target": args.target, "strategy": args.strategy,
           "bulk_threshold": args.bulk_threshold, "redact": args.redact, "xlsx": args.xlsx,
           "out": str(args.out)}
    if args.soft_match_upn is not None:
        raw["soft_match_upn"] = args.soft_match_upn == "on"
    if args.redact_key:
        raw["redact_key"] = args.redact_key
    if getattr(args, "allow_partial", False):
        raw["allow_partial"] = True
    if args.paper:
        raw["paper"] = args.paper
    if getattr(args, "backfill", None):
        raw["backfill"] = args.backfill
    for name in ("snapshot", "ad", "entra", "okta", "okta_app_users", "okta_app_id", "tenant", "previous",
                 "entra_groups", "entra_contacts", "exo"):
        value = getattr(args, name, None)
        if value:
            raw[name] = str(value)
    return raw


#: What each file of the report set is, for the list printed after a run.
_FILE_NOTES = {
    "assessment.html": "the report: open it in a browser", "assessment.ipynb": "the executed notebook",
    "findings.csv": "one row per identity", "findings.xlsx": "the findings as a workbook",
    "findings.parquet": "every finding, for analysts", "summary.json": "counts, parameters, timings",
    "readiness.csv": "directory readiness (IdFix columns)", "rejected.csv": "input rows set aside, with reasons",
    "remediation.ps1": "the fixes (dry run by default)", "remediation.csv": "the values the script writes",
    "rollback.csv": "the values to restore",
    "okta-remediation.csv": "the Okta side of each anchor fix (hybridx okta-apply)",
    "okta-rollback.csv": "the Okta values to restore",
    "takeover.csv": "what the first sync changes on each matched user",
    "ad-backfill.csv": "cloud values to copy into AD before leaving staging",
    "ad-backfill.ps1": "the AD backfill (dry run by default)", "ad-backfill-rollback.csv": "AD values to restore",
    "exchange-plan.csv": "Exchange hybrid fixes to review",
    "exchange-fixes.ps1": "the Exchange fixes (dry run by default)",
    "exchange-rollback.csv": "Exchange values to restore",
    "groups-contacts.csv": "groups and contacts and what the sync does to them",
    "since-last.csv": "changes since the previous assessment",
}


def _print_files(out: Path) -> None:
    """Every file of the finished report set (the demo's export files included), the report first."""
    files = sorted((p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")),
                   key=lambda p: (p.name != "assessment.html", len(p.relative_to(out).parts), str(p)))
    width = max((len(str(p)) for p in files), default=0)
    for path in files:
        print(f"{str(path):<{width}}  {_FILE_NOTES.get(path.name, '')}".rstrip())


def _run_report(raw: dict, out: Path, quiet: bool, prepare: Callable[[Path], dict] | None = None) -> int:
    from hybridx_nb.app.assess import validate_params
    from hybridx_nb.app.runner import run_assessment

    if prepare is None:
        validate_params(raw)  # fail fast, before a kernel starts
    run_assessment(raw, out, progress=not quiet and sys.stderr.isatty(), prepare=prepare)
    print(f"written in {out}:")
    _print_files(out)
    return 0


def _cmd_assess(args: argparse.Namespace) -> int:
    return _run_report(_params_from_args(args), Path(args.out), args.quiet)


def _cmd_demo(args: argparse.Namespace) -> int:
    from hybridx_nb.demo.tenant import generate, write_exports

    out = Path(args.out)
    if args.users < 100:
        raise HybridxError(f"--users {args.users}: the demo tenant needs at least 100 users (its planted cases "
                           "alone take about 40)")

    def prepare(folder: Path) -> dict:
        """The export files go into the new report folder (``out/inputs`` once it is swapped in)."""
        files = write_exports(generate(users=args.users, seed=args.seed), folder / "inputs")
        print(f"demo tenant: {args.users} users per side (seed {args.seed}), export files in {out / 'inputs'}")
        return {name: str(path) for name, path in files.items()}

    raw = {"client": "Contoso (demo)", "out": str(out), "anchor": args.anchor, "target": args.target,
           "xlsx": args.xlsx, **({"paper": args.paper} if args.paper else {})}
    return _run_report(raw, out, args.quiet, prepare)


def _cmd_snapshot(args: argparse.Namespace) -> int:
    from hybridx_nb.snapshot.store import write_snapshot
    from hybridx_nb.sources.files.exports import read_exports

    inputs = {"--ad": args.ad, "--entra": args.entra, "--okta": args.okta, "--okta-app-users": args.okta_app_users,
              "--tenant": args.tenant, "--entra-groups": args.entra_groups, "--entra-contacts": args.entra_contacts,
              "--exo": args.exo}
    check_apart(args.out, inputs)  # before reading: a refusal costs nothing
    check_replaceable(args.out, "snapshot")
    snap = read_exports(ad=args.ad, entra=args.entra, okta=args.okta, okta_app_users=args.okta_app_users,
                        tenant=args.tenant, okta_app_id=args.okta_app_id, entra_groups=args.entra_groups,
                        entra_contacts=args.entra_contacts, allow_partial=args.allow_partial,
                        exo=args.exo)
    folder = write_snapshot(snap, args.out)
    for name, frame in sorted(snap.tables.items()):
        print(f"{name:<20} {len(frame):>9} rows")
    print(f"snapshot written to {folder}")
    return 0


def _cmd_collect(args: argparse.Namespace) -> int:
    from hybridx_nb.sources.live.collect import collect

    folder = collect(args.config, args.out, verbose=args.verbose, progress=sys.stderr.isatty())
    print(f"snapshot written to {folder}")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from hybridx_nb.app.batch import run_batch

    result = run_batch(args.clients, args.out, jobs=args.jobs, target=args.target)
    print(f"index: {result.index}")
    return 0 if not result.failed else 1


def _cmd_verify_staging(args: argparse.Namespace) -> int:
    from hybridx_nb.app.verify_cmds import verify_staging

    return verify_staging(args.export, args.assessment, args.out, anchor=args.anchor)


def _cmd_diff(args: argparse.Namespace) -> int:
    from hybridx_nb.app.verify_cmds import diff

    return diff(args.old, args.new, args.out or args.new, anchor=args.anchor)


def _cmd_verify_sync(args: argparse.Namespace) -> int:
    from hybridx_nb.app.verify_cmds import verify_sync

    return verify_sync(args.before, args.after, args.out, anchor=args.anchor)


def _add_verify_parsers(sub: argparse._SubParsersAction) -> None:
    anchor = {"choices": ("auto", "objectGUID", "mS-DS-ConsistencyGuid"), "default": "auto",
              "help": "source anchor, only used when a snapshot folder is given instead of an assessment (auto)"}
    p = sub.add_parser("verify-staging", help="check Entra Connect's staging export user by user against the "
                                              "prediction (exit 1 unless safe)",
                       description="Read the pending export of Entra Connect's Entra ID connector (csexport "
                                   "\"<connector>\" export.xml /f:x, or the CSV of CSExportAnalyzer) and join every "
                                   "pending Add, Update and Delete of a user to the assessment by sourceAnchor, UPN "
                                   "or primary SMTP. Writes staging-check.csv and staging-check.html; prints one "
                                   "line: safe to leave staging, or not, with the numbers. Exit 1 when not safe.")
    p.add_argument("--export", type=Path, required=True, metavar="FILE", help="export.xml (csexport /f:x) or the "
                   "CSExportAnalyzer CSV")
    p.add_argument("--assessment", type=Path, required=True, metavar="DIR",
                   help="the assessment folder (findings.csv), or a snapshot folder to assess now")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for staging-check.csv/.html")
    p.add_argument("--anchor", **anchor)
    p.set_defaults(func=_cmd_verify_staging)

    p = sub.add_parser("diff", help="what changed between two assessments (fixed, still open, regressed, new, gone)",
                       description="Compare two assessment folders (or two snapshots, assessed with the same "
                                   "--anchor): each identity's category before and after, ImmutableID changes, "
                                   "readiness rows fixed or added. Writes diff.csv and diff-readiness.csv, prints "
                                   "a summary. Exit 1 when an identity regressed.")
    p.add_argument("old", type=Path, metavar="OLD", help="the earlier assessment folder (or snapshot)")
    p.add_argument("new", type=Path, metavar="NEW", help="the later assessment folder (or snapshot)")
    p.add_argument("--out", type=Path, metavar="DIR", help="folder for diff.csv (default: NEW)")
    p.add_argument("--anchor", **anchor)
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser("verify-sync", help="after the cut-over: what the first sync did against what was "
                                           "predicted, with the accuracy",
                       description="Compare the assessment made before the cut-over with a snapshot collected after "
                                   "Entra Connect's first sync (hybridx collect reads onPremisesProvisioningErrors, "
                                   "serviceProvisioningErrors and onPremisesLastSyncDateTime): per user, predicted "
                                   "takeover / duplicate / new / block against what happened. Prints the prediction "
                                   "accuracy and every disagreement; writes verify-sync.csv. Exit 1 on any "
                                   "disagreement.")
    p.add_argument("--before", type=Path, required=True, metavar="ASSESSMENT",
                   help="the assessment folder made before the cut-over")
    p.add_argument("--after", type=Path, required=True, metavar="SNAPSHOT",
                   help="a snapshot collected after the first sync (hybridx collect)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for verify-sync.csv")
    p.add_argument("--anchor", **anchor)
    p.set_defaults(func=_cmd_verify_sync)


def _add_export_options(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument("--ad", type=Path, required=required, metavar="FILE",
                   help="AD users: Get-ADUser Export-Csv (UTF-8/UTF-16) or LDIF from ldifde/ldapsearch")
    p.add_argument("--entra", type=Path, required=required, metavar="FILE",
                   help="Entra users: Graph JSON (value pages) or Get-MgUser Export-Csv")
    p.add_argument("--okta", type=Path, metavar="FILE", help="Okta users JSON (GET /api/v1/users)")
    p.add_argument("--okta-app-users", type=Path, metavar="FILE",
                   help="Okta Office 365 app users JSON (GET /api/v1/apps/{id}/users)")
    p.add_argument("--okta-app-id", metavar="0oa…",
                   help="Okta app id, for app-user files whose records have no _links.app.href")
    p.add_argument("--tenant", type=Path, metavar="FILE",
                   help="tenant facts JSON: organization, domains, onPremisesSynchronization, role members")
    p.add_argument("--entra-groups", type=Path, metavar="FILE",
                   help="Entra groups: Graph /groups JSON (optional; groups Okta's Universal Sync created)")
    p.add_argument("--entra-contacts", type=Path, metavar="FILE",
                   help="Entra organisational contacts: Graph /contacts JSON (optional)")
    p.add_argument("--allow-partial", action="store_true",
                   help="read a paged export that stopped before its last page (refused otherwise); every "
                        "prediction that depends on the missing users is marked unknown and the verdict says so")
    p.add_argument("--exo", type=Path, metavar="FILE",
                   help="Exchange Online mailboxes: Get-EXOMailbox Export-Csv (Hybrid Exchange checks)")


def _add_assessment_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--anchor", choices=("auto", "objectGUID", "mS-DS-ConsistencyGuid"), default="auto",
                   help="source anchor Entra Connect will use (default auto: express install's choice)")
    p.add_argument("--paper", choices=("A4", "Letter"),
                   help="paper the printed report is laid out for (default: from the locale, else A4)")
    p.add_argument("--xlsx", choices=tuple(XLSX_FULL), default="action",
                   help="what findings.xlsx holds: 'action' (default) the categories that need action in full and a "
                        "count for the rest; 'all' every category in full (findings.csv and findings.parquet always "
                        "hold every row)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_target(p)


def _add_target(p: argparse.ArgumentParser, default: str | None = "connect") -> None:
    p.add_argument("--target", choices=("connect", "cloud-sync"), default=default,
                   help="the sync engine that takes over from Okta: Entra Connect (staging mode) or Entra Cloud "
                        "Sync (provisioning on demand); default connect" + (
                            "" if default else "; for clients that set no target of their own"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hybridx",
        description="Predict Entra Connect's first sync for an Okta-provisioned Microsoft 365 tenant, and plan "
                    "the fixes before the cut-over.")
    parser.add_argument("--version", action="version", version=f"hybridx {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("anchor", help="show every form of a GUID or ImmutableID and name what it is",
                       description="Convert a GUID string, an ImmutableID or a suspicious value into every form "
                                   "(GUID, base64 ImmutableID, big-endian wrong form, hex octets, LDAP filter) "
                                   "and say what kind of value it is.")
    p.add_argument("value", help="a GUID (braces and dashes optional), an ImmutableID (padded or not), 16 hex "
                                 "octets as ADUC/ADSI Edit show them, LDAP filter escapes or a whole "
                                 "(objectGUID=...) filter, 0x... binary, or any value found in onPremisesImmutableId")
    p.set_defaults(func=_cmd_anchor)

    p = sub.add_parser("assess", help="assess one client from a snapshot or export files; writes the report set",
                       description="Predict the first sync for one client and write assessment.html, "
                                   "assessment.ipynb, findings.csv/.parquet/.xlsx, summary.json, readiness.csv, "
                                   "remediation.ps1/.csv and rollback.csv into --out.")
    p.add_argument("--client", required=True, help="client name shown in the report")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder: created, or replaced atomically when it is a report "
                   "folder hybridx wrote (anything else is refused)")
    p.add_argument("--snapshot", type=Path, metavar="DIR", help="snapshot folder from `hybridx collect`/`snapshot`")
    _add_export_options(p)
    _add_assessment_options(p)
    p.add_argument("--soft-match-upn", choices=("on", "off"),
                   help="override the tenant's softMatchOnUpnEnabled flag (default: the tenant's value, else on)")
    p.add_argument("--strategy", default="auto",
                   choices=("auto", "prestamp", "clear_and_regenerate", "hard_delete_recreate"),
                   help="remediation strategy (default auto: chosen from the findings and tenant, and explained)")
    p.add_argument("--bulk-threshold", type=int, default=50, metavar="N",
                   help="above N users to fix, auto prefers clearing and regenerating over per-user fixes (50)")
    p.add_argument("--redact", action="store_true",
                   help="pseudonymise names, UPNs and mail addresses in HTML and XLSX for sharing")
    p.add_argument("--redact-key", metavar="env:NAME",
                   help="reference to the key for consistent aliases across runs (default: a random key per run)")
    p.add_argument("--previous", type=Path, metavar="DIR",
                   help="an earlier assessment folder of this client: adds 'since the last assessment' (fixed, "
                        "still open, regressed) and since-last.csv")
    p.add_argument("--backfill", metavar="ATTRS",
                   help="cloud values ad-backfill.csv copies into AD before the first sync: proxyAddresses (the "
                        "aliases the takeover would lose) and/or Entra property names whose AD value is empty "
                        "(default: proxyAddresses,mail)")
    p.set_defaults(func=_cmd_assess)

    p = sub.add_parser("demo", help="run the whole job offline on a generated sample tenant (reports/demo/)",
                       description="Generate the Contoso sample tenant as real export files and assess it.")
    p.add_argument("--users", type=int, default=300, metavar="N", help="users per side (default 300)")
    p.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same tenant (7)")
    p.add_argument("--out", type=Path, default=Path("reports/demo"), metavar="DIR", help="default reports/demo")
    _add_assessment_options(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("snapshot", help="read export files into a snapshot folder (Parquet + manifest.json)",
                       description="Validate export files once and keep them as a snapshot that `assess "
                                   "--snapshot` reads; rejected rows are kept in the snapshot with reasons.")
    _add_export_options(p, required=True)
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="snapshot folder to write")
    p.set_defaults(func=_cmd_snapshot)

    p = sub.add_parser("collect", help="collect AD (LDAP), Okta and Entra (Graph) live into a snapshot",
                       description="Read-only collection from the sources configured in client.toml; secrets "
                                   "are references (env:NAME). Nothing is written unless every source completes.")
    p.add_argument("--config", type=Path, required=True, metavar="client.toml", help="client configuration")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="snapshot folder to write")
    p.add_argument("--verbose", action="store_true", help="log each request and page")
    p.set_defaults(func=_cmd_collect)

    p = sub.add_parser("batch", help="assess every client of a portfolio (clients.toml) and write an index",
                       description="One notebook run per client, each in its own process; a failing client is "
                                   "reported and does not stop the others; reports/index.html lists them all.")
    p.add_argument("clients", type=Path, metavar="clients.toml", help="portfolio file (see README)")
    p.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR", help="default reports/")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="clients run in parallel (default 1)")
    _add_target(p, default=None)
    p.set_defaults(func=_cmd_batch)
    _add_verify_parsers(sub)

    add_okta_apply(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HybridxError as exc:
        print(f"hybridx: {scrub(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hybridx: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
