"""The ``hybridx`` command: parses arguments and calls the library; no logic of its own."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__, anchors
from .errors import HybridxError


def _cmd_anchor(args: argparse.Namespace) -> int:
    forms = anchors.describe(args.value)
    rows = [
        ("input", forms.input), ("kind", forms.kind), ("GUID", forms.guid),
        ("ImmutableID (base64, AD byte order)", forms.immutable_id),
        ("big-endian base64 (wrong form)", forms.big_endian_immutable_id),
        ("hex octets (AD order)", forms.hex_octets), ("LDAP filter value", forms.ldap_filter),
        ("note", forms.note),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value if value is not None else '-'}")
    return 0


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
    p.add_argument("value", help="a GUID (with or without braces), an ImmutableID, or any value found in "
                                 "onPremisesImmutableId")
    p.set_defaults(func=_cmd_anchor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HybridxError as exc:
        print(f"hybridx: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hybridx: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
