"""Every CLI option and argument says what it is for in `--help`."""

from __future__ import annotations

import argparse

from core.cli import build_parser


def _undocumented(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[str]:
    missing = []
    for action in parser._actions:  # argparse keeps no public list of a parser's arguments
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                missing += _undocumented(sub, (*path, name))
        elif not action.help and not isinstance(action, argparse._HelpAction):
            missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_option_has_a_help_line() -> None:
    assert not _undocumented(build_parser())


def test_suggested_commands_carry_the_workspace_that_was_used(demo_env, capsys) -> None:
    from core.cli import main

    assert main(["scaleout", "score-table", "--workspace", "demo"]) == 2
    assert "`python -m core train affinity --workspace demo`" in capsys.readouterr().err


def test_with_workspace_keeps_a_given_workspace_and_quotes_paths() -> None:
    from core.cli import with_workspace

    assert with_workspace("run `python -m core db upgrade --workspace a`", "b") == \
        "run `python -m core db upgrade --workspace a`"
    assert with_workspace("run `python -m core train affinity`", "/my data/w") == \
        "run `python -m core train affinity --workspace '/my data/w'`"
    assert with_workspace("run `python -m core demo`", "w") == "run `python -m core demo`"  # demo takes --out
    assert with_workspace("run `python -m core demo`", None) == "run `python -m core demo`"


def test_a_training_summary_is_text_unless_json_is_asked_for() -> None:
    from core.cli import render_summary

    text = render_summary({"version": "v1", "metrics": {"pair_auc": 0.81234, "n": 3}, "labels_used": 1200,
                           "curve": [1, 2]}, "complementary model trained (job 4)")
    assert text.splitlines() == ["complementary model trained (job 4)", "  version: v1",
                                 "  metrics: pair_auc 0.8123, n 3", "  labels_used: 1,200"]
