"""CLI of the attribute model: `evaluate attributes`, `train attributes`, `attributes predict`."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from core.cli import add_json_arg, add_workspace_arg, group, print_result

PUBLIC = ("fashion_product_images", "hm")


def register(subparsers: argparse._SubParsersAction) -> None:
    evaluate = group(subparsers, "evaluate").add_parser(
        "attributes", help="Table 2 per attribute (weighted F1, accuracy, majority class, TF-IDF + logistic "
                           "regression) "
                           "on a seeded held-out split")
    add_workspace_arg(evaluate)
    evaluate.add_argument("--train-catalogue", type=Path,
                          help="catalogue CSV/Parquet to train on (attr_<name> columns are targets)")
    evaluate.add_argument("--test-catalogue", type=Path, help="catalogue CSV/Parquet whose labels are scored")
    evaluate.add_argument("--public", choices=PUBLIC, help="a public data set read from --folder (split seeded)")
    evaluate.add_argument("--folder", type=Path, help="folder of the --public data set")
    evaluate.add_argument("--category-as-attribute", default=None, metavar="NAME",
                          help="predict the product type (category) as attribute NAME; category_group becomes the "
                               "type input")
    evaluate.add_argument("--sample", type=int, default=None,
                          help="evaluate on a seeded random sample of this many items")
    evaluate.add_argument("--test-fraction", type=float, default=0.2, help="held-out share of items")
    evaluate.add_argument("--seed", type=int, default=7, help="seed of the held-out split")
    evaluate.add_argument("--no-baseline", action="store_true", help="skip the TF-IDF + logistic-regression baseline")
    evaluate.add_argument("--confusion", action="store_true", help="include a confusion matrix per attribute")
    _add_params(evaluate)
    add_json_arg(evaluate)
    evaluate.set_defaults(func=_evaluate)

    train = group(subparsers, "train").add_parser(
        "attributes", help="evaluate, train on every label (review decisions override the catalogue), save and "
                           "activate")
    add_workspace_arg(train)
    _add_params(train)
    train.add_argument("--no-reviews", action="store_true", help="ignore the merchandisers' decisions")
    add_json_arg(train)
    train.set_defaults(func=_train)

    attrs = group(subparsers, "attributes", help="attribute model: predict")
    predict = attrs.add_parser("predict",
                               help="write item_id,attribute,predicted,probability for every item x attribute")
    add_workspace_arg(predict)
    predict.add_argument("--train-catalogue", type=Path,
                         help="train a model on this catalogue (else the workspace's active model)")
    predict.add_argument("--catalogue", type=Path, help="catalogue to predict (default: the workspace catalogue)")
    predict.add_argument("--out", type=Path, required=True, help="CSV to write")
    _add_params(predict)
    predict.set_defaults(func=_predict)


def _add_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--attributes", default=None,
                        help="comma-separated attribute names (default: every attr_* column)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: the model's own)")
    parser.add_argument("--mode", choices=("masked", "tasks"), default=None,
                        help="masked joint loss (default) or ASOS per-attribute datasets in random task order")
    parser.add_argument("--params", default=None, help='JSON of model parameters, e.g. \'{"min_support": 20}\'')


def _params(args: argparse.Namespace) -> dict:
    from core.errors import Problem, ValidationError

    try:
        params = json.loads(args.params) if args.params else {}
    except json.JSONDecodeError as error:
        raise ValidationError([Problem("--params", None, None, f"not JSON: {error}")]) from error
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.mode is not None:
        params["mode"] = args.mode
    return params


def _names(args: argparse.Namespace) -> list[str] | None:
    return [a.strip() for a in args.attributes.split(",") if a.strip()] if args.attributes else None


def _read(path: Path):  # noqa: ANN202 — DataFrame
    from core.data.readers import read_table
    from core.errors import Problem, ValidationError

    if not path.is_file():
        raise ValidationError([Problem(str(path), None, None, "file not found: check the path")])
    return read_table(path, "catalogue")


def _evaluate(args: argparse.Namespace) -> int:
    from core.errors import Problem, ValidationError
    from core.models.attributes.evaluate import category_as_attribute
    from core.models.attributes.params import AttributeParams
    from core.services import attribute_eval as ev

    params = AttributeParams.from_dict(_params(args))
    known = None
    if args.public:
        if args.folder is None:
            raise ValidationError([Problem("arguments", None, "--folder", "required with --public")])
        from core.data.public import read_public

        catalogue = read_public(args.public, args.folder)["catalogue"]
        train, test = _prepare(catalogue, args)
    elif args.train_catalogue or args.test_catalogue:
        if not (args.train_catalogue and args.test_catalogue):
            raise ValidationError([Problem("arguments", None, "--train-catalogue/--test-catalogue", "give both files")])
        train, test = _read(args.train_catalogue), _read(args.test_catalogue)
        if args.category_as_attribute:
            train = category_as_attribute(train, args.category_as_attribute)
            test = category_as_attribute(test, args.category_as_attribute)
    else:
        from core.data.workspace import Workspace
        from core.services.attribute_review import effective_catalogue

        ws = Workspace.open(args.workspace)
        train, test = _prepare(effective_catalogue(ws), args)
        known = ev.planted_errors(ws)
    result = ev.evaluate(train, test, _names(args), params, baseline=not args.no_baseline)
    if known is not None:  # a demo: how well the error finder finds what was planted
        result["error_finder"] = ev.error_finder_report(ws.catalogue(), known)
    result.pop("model")
    if not args.confusion:
        result.pop("confusion")
    print_result(result, args.json, ev.render_table)
    return 0


def _prepare(catalogue, args: argparse.Namespace):  # noqa: ANN001, ANN202
    from core.models.attributes.evaluate import category_as_attribute, split_catalogue

    if args.category_as_attribute:
        catalogue = category_as_attribute(catalogue, args.category_as_attribute)
    if args.sample and args.sample < len(catalogue):
        catalogue = catalogue.sample(n=args.sample, random_state=args.seed).reset_index(drop=True)
    return split_catalogue(catalogue, args.test_fraction, args.seed)


def _train(args: argparse.Namespace) -> int:
    from core.data.workspace import Workspace
    from core.models.attributes.params import AttributeParams
    from core.services import attribute_training, jobs

    ws = Workspace.open(args.workspace)
    run = {"attributes": _names(args)} if _names(args) else {}
    job_id = attribute_training.submit_training(ws, AttributeParams.from_dict(_params(args)),
                                                os.environ.get("USER", "cli"),
                                                inline=True, use_reviews=not args.no_reviews, **run)
    info = jobs.get(ws, job_id)
    result = info.result or {}
    print_result(result, args.json, lambda r: f"version {r.get('version')}\n" + _table(r))
    return 0 if info.status == "done" else 1


def _table(result: dict) -> str:
    from core.services.attribute_eval import render_table

    return render_table({"table": result.get("table", []), "average": result.get("average", {})})


def _predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from core.errors import AtelierError
    from core.models.attributes.model import AttributeData, AttributeModel
    from core.models.attributes.params import AttributeParams
    from core.services.exports import to_csv_bytes  # a file people open in spreadsheets: formula cells escaped

    if args.train_catalogue:
        names = _names(args)
        data = AttributeData(_read(args.train_catalogue), None if names is None else tuple(names))
        model = AttributeModel.train(data, AttributeParams.from_dict(_params(args)))
    else:
        from core.data.workspace import Workspace
        from core.services.attributes import require_active

        model = require_active(Workspace.open(args.workspace)).model
    if args.catalogue:
        catalogue = _read(args.catalogue)
    elif args.train_catalogue is None:
        from core.data.workspace import Workspace

        catalogue = Workspace.open(args.workspace).catalogue()
    else:
        raise AtelierError("give --catalogue (the items to predict)")
    frame = model.predict(catalogue)
    columns = ["item_id", "attribute", "predicted", "probability", "applicable", "has_value", "suspect"]
    from core.files import atomic_write_bytes

    # All or nothing: a reader never sees half a file.
    atomic_write_bytes(args.out, to_csv_bytes(pd.DataFrame(frame[columns]), blank_all_missing=True))
    print(f"wrote {len(frame)} rows ({len(catalogue)} items x {len(model.attributes)} attributes) to {args.out}")
    return 0
