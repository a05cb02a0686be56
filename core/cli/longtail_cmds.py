"""CLI of the long-tail model: `evaluate long-tail` (cold-start protocol) and `train long-tail` (job, saved version)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.cli import add_json_arg, add_workspace_arg, group, print_result, render_summary
from core.evaluation.seeds import over_seeds, seed_list
from core.errors import Problem, ValidationError

# Every command module is imported to build the parser: models and services (torch, umap, faiss behind them)
# load in the command that needs them.
if TYPE_CHECKING:
    import pandas as pd

    from core.models.long_tail import LongTailParams


def register(subparsers: argparse._SubParsersAction) -> None:
    evaluate = group(subparsers, "evaluate").add_parser(
        "long-tail", help="cold-start NDCG@10/AP per popularity bucket: ALS vs predicted vs blended vs content vs "
                          "popularity")
    add_workspace_arg(evaluate)
    evaluate.add_argument("--interactions", type=Path, help="interactions CSV/Parquet (generic schema)")
    evaluate.add_argument("--catalogue", type=Path, help="catalogue CSV/Parquet (generic schema)")
    evaluate.add_argument("--mango", type=Path, help="folder of the Mango outfits data set (outfits as sessions)")
    _add_params(evaluate)
    evaluate.add_argument("--eval", default=None,
                          help='JSON of protocol parameters, e.g. \'{"holdout_fraction": 0.2}\'')
    evaluate.add_argument("--seeds", default=None, metavar="S1,S2,…",
                          help="one run per seed (the held-out items and the models), as mean ± sd over them")
    add_json_arg(evaluate)
    evaluate.set_defaults(func=_evaluate)

    train = group(subparsers, "train").add_parser(
        "long-tail", help="train ALS + content encoder, evaluate, project with UMAP, save and activate a version")
    add_workspace_arg(train)
    _add_params(train)
    train.add_argument("--no-eval", action="store_true", help="skip the cold-start evaluation")
    train.add_argument("--no-projection", action="store_true", help="skip the UMAP maps")
    add_json_arg(train)
    train.set_defaults(func=_train)


def _add_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=int, default=None, help="encoder epochs (early stopping may end sooner)")
    parser.add_argument("--factors", type=int, default=None, help="ALS factors")
    parser.add_argument("--params", default=None,
                        help='JSON of model parameters, e.g. \'{"alpha": 10, "threshold": 10, "blend_k": 5}\'')


def _json(text: str | None, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError as error:
        raise ValidationError([Problem(what, None, None, f"not JSON: {error}")]) from error
    if not isinstance(value, dict):
        raise ValidationError([Problem(what, None, None, "must be a JSON object")])
    return value


def _params(args: argparse.Namespace) -> LongTailParams:
    from core.models.long_tail import LongTailParams

    params = _json(args.params, "--params")
    for key in ("epochs", "factors"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    return LongTailParams.from_dict(params)


def _read(path: Path, kind: str) -> pd.DataFrame:
    from core.data.readers import read_table

    if not path.is_file():
        raise ValidationError([Problem(str(path), None, None, f"{kind} file not found")])
    return read_table(path, kind)


def _evaluate(args: argparse.Namespace) -> int:
    from core.data.demo import PLANTED
    from core.data.workspace import Workspace
    from core.models.long_tail import EvalParams
    from core.services import long_tail

    protocol = EvalParams.from_dict(_json(args.eval, "--eval"))
    images, ws = None, None  # precomputed image vectors exist only in workspaces (image_features.npz)
    if args.mango:
        interactions, catalogue = long_tail.mango_tables(args.mango)
    elif args.interactions or args.catalogue:
        if not (args.interactions and args.catalogue):
            raise ValidationError([Problem("arguments", None, None, "give both --interactions and --catalogue")])
        interactions, catalogue = _read(args.interactions, "interactions"), _read(args.catalogue, "catalogue")
    else:
        ws = Workspace.open(args.workspace)
        (interactions, _), catalogue, images = long_tail.sessions(ws), ws.catalogue(), ws.image_features()
    demo = ws is not None and (ws.path / PLANTED).is_file()  # a demo: the planted truth gives a ceiling
    if args.seeds:
        try:
            seeds = seed_list(args.seeds)
        except ValueError as error:
            raise ValidationError([Problem("--seeds", None, None, str(error))]) from None
        runs = []
        for seed in seeds:
            at = protocol.replace(seed=seed)
            spaces = long_tail.evaluate_long_tail(interactions, catalogue, _params(args).replace(seed=seed), at,
                                                  image_features=images)["spaces"]
            runs.append({"spaces": spaces, **({"ceiling": long_tail.planted_ceiling(ws, at)} if demo else {})})
        summary = {"seeds": seeds, **over_seeds(runs)}
        print_result(_clean(summary), True) if args.json else print(render_seeds(summary))
        return 0
    result = long_tail.evaluate_long_tail(interactions, catalogue, _params(args), protocol, image_features=images)
    if args.json:
        print_result(_clean(result["spaces"]), True)
    else:
        extra = []
        if demo:
            extra.append(ceiling_line(long_tail.planted_ceiling(ws, protocol), result))
        print(render(result, "users", extra))
        print()
        print(render(result, "items"))
    return 0


def _clean(value: Any) -> Any:
    """NaN (an empty bucket) as null, so the JSON is valid."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def render(result: dict[str, Any], task: str = "users", extra_rows: list[str] | tuple[str, ...] = ()) -> str:
    """The per-bucket table as Markdown (rows: spaces; columns: buckets; cells: NDCG@10 / AP)."""
    spaces = result["spaces"]
    prefix = "" if task == "users" else "item_"
    buckets = list(next(iter(spaces.values())).keys())
    first = next(iter(spaces.values()))
    counts = [str(first[b].get(f"{prefix}n_items", first[b]["n_items"])) for b in buckets]
    lines = [f"task: {'rank held-out users of each item' if task == 'users' else 'item-to-item neighbours'}"
             " — NDCG@10 / AP",
             "| space | " + " | ".join(f"{b} (n={n})" for b, n in zip(buckets, counts)) + " |",
             "|---|" + "---|" * len(buckets)]
    for space, entries in spaces.items():
        cells = []
        for b in buckets:
            ndcg, ap = entries[b].get(f"{prefix}ndcg@10"), entries[b].get(f"{prefix}ap")
            cells.append("–" if ndcg is None or (isinstance(ndcg, float) and math.isnan(ndcg))
                         else f"{ndcg:.3f} / {ap:.3f}")
        lines.append(f"| {space} | " + " | ".join(cells) + " |")
    lines.extend(extra_rows)
    meta = result.get("meta", {})
    if meta and task == "users":
        lines.append(f"\n{meta['n_users']} users, {meta['n_items']} items, {meta['n_interactions']} user-item pairs; "
                     f"{meta['n_held_items']} held-out items ({meta['n_held_interactions']} pairs); encoder on "
                     f"{meta['encoder_items']} items, best epoch {meta['best_epoch']}; "
                     f"ALS {meta['timings']['als_s']:.1f} s, encoder {meta['timings']['encoder_s']:.1f} s; "
                     f"blend_k {meta['params']['blend_k']:g}"
                     + (" (fitted on the encoder's validation items)" if meta["params"].get("fit_blend_k") else ""))
    return "\n".join(lines)


def render_seeds(summary: dict[str, Any]) -> str:
    """The users task as mean ± sd of NDCG@10 over the seeds, the ceiling on a demo, and the tail against ALS."""
    mean, sd = summary["mean"], summary["sd"]
    spaces = mean["spaces"]
    buckets = list(next(iter(spaces.values())).keys())
    seeds = ", ".join(map(str, summary["seeds"]))
    lines = [f"task: rank held-out users of each item — NDCG@10, mean ± sd over seeds {seeds}",
             "| space | " + " | ".join(buckets) + " |", "|---|" + "---|" * len(buckets)]
    rows = dict(spaces)
    if "ceiling" in mean:
        rows["planted truth (ceiling)"] = mean["ceiling"]
    for space, entries in rows.items():
        spread = sd["spaces"].get(space) or sd["ceiling"]
        cells = ["–" if entries.get(b, {}).get("ndcg@10") is None
                 else f"{entries[b]['ndcg@10']:.3f} ± {spread[b]['ndcg@10']:.3f}" for b in buckets]
        lines.append(f"| {space} | " + " | ".join(cells) + " |")
    als = spaces["als"]
    lines.append("")
    for space in ("predicted", "blended"):
        tail, never = spaces[space].get("tail", {}), spaces[space].get("0", {})
        line = f"{space}: tail {_ratio(tail, als.get('tail'))} ALS"
        if "ceiling" in mean and mean["ceiling"].get("tail", {}).get("ndcg@10"):
            line += f", {tail['ndcg@10'] / mean['ceiling']['tail']['ndcg@10']:.0%} of the planted ceiling"
        line += (f"; never-seen items {_ratio(never, als.get('0'))} ALS; "
                 f"head {_ratio(spaces[space]['head'], als['head'])}")
        lines.append(line)
    lines.append("(ratios of the means over seeds)")
    return "\n".join(lines)


def _ratio(mine: dict[str, Any] | None, theirs: dict[str, Any] | None) -> str:
    a, b = (mine or {}).get("ndcg@10"), (theirs or {}).get("ndcg@10")
    return "–" if not a or not b else f"{a / b:.2f}×"


def ceiling_line(ceiling: dict[str, dict[str, float]], result: dict[str, Any]) -> str:
    """A Markdown row of the planted truth's NDCG@10 / AP per bucket (same columns as `render`'s users table)."""
    buckets = list(next(iter(result["spaces"].values())).keys())
    cells = [f"{ceiling[b]['ndcg@10']:.3f} / {ceiling[b]['ap']:.3f}" if ceiling.get(b, {}).get("n_items") else "–"
             for b in buckets]
    return "| planted truth (ceiling) | " + " | ".join(cells) + " |"


def _train(args: argparse.Namespace) -> int:
    from core.services import jobs
    from core.data.workspace import Workspace
    from core.services import long_tail

    ws = Workspace.open(args.workspace)
    job_id = long_tail.submit_training(ws, _params(args), evaluate=not args.no_eval, projection=not args.no_projection,
                                       wait=True, echo=not args.json)
    info = jobs.get(ws, job_id)
    print_result(info.result, args.json,
                 lambda r: render_summary(r or {}, f"long-tail model trained (job {job_id}, status {info.status})"))
    return 0
