"""CLI: `evaluate affinity` (six models, both directions, over seeds) and `train affinity` (a new model version)."""

from __future__ import annotations

import argparse
from typing import Any

from core.cli import add_json_arg, add_workspace_arg, group, print_result, render_summary
from core.evaluation.seeds import over_seeds, seed_list
from core.models.affinity import AffinityParams
from core.models.affinity.params import DIRECTIONS

# Every command module is imported to build the parser: services (and what they pull in) load in the command.

_METRICS = ("precision@10", "recall@10", "ndcg@10", "auc")


def register(subparsers: argparse._SubParsersAction) -> None:
    evaluate = group(subparsers, "evaluate").add_parser(
        "affinity", help="compare popularity, WARP, transposed WARP, bi-directional, ALS and what training serves "
                         "from both sides")
    add_workspace_arg(evaluate)
    evaluate.add_argument("--interactions", default=None,
                          help="a generic interactions file (CSV/Parquet) or a Tmall folder, instead of a workspace")
    evaluate.add_argument("--models", default=None,
                          help="comma-separated subset of popularity,warp,warp_transposed,bidirectional,als,served")
    evaluate.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of interactions")
    evaluate.add_argument("--split", choices=("auto", "time", "random"), default="auto",
                          help="held-out part: the latest interactions (time), a random share, or time when the "
                               "data has timestamps (auto)")
    evaluate.add_argument("--seed", type=int, default=42, help="seeds the random split (when used) and the models")
    evaluate.add_argument("--seeds", default=None, metavar="S1,S2,…",
                          help="one run per seed (instead of --seed), printed as mean ± sd over them")
    evaluate.add_argument("--no-tune", action="store_true",
                          help="use --iterations as given instead of choosing them on an inner split of the training "
                               "pairs")
    _add_model_args(evaluate)
    add_json_arg(evaluate)
    evaluate.set_defaults(func=_evaluate)

    train = group(subparsers, "train").add_parser("affinity", help="train a bi-directional affinity version (job)")
    add_workspace_arg(train)
    _add_model_args(train)
    train.add_argument("--half-life-days", type=float, default=None, help="time decay of interaction weights")
    train.add_argument("--test-fraction", type=float, default=0.2, help="validation share (0 = no validation)")
    train.add_argument("--no-select", action="store_true", help="keep --iterations instead of the best validated count")
    train.add_argument("--activate", action="store_true", help="make the new version active (default: only if none is)")
    add_json_arg(train)
    train.set_defaults(func=_train)


def _add_model_args(parser: argparse.ArgumentParser) -> None:
    d = AffinityParams()
    parser.add_argument("--factors", type=int, default=d.n_factors, help="embedding size (latent factors)")
    parser.add_argument("--iterations", "--epochs", dest="iterations", type=int, default=d.iterations,
                        help="bi-directional iterations (one epoch each way)")
    parser.add_argument("--learning-rate", type=float, default=d.learning_rate, help="SGD learning rate")
    parser.add_argument("--transposed-lr-ratio", type=float, default=d.transposed_lr_ratio,
                        help="learning rate of the brands×users half ÷ that of the users×brands half")
    parser.add_argument("--max-sampled", type=int, default=d.max_sampled,
                        help="WARP: negatives tried per positive before giving up")
    parser.add_argument("--polish-epochs", type=int, default=d.polish_epochs,
                        help="users×brands-only epochs after the last iteration")
    parser.add_argument("--direction", choices=DIRECTIONS, default=d.direction,
                        help="alternate both directions (bidirectional), plain WARP on users×brands (users) or "
                             "on its transpose only (brands)")


def _model_params(args: argparse.Namespace) -> dict[str, Any]:
    return {"n_factors": args.factors, "iterations": args.iterations, "learning_rate": args.learning_rate,
            "transposed_lr_ratio": args.transposed_lr_ratio, "max_sampled": args.max_sampled,
            "polish_epochs": args.polish_epochs, "direction": args.direction}


def _evaluate(args: argparse.Namespace) -> int:
    from core.data.workspace import Workspace
    from core.errors import AtelierError
    from core.services import affinity_eval

    models = tuple(args.models.split(",")) if args.models else affinity_eval.MODELS
    unknown = set(models) - set(affinity_eval.MODELS)
    if unknown:
        raise AtelierError(f"unknown models {sorted(unknown)}; choose from {', '.join(affinity_eval.MODELS)}")
    try:
        seeds = seed_list(args.seeds) if args.seeds else None
    except ValueError as error:
        raise AtelierError(str(error)) from None

    def run(seed: int) -> dict[str, Any]:
        params = AffinityParams.from_dict({**_model_params(args), "seed": seed})
        kwargs = dict(models=models, test_fraction=args.test_fraction, seed=seed, split_method=args.split,
                      tune=not args.no_tune)
        if args.interactions:
            return affinity_eval.evaluate_file(args.interactions, params, **kwargs)
        return affinity_eval.evaluate_workspace(Workspace.open(args.workspace), params, **kwargs)

    if seeds is None:
        result = run(args.seed)
        print_result(result["models"] if args.json else result, args.json, _render)
        return 0
    runs = {seed: run(seed) for seed in seeds}
    summary = over_seeds([r["models"] for r in runs.values()])
    print_result({"seeds": seeds, **summary, "runs": {str(s): r["models"] for s, r in runs.items()},
                  "splits": {str(s): r["split"] for s, r in runs.items()}}, args.json, _render_seeds)
    return 0


def _render_seeds(result: dict[str, Any]) -> str:
    """The comparison as mean ± sd over the seeds, and what each seed chose."""
    seeds, mean, sd = result["seeds"], result["mean"], result["sd"]
    lines = [f"seeds: {', '.join(map(str, seeds))} (one split and one set of model seeds each); mean ± sd", ""]
    lines.append(f"{'model':16s}" + "".join(f"{'user ' + m:>21s}" for m in _METRICS)
                 + "".join(f"{'brand ' + m:>21s}" for m in _METRICS) + "  chosen")
    for name, row in mean.items():
        cells = "".join(_cell(row, sd[name], f"{side}_{m}") for side in ("user", "brand") for m in _METRICS)
        values = result["values"][name]
        chosen = ", ".join(f"{k}=" + "/".join(f"{v:g}" for v in values[k])
                           for k in ("iterations", "regularization", "brand_side_weight") if k in values)
        lines.append(f"{name:16s}{cells}  {chosen}")
    return "\n".join(lines)


def _cell(mean: dict[str, Any], sd: dict[str, Any], key: str) -> str:
    if mean.get(key) is None:
        return f"{'–':>21s}"
    return f"{mean[key]:.4f} ± {sd[key]:.4f}".rjust(21)


def _render(result: dict[str, Any]) -> str:
    lines = [f"split: {result['split']}", ""]
    header = f"{'model':16s}" + "".join(f"{'user ' + m:>19s}"
                                        for m in _METRICS) + "".join(f"{'brand ' + m:>19s}" for m in _METRICS)
    lines.append(header + f"{'users':>8s}{'brands':>8s}  chosen")
    for name, row in result["models"].items():
        cells = "".join(f"{row[f'user_{m}']:19.4f}"
                        for m in _METRICS) + "".join(f"{row[f'brand_{m}']:19.4f}" for m in _METRICS)
        chosen = ", ".join(f"{k}={row[k]}" for k in ("iterations", "regularization", "brand_side_weight") if k in row)
        lines.append(f"{name:16s}{cells}{row['n_users']:8d}{row['n_brands']:8d}  {chosen}")
    return "\n".join(lines)


def _train(args: argparse.Namespace) -> int:
    from core.services import jobs
    from core.data.workspace import Workspace
    from core.services import affinity_training

    ws = Workspace.open(args.workspace)
    params = AffinityParams.from_dict({**_model_params(args), "half_life_days": args.half_life_days,
                                       "test_fraction": args.test_fraction, "select_iterations": not args.no_select})
    job_id = affinity_training.submit_training(ws, params, activate=args.activate, wait=True, echo=not args.json)
    info = jobs.get(ws, job_id)
    result = {k: v for k, v in (info.result or {}).items() if k != "curve"}
    if not args.json and "brand_side" in result:  # a sentence for a person, every figure for a script
        result["brand_side"] = result["brand_side"]["explanation"]
    print_result({"job_id": job_id, **result}, args.json,
                 lambda r: render_summary(r, f"affinity model trained (job {job_id}, status {info.status})"))
    return 0
