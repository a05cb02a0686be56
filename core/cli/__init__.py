"""The CLI's subcommands: each module in COMMAND_MODULES adds its own with `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import json
import re
import shlex
import sys
from typing import Any, Callable, Mapping

from core.errors import AtelierError
from core.jsonable import json_default

# One module per area; each defines `register(subparsers: argparse._SubParsersAction) -> None`
# and sets `func=` on its parsers. Add a line here when an area adds commands.
COMMAND_MODULES: list[str] = [
    "core.cli.shell_cmds",
    "core.cli.infra_cmds",
    "core.cli.complementary_cmds",
    "core.cli.affinity_cmds",
    "core.cli.audience_cmds",
    "core.cli.longtail_cmds",
    "core.cli.data_cmds",
    "core.cli.attributes_cmds",
    "core.cli.scaleout_cmds",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Atelier: recommendation workbench CLI.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def group(subparsers: argparse._SubParsersAction, name: str,
          help: str | None = None) -> argparse._SubParsersAction:  # noqa: A002 — argparse's own keyword
    """The subparsers of a command group shared by several areas (`evaluate`, `train`), created on first use."""
    # Kept on the subparsers object itself: an id() can be reused by the next parser once this one is freed
    # (a second build_parser() in one process then met a stale group: "conflicting subparser").
    groups = subparsers.__dict__.setdefault("_atelier_groups", {})
    if name not in groups:
        parser = subparsers.add_parser(name, help=help or f"{name} commands")
        groups[name] = parser.add_subparsers(dest=f"{name}_command", metavar="WHAT")
        parser.set_defaults(func=lambda args, _p=parser: (_p.print_help(), 0)[1])
    return groups[name]


def add_workspace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", default=None, help="workspace name or directory (default: the active one)")


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def print_result(result: Any, as_json: bool, render: Callable[[Any], str] | None = None) -> None:
    """Print a command's numbers as JSON (`--json`) or as text."""
    if as_json:
        print(json.dumps(result, indent=2, default=json_default))
    else:
        print(render(result) if render else json.dumps(result, indent=2, default=json_default))


def render_summary(result: Mapping[str, Any], title: str) -> str:
    """A trained version's result as lines a person reads: `title`, then each number (nested ones by group)."""
    lines = [title]
    for key, value in result.items():
        if isinstance(value, Mapping):
            numbers = {k: v for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            if numbers:
                lines.append(f"  {key}: " + ", ".join(f"{k} {_number(v)}" for k, v in numbers.items()))
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            lines.append(f"  {key}: {_number(value)}")
    return "\n".join(lines)


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def with_workspace(text: str, workspace: str | None) -> str:
    """Suggested `python -m core …` commands in `text` carry this run's --workspace (where the command takes one)."""
    if not workspace:
        return text
    parser = build_parser()

    def add(match: re.Match[str]) -> str:
        command = match.group(1)
        if "--workspace" in command or not _takes_workspace(parser, command.split()[3:]):
            return match.group(0)
        return f"`{command} --workspace {shlex.quote(workspace)}`"

    return re.sub(r"`(python -m core [^`]*)`", add, text)


def _takes_workspace(parser: argparse.ArgumentParser, words: list[str]) -> bool:
    for word in words:
        # argparse has no public way to find a subcommand's parser
        subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
        if not subparsers or word not in subparsers[0].choices:
            break
        parser = subparsers[0].choices[word]
    return any("--workspace" in a.option_strings for a in parser._actions)  # noqa: SLF001


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except AtelierError as error:
        print(f"error: {with_workspace(str(error), getattr(args, 'workspace', None))}", file=sys.stderr)
        return 2
