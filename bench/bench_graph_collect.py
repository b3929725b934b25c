"""Collect users from the local fake Graph server through msgraph-sdk and report users/s.

    .venv/bin/python bench/bench_graph_collect.py [--users 100000] [--page-size 999]

The fake server pre-serialises its pages, so the time measured is the client's: msgraph-sdk requests, JSON
parsing and the mapping to the canonical ``entra_users`` frame (the same reader as a Graph JSON export).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.fake_graph import FakeGraph, sample_tenant_data  # noqa: E402

from hybridx_nb.sources.live.graph_api import USER_SELECT, StaticToken, read_graph_tenant  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=999)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    token = "bench-token"
    started = time.perf_counter()
    server = FakeGraph(token, **sample_tenant_data(args.users))
    with server:
        server.preserialise(USER_SELECT, args.page_size)
        print(f"fake Graph: {args.users:,} users, pages pre-serialised in {time.perf_counter() - started:.1f} s")
        best = float("inf")
        for run in range(1, args.runs + 1):
            pages: list[int] = []
            t0 = time.perf_counter()
            result = read_graph_tenant(StaticToken(token), base_url=server.url + "/v1.0", page_size=args.page_size,
                                roles=False, domains=False, organization=False, sync_features=False,
                                progress=lambda table, objects, n: pages.append(n))
            seconds = time.perf_counter() - t0
            best = min(best, seconds)
            users = len(result.tables["entra_users"])
            assert users == args.users, (users, args.users)
            print(f"run {run}: {users:,} users in {max(pages)} pages, {seconds:.2f} s, {users / seconds:,.0f} users/s")
        print(f"best: {args.users / best:,.0f} users/s")


if __name__ == "__main__":
    main()
