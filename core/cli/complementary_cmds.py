"""CLI of the complementary model: `evaluate complementary`, `train complementary`, `complementary
score|candidates|look`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from core.cli import add_json_arg, add_workspace_arg, group, print_result, render_summary

if TYPE_CHECKING:
    from core.models.complementary.params import ComplementaryParams


def register(subparsers: argparse._SubParsersAction) -> None:
    evaluate = group(subparsers, "evaluate").add_parser(
        "complementary", help="pair AUC, fill-in-the-blank and outfit AUC of model, prior and random on held-out "
                              "outfits")
    add_workspace_arg(evaluate)
    evaluate.add_argument("--train-outfits", type=Path, help="outfits CSV/Parquet (outfit_id,item_id) to train on")
    evaluate.add_argument("--test-outfits", type=Path, help="outfits CSV/Parquet to evaluate on (no outfit id in both)")
    evaluate.add_argument("--products", type=Path, help="catalogue CSV/Parquet (item_id, category, ...)")
    evaluate.add_argument("--mango", type=Path, help="folder of the Mango outfits data set (split by outfit)")
    evaluate.add_argument("--polyvore", type=Path, help="folder of the Polyvore outfits data set (categories only)")
    evaluate.add_argument("--set-model", action="store_true",
                          help="with --mango: also compare a DeepSets outfit scorer with the mean of pairwise scores")
    _add_params(evaluate)
    add_json_arg(evaluate)
    evaluate.set_defaults(func=_evaluate)

    train = group(subparsers, "train").add_parser("complementary",
                                                  help="train, evaluate, save and activate a pair model (uses stylist "
                                                       "labels)")
    add_workspace_arg(train)
    _add_params(train)
    train.add_argument("--no-labels", action="store_true", help="ignore stylist labels")
    add_json_arg(train)
    train.set_defaults(func=_train)

    comp = group(subparsers, "complementary", help="complementary pairs: score, labelling queue, complete the look")
    score = comp.add_parser("score", help="write item_a,item_b,score for every pair of --pairs")
    add_workspace_arg(score)
    score.add_argument("--train-outfits", type=Path,
                       help="train a model on these outfits (else the workspace's active model)")
    score.add_argument("--products", type=Path, help="catalogue file for --train-outfits")
    score.add_argument("--pairs", type=Path, required=True, help="CSV with item_a,item_b")
    score.add_argument("--out", type=Path, required=True, help="CSV to write item_a,item_b,score to")
    _add_params(score)
    score.set_defaults(func=_score)

    cand = comp.add_parser("candidates",
                           help="queue pairs for stylists (least-sure pairs spread over categories + confident ones)")
    add_workspace_arg(cand)
    cand.add_argument("-n", type=int, default=200, help="pairs to queue")
    cand.add_argument("--confident-share", type=float, default=0.2,
                      help="share of pairs the model is sure of (checks); the rest are the most uncertain")
    cand.add_argument("--labels-per-pair", type=int, default=1,
                      help="k > 1 lets k stylists label the same pair (agreement)")
    add_json_arg(cand)
    cand.set_defaults(func=_candidates)

    look = comp.add_parser("look", help="complete the look: best items of each other category for an item")
    add_workspace_arg(look)
    look.add_argument("--item", required=True, help="the anchor item id")
    look.add_argument("--per-category", type=int, default=3, help="suggestions per category")
    add_json_arg(look)
    look.set_defaults(func=_look)


def _add_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: the model's own)")
    parser.add_argument("--params", default=None,
                        help='JSON of model parameters, e.g. \'{"dim": 32, "use_item_ids": false}\'')


def _params(args: argparse.Namespace) -> "ComplementaryParams":
    from core.errors import AtelierError
    from core.models.complementary.params import ComplementaryParams

    try:
        params = json.loads(args.params) if args.params else {}
    except json.JSONDecodeError as error:
        raise AtelierError(f"--params is not JSON ({error}): write it like '{{\"epochs\": 5}}'") from error
    if args.epochs is not None:
        params["epochs"] = args.epochs
    return ComplementaryParams.from_dict(params)


def _read(path: Path, kind: str):  # noqa: ANN202 — DataFrame, pandas imported lazily
    from core.data.readers import read_table
    from core.errors import AtelierError

    if not path.is_file():
        raise AtelierError(f"{path}: file not found")

    return read_table(path, kind)


def _render(result: dict) -> str:
    lines = [f"{'':10} {'pair_auc':>9} {'fitb':>7} {'outfit_auc':>10}"
             + ("  compat_auc" if "compatibility_auc" in result["model"] else "")]
    for name in ("model", "prior", "popularity", "random"):
        if name not in result:
            continue
        m = result[name]
        extra = f"  {m['compatibility_auc']:.4f}" if "compatibility_auc" in m else ""
        lines.append(f"{name:10} {m['pair_auc']:9.4f} {m['fitb_accuracy']:7.4f} {m['outfit_auc']:10.4f}{extra}")
    lines.append("counts: " + ", ".join(f"{k}={v}" for k, v in result.get("counts", {}).items()))
    for name, m in result.get("outfit_scorers", {}).items():
        lines.append(f"{name}: " + ", ".join(f"{k}={v:.4f}" for k, v in m.items()))
    return "\n".join(lines)


def _evaluate(args: argparse.Namespace) -> int:
    from core.errors import AtelierError
    from core.services import outfit_eval, outfit_training

    params = _params(args)
    if args.set_model and not args.mango:
        raise AtelierError("--set-model works only with --mango")
    if args.mango:
        result = outfit_eval.evaluate_mango(args.mango, params, set_model=args.set_model)
    elif args.polyvore:
        result = outfit_eval.evaluate_polyvore(args.polyvore, params)
    elif args.train_outfits or args.test_outfits or args.products:
        missing = [n for n in ("train_outfits", "test_outfits", "products") if getattr(args, n) is None]
        if missing:
            raise AtelierError("also give " + ", ".join(f"--{m.replace('_', '-')} FILE" for m in missing)
                               + " (the file options go together)")
        result = outfit_training.evaluate_files(_read(args.products, "catalogue"), _read(args.train_outfits, "outfits"),
                                        _read(args.test_outfits, "outfits"), params)
    else:
        from core.data.workspace import Workspace

        result = outfit_training.evaluate_workspace(Workspace.open(args.workspace), params)
    result.pop("history", None)
    print_result(result, args.json, _render)
    return 0


def _train(args: argparse.Namespace) -> int:
    from core.services import jobs
    from core.data.workspace import Workspace
    from core.services import outfit_training

    ws = Workspace.open(args.workspace)
    job_id = outfit_training.submit_training(ws, _params(args), "local", inline=True, echo=not args.json,
                                             use_labels=not args.no_labels)
    print_result(jobs.get(ws, job_id).result, args.json,
                 lambda r: render_summary(r or {}, f"complementary model trained (job {job_id})"))
    return 0


def _score(args: argparse.Namespace) -> int:
    from core.errors import AtelierError
    from core.models.complementary.model import ComplementaryData, ComplementaryModel
    from core.services import outfits
    from core.services.exports import to_csv_bytes  # a file people open in spreadsheets: formula cells escaped

    pairs = outfits.read_pairs(args.pairs)
    if args.train_outfits:
        if args.products is None:
            raise AtelierError("--train-outfits needs --products FILE (the catalogue of those outfits)")
        data = ComplementaryData(_read(args.products, "catalogue"), _read(args.train_outfits, "outfits"))
        model = ComplementaryModel.train(data, _params(args))
    else:
        from core.data.workspace import Workspace

        model = outfits.require_model(Workspace.open(args.workspace))
    scored = outfits.score_pairs(model, pairs)  # raises before anything is written when an id is unknown
    from core.files import atomic_write_bytes

    atomic_write_bytes(args.out, to_csv_bytes(scored))
    print(f"wrote {len(scored)} scored pairs to {args.out}")
    return 0


def _candidates(args: argparse.Namespace) -> int:
    from core.data.workspace import Workspace
    from core.services import outfits

    ws = Workspace.open(args.workspace)
    added = outfits.propose_candidates(ws, args.n, args.confident_share, args.labels_per_pair)
    print_result({"queued": added, "queue": outfits.queue_status(ws)}, args.json)
    return 0


def _look(args: argparse.Namespace) -> int:
    from core.data.workspace import Workspace
    from core.services import outfits

    frame, score = outfits.complete_the_look(Workspace.open(args.workspace), args.item, args.per_category)
    if args.json:
        print_result({"outfit_score": score, "items": frame.to_dict(orient="records")}, True)
    else:
        print(frame.to_string(index=False))
        print(f"outfit score of the item + each category's best: {score:.3f}")
    return 0
