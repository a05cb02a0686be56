"""CLI for the database (`db upgrade|current|revision`), jobs (`jobs list|show|cancel|run`) and the shared groups."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from core.cli import add_json_arg, add_workspace_arg, group, print_result


def register(subparsers: argparse._SubParsersAction) -> None:
    # Shared groups other areas add to (`train affinity`, `evaluate attributes` ...).
    group(subparsers, "train", help="train a model version (as a job)")
    group(subparsers, "evaluate", help="evaluate a model version")
    _register_db(subparsers)
    _register_jobs(subparsers)


def _register_db(subparsers: argparse._SubParsersAction) -> None:
    db = group(subparsers, "db", help="database schema (migrations)")
    upgrade = db.add_parser("upgrade", help="migrate the workspace's database to the newest schema")
    add_workspace_arg(upgrade)
    upgrade.set_defaults(func=_db_upgrade)
    current = db.add_parser("current", help="show the database's schema revision and the code's")
    add_workspace_arg(current)
    add_json_arg(current)
    current.set_defaults(func=_db_current)
    revision = db.add_parser("revision", help="autogenerate a migration from changes to core/db/models.py")
    revision.add_argument("-m", "--message", required=True, help="what the migration changes and why")
    revision.set_defaults(func=_db_revision)


def _register_jobs(subparsers: argparse._SubParsersAction) -> None:
    jobs = group(subparsers, "jobs", help="long-running work: list, show, cancel, run")
    listing = jobs.add_parser("list", help="jobs of the workspace, newest first")
    add_workspace_arg(listing)
    add_json_arg(listing)
    listing.add_argument("--limit", type=int, default=50, help="newest jobs shown")
    listing.set_defaults(func=_jobs_list)
    show = jobs.add_parser("show", help="one job: status, progress, metrics, result or error")
    show.add_argument("job_id", type=int, help="the job number (see `jobs list`)")
    add_workspace_arg(show)
    add_json_arg(show)
    show.set_defaults(func=_jobs_show)
    cancel = jobs.add_parser("cancel", help="ask a job to stop (terminated after a grace period)")
    cancel.add_argument("job_id", type=int, help="the job number (see `jobs list`)")
    add_workspace_arg(cancel)
    cancel.set_defaults(func=_jobs_cancel)
    run = jobs.add_parser("run", help="run a submitted job in this process (what the worker process does)")
    run.add_argument("job_id", type=int, help="the queued job to run in this process")
    add_workspace_arg(run)
    run.set_defaults(func=_jobs_run)


def _open(args: argparse.Namespace):  # noqa: ANN202 — Workspace, imported lazily to keep --help fast
    from core.data.workspace import Workspace

    return Workspace.open(args.workspace)


def _db_upgrade(args: argparse.Namespace) -> int:
    from core.db.engine import engine_for
    from core.db.session import ensure_schema

    ws = _open(args)
    head = ensure_schema(ws)
    print(f"database {engine_for(ws).url.render_as_string()} is at revision {head} (newest)")
    return 0


def _db_current(args: argparse.Namespace) -> int:
    from core.db import migrate
    from core.db.engine import engine_for

    engine = engine_for(_open(args))
    result = {
        "database": engine.url.render_as_string(),
        "current": migrate.current_revision(engine),
        "head": migrate.head_revision(),
        "state": migrate.schema_state(engine),
    }
    print_result(result, args.json,
                 lambda r: f"{r['database']}: at {r['current']} (code head {r['head']}, {r['state']})")
    return 0 if result["state"] in ("current", "empty") else 1


def _db_revision(args: argparse.Namespace) -> int:
    from alembic import command

    from core.db import migrate
    from core.db.engine import get_engine, sqlite_url

    # Compare the models with a scratch database at head, so the migration holds only the new change.
    with tempfile.TemporaryDirectory() as tmp:
        url = sqlite_url(Path(tmp) / "scratch.db")
        migrate.upgrade(get_engine(url))
        head = migrate.head_revision()
        rev_id = f"{int(head) + 1:04d}" if head.isdigit() else None  # 0001, 0002 ... read in order
        command.revision(migrate.alembic_config(url), message=args.message, autogenerate=True, rev_id=rev_id)
        get_engine(url).dispose()
    print("review the new file in core/db/migrations/versions/ before committing it")
    return 0


def _jobs_list(args: argparse.Namespace) -> int:
    from core.services import jobs

    frame = jobs.list_jobs(_open(args), limit=args.limit)
    if args.json:
        print_result(frame.to_dict(orient="records"), True)
    else:
        columns = ["id", "kind", "status", "progress", "message", "submitted_by", "created_at", "error"]
        print(frame[columns].to_string(index=False) if len(frame) else "no jobs")
    return 0


def _jobs_show(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from core.services import jobs

    info = asdict(jobs.get(_open(args), args.job_id))
    print_result(info, args.json, _render_job)
    return 0 if info["status"] != "failed" else 1


def _render_job(info: dict) -> str:
    lines = [f"job {info['id']} ({info['kind']}): {info['status']} {info['progress']:.0%} {info['message']}"]
    if info["metrics"]:
        lines.append(f"last metrics: {info['metrics'][-1]}")
    if info["result"] is not None:
        lines.append(f"result: {info['result']}")
    if info["error"]:
        lines.append(f"error: {info['error']}")
    return "\n".join(lines)


def _jobs_cancel(args: argparse.Namespace) -> int:
    from core.services import jobs

    info = jobs.cancel(_open(args), args.job_id)
    print(f"job {info.id}: {info.status}"
          + (" (cancel asked; it stops at its next progress update)" if info.status == "running" else ""))
    return 0


def _jobs_run(args: argparse.Namespace) -> int:
    from core import jobs
    from core.services.catalog import job_catalog

    info = jobs.run_job(_open(args), args.job_id, job_catalog())  # the worker finds the job's kind in the catalog
    print(f"job {info.id}: {info.status}" + (f": {info.error}" if info.error else ""))
    return 0 if info.status == "done" else 1
