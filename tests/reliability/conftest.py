"""Reliability suite fixtures: both database engines, and a figures table printed at the end of every run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from tests.db.conftest import PG_ADMIN_URL, _postgres_reachable, make_workspace  # noqa: F401 — re-exported
from tests.db.conftest import dialect  # noqa: F401 — the SQLite / PostgreSQL fixture, reused as is

# (test id, claim, figures) for every reliability check that ran; printed by pytest_terminal_summary, so the
# figures show in a normal `pytest -q` run, not only with -s.
FIGURES: list[tuple[str, str, str]] = []


@pytest.fixture(autouse=True)
def nobody_signed_in() -> None:
    """Services trust the local operator unless someone is bound: a page test run earlier may have bound one."""
    from core import auth

    auth.bind(None)


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[..., None]:
    """report(claim, **figures): print the figures now and add them to the end-of-run table."""

    def _report(claim: str, **figures: Any) -> None:
        text = " ".join(f"{k}={v}" for k, v in figures.items())
        name = request.node.name.removeprefix("test_")
        FIGURES.append((name, claim, text))
        print(f"\n[reliability] {name}: {claim}: {text}")

    return _report


@pytest.fixture
def rws(dialect: str, tmp_path: Path) -> Any:
    """A fresh workspace on the current engine (SQLite file, or a throw-away PostgreSQL schema)."""
    return make_workspace(tmp_path, "rel")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    width = max(len(name) for name, _, _ in FIGURES)
    for name, claim, text in FIGURES:
        terminalreporter.write_line(f"{name:<{width}}  {claim}: {text}")
