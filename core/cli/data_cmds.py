"""CLI for data: `validate FILE --kind K`, `import --workspace NAME ...`, `workspace list`."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.cli import add_json_arg, group, print_result
from core.columns import EVENTS

KIND_CHOICES = ("interactions", "catalogue", "outfits", "customers")
PUBLIC_CHOICES = ("fashion_product_images", "hm", "myntra", "mango", "polyvore", "tmall")


def register(subparsers: argparse._SubParsersAction) -> None:
    validate = subparsers.add_parser("validate",
                                     help="check a CSV/Parquet file against a table's rules (writes nothing)")
    validate.add_argument("file", help="path of the CSV or Parquet file")
    validate.add_argument("--kind", required=True, choices=KIND_CHOICES, help="which table the file fills")
    validate.add_argument("--map", nargs="*", default=[], metavar="SRC=DST",
                          help="map a source column to ours (DST empty = ignore the column)")
    validate.add_argument("--event", choices=EVENTS,
                          help="interactions without an event column: this event on every row")
    add_json_arg(validate)
    validate.set_defaults(func=_validate)

    imp = subparsers.add_parser("import", help="import files (or a public data set) into a workspace, all or nothing")
    imp.add_argument("--workspace", required=True, help="workspace name (created when absent) or directory")
    for kind in KIND_CHOICES:
        imp.add_argument(f"--{kind}", metavar="FILE", help=f"{kind} CSV or Parquet file")
    imp.add_argument("--map", nargs="*", default=[], metavar="SRC=DST",
                     help="map source columns to ours in every file (DST empty = ignore); KIND:SRC=DST for one file")
    imp.add_argument("--event", choices=EVENTS, help="interactions without an event column: this event on every row")
    imp.add_argument("--public", choices=PUBLIC_CHOICES, help="import a public data set instead of files")
    imp.add_argument("--folder", help="folder of the public data set (default: ../shared/data/<its folder>)")
    imp.add_argument("--by", default="local", help="who imports (recorded in the audit log)")
    add_json_arg(imp)
    imp.set_defaults(func=_import)

    workspace = group(subparsers, "workspace", help="workspaces: list")
    listing = workspace.add_parser("list", help="workspaces under ATELIER_HOME with rows per table")
    add_json_arg(listing)
    listing.set_defaults(func=_workspace_list)


def parse_mapping(pairs: list[str]) -> dict[str, dict[str, str | None]]:
    """`SRC=DST` (all files) or `KIND:SRC=DST` -> {kind or "*": {src: dst or None}}."""
    from core.errors import AtelierError

    out: dict[str, dict[str, str | None]] = {}
    for pair in pairs:
        if "=" not in pair:
            raise AtelierError(f"--map {pair!r}: write SRC=DST (e.g. customer_id=user_id)")
        left, dst = pair.split("=", 1)
        kind, src = "", left
        if ":" in left and left.split(":", 1)[0] in KIND_CHOICES:
            kind, src = left.split(":", 1)
        out.setdefault(kind or "*", {})[src.strip()] = dst.strip() or None
    return out


def _mapping_for(mappings: dict[str, dict[str, str | None]], kind: str) -> dict[str, str | None] | None:
    merged = {**mappings.get("*", {}), **mappings.get(kind, {})}
    return merged or None


def _problems(error: Any) -> list[dict[str, Any]]:
    return [asdict(p) for p in error.problems]


def _validate(args: argparse.Namespace) -> int:
    from core.data.readers import read_table
    from core.errors import ValidationError

    mapping = _mapping_for(parse_mapping(args.map), args.kind)
    try:
        frame = read_table(args.file, args.kind, mapping, default_event=args.event)
    except ValidationError as error:
        if args.json:
            print_result({"file": args.file, "kind": args.kind, "valid": False, "problems": _problems(error)}, True)
        else:
            print(f"{args.file}: rejected, {len(error.problems)} problem(s):", file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
            print("Fix the file (or map its columns with --map SRC=DST) and validate again.", file=sys.stderr)
        return 1
    result = {"file": args.file, "kind": args.kind, "valid": True, "rows": int(len(frame)),
              "columns": [str(c) for c in frame.columns]}
    print_result(result, args.json,
                 lambda r: f"{r['file']}: valid {r['kind']} file, {r['rows']:,} rows, columns "
                           f"{', '.join(r['columns'])}")
    return 0


def _target(workspace: str) -> str | Path:
    """--workspace: a folder when it looks like one (its user owns the shell), else a workspace name."""
    return Path(workspace) if os.sep in workspace or workspace.startswith(".") else workspace


def _import(args: argparse.Namespace) -> int:
    from core.errors import AtelierError, ValidationError
    from core.services.imports import ImportFile, import_files, import_public

    try:
        if args.public:
            if any(getattr(args, k) for k in KIND_CHOICES):
                raise AtelierError("give either --public or files, not both")
            result = import_public(args.public, args.folder, _target(args.workspace), by=args.by, any_folder=True)
        else:
            mappings = parse_mapping(args.map)
            files = [ImportFile(kind, getattr(args, kind), mapping=_mapping_for(mappings, kind),
                                default_event=args.event if kind == "interactions" else None)
                     for kind in KIND_CHOICES if getattr(args, kind)]
            if not files:
                raise AtelierError("nothing to import: give --interactions, --catalogue, --outfits, --customers or "
                                   "--public")
            result = import_files(_target(args.workspace), files, by=args.by)
    except ValidationError as error:
        if args.json:
            print_result({"workspace": args.workspace, "imported": False, "problems": _problems(error)}, True)
        else:
            print(f"import into {args.workspace!r} rejected, nothing was written; {len(error.problems)} problem(s):",
                  file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
        return 1
    payload = {"imported": True, **result.as_dict()}

    def render(r: dict[str, Any]) -> str:
        verb = "created" if r["created"] else "updated"
        lines = [f"workspace {r['workspace']!r} {verb} at {r['path']}"]
        lines += [f"  {kind}: {rows:,} rows" for kind, rows in r["rows"].items()]
        lines += [f"  note: {note}" for note in r["notes"]]
        return "\n".join(lines)

    print_result(payload, args.json, render)
    return 0


def _workspace_list(args: argparse.Namespace) -> int:
    from core.config import get_settings
    from core.data.workspace import Workspace
    from core.services.imports import list_workspace_summaries, table_details

    summaries = list_workspace_summaries()
    active = get_settings().workspace
    columns = ("interactions", "catalogue", "outfits", "customers")

    def render(rows: list[dict[str, Any]]) -> str:
        if not rows:
            return (f"no workspaces under {get_settings().workspaces_dir}: "
                    "run `python -m core demo` or `python -m core import`")
        lines = [f"{'':2}{'name':28}{'interactions':>14}{'catalogue':>11}{'outfits':>9}{'customers':>11}"]
        for r in rows:
            mark = "* " if r["active"] else "  "
            cells = [f"{r[k]:,}" if r[k] is not None else "-" for k in columns]
            lines.append(f"{mark}{r['name']:28}{cells[0]:>14}{cells[1]:>11}{cells[2]:>9}{cells[3]:>11}")
        return "\n".join(lines) + "\n(outfits: distinct outfits; the table holds one row per outfit item)"

    for row in summaries:
        row["active"] = row["name"] == active
        # The outfits table has a row per outfit item: people count outfits.
        row["outfit_items"] = row["outfits"]
        if row["outfits"] is not None:
            row["outfits"] = table_details(Workspace.open(Path(row["path"]))).get("outfits")
    print_result(summaries, args.json, render)
    return 0
