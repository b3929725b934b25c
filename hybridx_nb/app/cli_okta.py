"""``hybridx okta-apply``: argument parsing for the Okta side of the anchor fix (the work is in
``remediation.okta_apply``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _cmd_okta_apply(args: argparse.Namespace) -> int:
    from hybridx_nb.remediation.okta_apply import okta_apply

    result = okta_apply(args.config, args.plan, apply=args.apply, rollback=args.rollback, user=args.user,
                        entra_log=args.entra_log)
    return 0 if result.ok else 1


def add_okta_apply(sub: argparse._SubParsersAction) -> None:
    """The ``okta-apply`` subcommand."""
    p = sub.add_parser(
        "okta-apply", help="set the Okta Office 365 app users' immutableId to match the Entra fix (dry run)",
        description="The Okta side of an anchor fix in a federated domain: for each row of okta-remediation.csv "
                    "(okta-rollback.csv with --rollback) re-read the app user, skip it unless its immutableId is "
                    "still the value hybridx saw, write the new value (only with --apply), read it back, and log "
                    "one line per user (okta-apply-log-*.csv in the plan folder). Exit code 1 when a user was "
                    "skipped or failed.")
    p.add_argument("--config", type=Path, required=True, metavar="client.toml",
                   help="client configuration with an [okta] table (an API token allowed to edit the app's users)")
    p.add_argument("--plan", type=Path, required=True, metavar="DIR",
                   help="the hybridx report folder holding okta-remediation.csv and okta-rollback.csv")
    p.add_argument("--apply", action="store_true", help="make the changes (default: dry run, read only)")
    p.add_argument("--rollback", action="store_true", help="restore the original values from okta-rollback.csv")
    p.add_argument("--user", metavar="UPN", help="only this user (the pilot first)")
    p.add_argument("--entra-log", type=Path, metavar="FILE",
                   help="remediation.ps1's log: change in Okta only the users whose Entra side is done")
    p.set_defaults(func=_cmd_okta_apply)
