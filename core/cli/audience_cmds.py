"""CLI: `audience` — build a brand audience with the active affinity model and write an escaped, audited CSV."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from core.cli import add_json_arg, add_workspace_arg, print_result
from core.files import atomic_write_bytes


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audience", help="export a campaign audience for one or more brands (a daily job)",
        description="Scores every user for the brand(s) with the active affinity model, applies the exclusions "
                    "(suppressed customers always), splits a control group and writes the target ids as CSV.")
    add_workspace_arg(parser)
    parser.add_argument("--brand", action="append", required=True, help="brand id; repeat for several brands")
    parser.add_argument("--blend", choices=("any", "weighted"), default="any",
                        help="several brands: best standardised score (any) or weighted sum (weighted)")
    parser.add_argument("--weight", action="append", type=float, default=None,
                        help="one per --brand with --blend weighted")
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--size", type=int, help="the N best users")
    size.add_argument("--top-percent", type=float, help="the best P%% of eligible users")
    size.add_argument("--min-score", type=float, help="everyone scoring at least S")
    parser.add_argument("--exclude-bought-days", type=int, default=None,
                        help="leave out people who ordered the brand(s) in the last N days of the data")
    parser.add_argument("--frequency-cap-days", type=int, default=None,
                        help="leave out people in another campaign saved in the last N days")
    parser.add_argument("--min-activity", type=int, default=0, help="leave out people with fewer interactions")
    parser.add_argument("--control-percent", type=float, default=0.0, help="hold out a seeded random control group")
    parser.add_argument("--seed", type=int, default=42, help="seeds the control group draw")
    parser.add_argument("--columns", default="", help="extra columns besides user_id: score,rank (ids only by default)")
    parser.add_argument("--save", metavar="NAME", default=None, help="also save it as a campaign (members + control)")
    parser.add_argument("--by", default=None, help="who runs the export (audit log; default: the OS user)")
    parser.add_argument("--out", required=True, type=Path, help="CSV file to write")
    add_json_arg(parser)
    parser.set_defaults(func=_audience)


def _audience(args: argparse.Namespace) -> int:
    from core.data.workspace import Workspace
    from core.services import campaigns, exports
    from core.services.audience import AudienceSpec, Exclusions

    ws = Workspace.open(args.workspace)
    rule, value = (("top_n", args.size) if args.size is not None else
                   ("top_percent", args.top_percent) if args.top_percent is not None else ("min_score", args.min_score))
    spec = AudienceSpec(
        brands=tuple(args.brand), blend=args.blend, weights=tuple(args.weight) if args.weight else None,
        rule=rule, value=value, control_percent=args.control_percent, seed=args.seed,
        exclusions=Exclusions(suppressed=True, bought_brand_within_days=args.exclude_bought_days,
                              frequency_cap_days=args.frequency_cap_days, min_activity=args.min_activity))
    by = args.by or _os_user()
    columns = [c.strip() for c in args.columns.split(",") if c.strip()]
    model, version = campaigns.load_model(ws)
    audience = campaigns.build_for_workspace(ws, spec, model=model)
    campaign_id = None
    if args.save:
        campaign_id = campaigns.save_campaign(ws, args.save, audience, version, by)
        result = exports.export_campaign(ws, campaign_id, by, columns)
    else:
        result = exports.export_audience(ws, audience, version, by, columns, label="audience")
    _write_atomically(args.out, result.data)
    summary = {"file": str(args.out), "rows": result.rows, "sha256": result.sha256, "audience": audience.size,
               "control": audience.n_control, "cutoff": audience.cutoff, "excluded": audience.excluded,
               "removed_suppressed_at_export": result.removed_suppressed, "model_version": version,
               "campaign_id": campaign_id}
    print_result(summary, args.json, _render)
    return 0


def _render(s: dict) -> str:
    excluded = ", ".join(f"{k} {v}" for k, v in s["excluded"].items()) or "none"
    cutoff = "n/a" if s["cutoff"] is None else f"{s['cutoff']:.4f}"
    saved = f"; saved as campaign {s['campaign_id']}" if s["campaign_id"] else ""
    return (f"wrote {s['rows']} ids to {s['file']} (sha256 {s['sha256'][:16]}…){saved}\n"
            f"audience {s['audience']} (control {s['control']}), cut-off score {cutoff}, excluded: {excluded}, "
            f"model {s['model_version']}")


def _write_atomically(path: Path, data: bytes) -> None:
    # A daily job's consumer must never pick up half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)


def _os_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
