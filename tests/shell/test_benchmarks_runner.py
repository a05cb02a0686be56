"""The benchmark runner finds benchmarks/*.py with run(quick), accepts both row styles, and reports failures."""

from __future__ import annotations

import sys
import types

import pytest

from benchmarks.__main__ import discover, main, normalise, render


def test_discovers_modules_with_run() -> None:
    names = discover()
    assert "app_startup" in names and "__main__" not in names and "__init__" not in names


def test_normalises_both_row_styles() -> None:
    ours = normalise({"name": "a", "value": 2.0, "unit": "s", "baseline_name": "plain", "baseline_value": 4.0,
                      "ratio": 2.0})
    theirs = normalise({"name": "b", "metric": "rows_per_s", "value": 10.0, "baseline": 5.0, "note": "read_csv"})
    assert ours == {"name": "a", "value": 2.0, "unit": "s", "baseline_name": "plain", "baseline_value": 4.0,
                    "ratio": 2.0, "limit": None, "met": None}
    assert theirs["unit"] == "rows_per_s" and theirs["baseline_name"] == "read_csv" and theirs["ratio"] == 0.5
    assert "2.00×" in render([ours])


def test_runs_named_benchmarks_and_fails_on_errors(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    good = types.ModuleType("benchmarks.fake_good")
    good.run = lambda quick: [{"name": "fake.speed", "value": 1.0, "unit": "s", "baseline_name": "slow",
                               "baseline_value": 3.0, "ratio": 3.0}]
    bad = types.ModuleType("benchmarks.fake_bad")

    def broken(quick: bool) -> list[dict]:
        raise RuntimeError("planted failure")

    bad.run = broken
    monkeypatch.setitem(sys.modules, "benchmarks.fake_good", good)
    monkeypatch.setitem(sys.modules, "benchmarks.fake_bad", bad)
    monkeypatch.setattr("benchmarks.__main__.discover", lambda: ["fake_good", "fake_bad"])
    assert main(["fake_good", "--quick"]) == 0
    assert "fake.speed" in capsys.readouterr().out
    assert main(["fake_good", "fake_bad"]) == 1
    captured = capsys.readouterr()
    assert "planted failure" in captured.err and "fake.speed" in captured.out
    with pytest.raises(SystemExit):
        main(["no_such_benchmark"])


@pytest.mark.parametrize("module", ["benchmarks.app_startup", "benchmarks.import_throughput", "scripts.screenshots"])
def test_browser_tools_import_cleanly(module: str) -> None:
    """Regression: CHROMIUM moved to tests/conftest.py and both the cold-start benchmark and the screenshot
    script kept importing it from tests/browser/conftest.py, failing only when someone ran them."""
    import importlib

    importlib.import_module(module)


def test_the_cli_parser_can_be_built_many_times_in_one_process() -> None:
    # Command groups used to be keyed by id(subparsers): a freed parser's id reused by the next one gave
    # "conflicting subparser" on a later build_parser() (seen in CI mid-suite).
    import gc

    from core.cli import build_parser

    for _ in range(8):  # each after a full collection, so a freed id can come back; more
        # builds cost seconds each late in the suite (collecting its whole heap)
        assert build_parser().parse_args(["db", "upgrade"]).command == "db"
        gc.collect()


def test_a_target_row_says_whether_its_limit_is_met() -> None:
    met = normalise({"name": "t", "value": 1.2, "unit": "s", "baseline_name": "faiss", "baseline_value": 1.0,
                     "ratio": 1.2, "limit": 1.5})
    missed = normalise({"name": "u", "value": 3.0, "unit": "s", "baseline_name": "faiss", "baseline_value": 1.0,
                        "ratio": 3.0, "limit": 1.5})
    assert (met["met"], missed["met"]) == (True, False)
    table = render([met, missed])
    assert "≤1.50×" in table and " ok " in table and "MISS" in table
