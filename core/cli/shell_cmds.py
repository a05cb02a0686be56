"""CLI for the demo workspace: `python -m core demo [--out DIR] [--size small|large] [--seed N] [--force]
[--train-models]`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from core.cli import add_json_arg, print_result


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser("demo", help="generate the synthetic demo workspace (seeded, planted structure)")
    demo.add_argument("--out", type=Path, default=None,
                      help="workspace folder (default: the active workspace, ATELIER_HOME/workspaces/demo)")
    demo.add_argument("--size", choices=["tiny", "small", "large"], default="small",
                      help="small ≈ 4k users/120k interactions (default); large ≈ 1M users/5M interactions")
    demo.add_argument("--seed", type=int, default=None, help="random seed (default: ATELIER_SEED or 42)")
    demo.add_argument("--force", action="store_true", help="replace a workspace that already exists there")
    demo.add_argument("--if-missing", action="store_true",
                      help="do nothing (exit 0) when a workspace already exists there (`make run` uses this)")
    demo.add_argument("--train-models", action="store_true",
                      help="after generating, queue one background job that trains every model with its defaults "
                           "(`make run` uses this, so the pages work on a first launch)")
    add_json_arg(demo)
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from core.config import get_settings
    from core.data.workspace import is_workspace
    from core.services.demo import create_demo

    settings = get_settings()
    out = args.out if args.out is not None else settings.workspace_dir()
    seed = settings.seed if args.seed is None else args.seed
    if args.if_missing and not args.force and is_workspace(Path(out)):
        print(f"workspace already there: {Path(out).resolve()}")
        return 0
    started = time.perf_counter()
    ws = create_demo(out, size=args.size, seed=seed, replace=args.force)
    result = {"workspace": ws.name, "path": str(ws.path), "size": args.size, "seed": seed,
              **ws.manifest["sizes"], "seconds": round(time.perf_counter() - started, 1)}
    if args.train_models:
        from core.services import starter_models

        result["training_job"] = starter_models.submit(ws)
    print_result(result, args.json, _render)
    return 0


def _render(result: dict) -> str:
    return (f"demo workspace '{result['workspace']}' written to {result['path']} in {result['seconds']} s: "
            f"{result['users']:,} users, {result['brands']:,} brands, {result['items']:,} items, "
            f"{result['interactions']:,} interactions, {result['outfits']:,} outfits"
            + (f"\ntraining every model in the background: job {result['training_job']} (see the Jobs page)"
               if "training_job" in result else ""))
