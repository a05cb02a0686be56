"""The CI gate: under CI=true a skipped database/browser test fails; elsewhere it stays a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

SAMPLE = '''
import pytest

@pytest.mark.postgres
def test_needs_the_database():
    pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")

def test_needs_a_browser():
    pytest.skip("/usr/bin/chromium is absent")

def test_other_skip():
    pytest.skip("listed only in team mode")
'''


def run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(TESTS)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "ci_gate", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts=", "--strict-markers", "-o", "markers=postgres", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)


@pytest.mark.parametrize("ci", [None, "false"])
def test_skips_stay_skips_off_ci(tmp_path: Path, ci: str | None) -> None:
    result = run(tmp_path, ci)
    assert result.returncode == 0, result.stdout
    assert "3 skipped" in result.stdout


def test_database_and_browser_skips_fail_under_ci(tmp_path: Path) -> None:
    result = run(tmp_path, "true")
    assert result.returncode == 1, result.stdout
    assert "2 failed, 1 skipped" in result.stdout
    assert "must run, not skip" in result.stdout
