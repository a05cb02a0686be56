"""CLI: `scaleout score-table` (full affinity table to Parquet), `scaleout status` (the Dask cluster), `scaleout
show`."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from core.cli import add_json_arg, add_workspace_arg, print_result


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scaleout", help="long work on a Dask cluster; the full affinity table")
    commands = parser.add_subparsers(dest="scaleout_command", metavar="WHAT")
    parser.set_defaults(func=lambda args, _p=parser: (_p.print_help(), 0)[1])

    score = commands.add_parser("score-table", help="score every user × brand of the active affinity model to Parquet")
    add_workspace_arg(score)
    _add_scheduler_arg(score)
    score.add_argument("--k-brands", type=int, default=10, help="top brands kept per user")
    score.add_argument("--k-users", type=int, default=1000, help="top users kept per brand")
    score.add_argument("--partition-users", type=int, default=50_000, help="users per partition (one task each)")
    score.add_argument("--version", default=None, help="affinity model version (default: the active one)")
    score.add_argument("--submit", action="store_true",
                       help="run as a background job (on the cluster when one is set) and print its id")
    add_json_arg(score)
    score.set_defaults(func=_score)

    status = commands.add_parser("status", help="the configured Dask scheduler and its workers")
    _add_scheduler_arg(status)
    add_json_arg(status)
    status.set_defaults(func=_status)

    show = commands.add_parser("show", help="rows of the scored table for one user or one brand")
    add_workspace_arg(show)
    who = show.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="a user id: its top brands")
    who.add_argument("--brand", help="a brand id: its top users")
    show.add_argument("--limit", type=int, default=20, help="rows shown")
    show.add_argument("--version", default=None, help="affinity model version (default: the active one)")
    add_json_arg(show)
    show.set_defaults(func=_show)


def _add_scheduler_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: ATELIER_DASK_SCHEDULER; "
                             "none = this machine)")


def _use_scheduler(args: argparse.Namespace) -> None:
    if args.scheduler:
        os.environ["ATELIER_DASK_SCHEDULER"] = args.scheduler  # settings are read from the environment


def _score(args: argparse.Namespace) -> int:
    from core.data.workspace import Workspace
    from core.services import affinity_table, jobs

    _use_scheduler(args)
    ws = Workspace.open(args.workspace)
    params = {"k_brands": args.k_brands, "k_users": args.k_users, "partition_users": args.partition_users,
              "version": args.version}
    affinity_table.table_params(params)
    if args.submit:
        job_id = affinity_table.submit_scoring(ws, params)
        print_result({"job_id": job_id, "status": jobs.get(ws, job_id).status,
                      "follow": f"python -m core jobs show {job_id} --workspace {ws.path}"}, args.json)
        return 0
    job_id = jobs.run_inline(ws, affinity_table.KIND, params, echo=not args.json)
    print_result({"job_id": job_id, **(jobs.get(ws, job_id).result or {})}, args.json, _render_summary)
    return 0


def _render_summary(result: dict[str, Any]) -> str:
    return (f"job {result['job_id']}: {result['n_users']:,} users × {result['n_brands']:,} brands of model "
            f"{result['version']} in {result['partitions']} partitions on the {result['runner']} runner, "
            f"{result['seconds']:.1f} s ({result['users_per_s']:,.0f} users/s)\n"
            f"top {result['k_brands']} brands per user and top {result['k_users']} users per brand in {result['path']}")


def _status(args: argparse.Namespace) -> int:
    from core.jobs import cluster

    _use_scheduler(args)
    address = cluster.scheduler_address()
    if not address:
        info: dict[str, Any] = {"scheduler": None, "runner": "local",
                                "hint": "set ATELIER_DASK_SCHEDULER=tcp://host:8786 to run long work on a Dask cluster"}
    else:
        started = time.perf_counter()
        info = {**cluster.cluster_info(address), "runner": "dask",
                "connect_s": round(time.perf_counter() - started, 3)}
    print_result(info, args.json, _render_status)
    return 0


def _render_status(info: dict[str, Any]) -> str:
    if not info["scheduler"]:
        return f"no Dask scheduler: jobs run in local worker processes ({info['hint']})"
    lines = [f"scheduler {info['scheduler']}: {info['n_workers']} worker(s), {info['threads']} thread(s)"]
    lines += [f"  {w['address']}  threads={w['threads']}  memory_limit={w['memory_limit']}" for w in info["workers"]]
    return "\n".join(lines)


def _show(args: argparse.Namespace) -> int:
    from core.data.workspace import Workspace
    from core.errors import UnknownIdError
    from core.services import affinity_table

    ws = Workspace.open(args.workspace)
    if args.user is not None:
        rows = affinity_table.user_top_brands(ws, args.version, user_id=args.user)
    else:
        rows = affinity_table.brand_top_users(ws, args.version, brand_id=args.brand)
    if rows.empty:
        what = f"user {args.user!r}" if args.user is not None else f"brand {args.brand!r}"
        raise UnknownIdError(f"{what} is not in the scored table: check the id, or score the table again "
                             "after training (`python -m core scaleout score-table`)")
    rows = rows.head(args.limit).astype({"user_id": str, "brand_id": str})
    print_result(rows.to_dict("records"), args.json, lambda r: rows.to_string(index=False))
    return 0
