"""Hundreds of generated hostile files through validate and import: refused with a message or accepted, none crash."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main as cli_main
from core.data.readers import UNEXPECTED, read_table, sniff_columns
from core.data.workspace import Workspace
from core.errors import ValidationError
from core.services.imports import ImportFile, import_files
from tests.data.conftest import seeded_workspace  # noqa: F401 — the fixture, reused
from tests.reliability.hostile_corpus import ACCEPT, LIMITS, REJECT, Case, corpus
from tests.reliability.test_bad_input import _state


def _refusal_problems(case: Case, error: ValidationError) -> list[str]:
    """What is wrong with a refusal's message (empty when it is a clean one)."""
    wrong = []
    if not error.problems:
        wrong.append("no problem listed")
    if any(p.file != case.name for p in error.problems):
        wrong.append(f"a problem names another file: {[p.file for p in error.problems][:3]}")
    if any(UNEXPECTED in p.rule for p in error.problems):
        wrong.append(f"the reader failed inside: {error.problems[0].rule}")
    if case.rule and not any(case.rule in p.rule for p in error.problems):
        wrong.append(f"no rule mentions {case.rule!r}: {[p.rule for p in error.problems][:3]}")
    if case.family == "quotes" and not any(p.row for p in error.problems):
        wrong.append("a broken quote without its row number")
    if len(error.problems) > 60:
        wrong.append(f"{len(error.problems)} problems listed (the cap is 50 + summary lines)")
    return wrong


def test_hostile_corpus_is_refused_cleanly_or_accepted(seeded_workspace: Workspace, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str], report) -> None:
    for name, value in LIMITS.items():
        monkeypatch.setenv(name, value)
    cases = corpus()
    assert len(cases) >= 300, len(cases)
    folder = tmp_path / "hostile"
    folder.mkdir()
    accepted_ws = tmp_path / "accepted"
    before = _state(seeded_workspace)
    verdicts: Counter[str] = Counter()
    families: dict[str, Counter[str]] = {}
    crashes: list[tuple[str, str]] = []
    wrong: list[tuple[str, str]] = []
    started = time.perf_counter()
    for k, case in enumerate(cases):
        path = folder / case.name
        path.write_bytes(case.data)
        try:
            frame = read_table(path, case.kind)
        except ValidationError as error:
            verdict = "rejected"
            wrong += [(case.name, w) for w in _refusal_problems(case, error)]
            if case.expect == ACCEPT:
                wrong.append((case.name, f"refused a file that should pass: {error.problems[0]}"))
        except Exception as error:  # noqa: BLE001 — the point of the test: count it, name it, fail below
            crashes.append((case.name, f"{type(error).__name__}: {error}"[:300]))
            continue
        else:
            verdict = "accepted"
            if case.expect == REJECT:
                wrong.append((case.name, f"accepted a hostile file ({len(frame)} rows)"))
        try:  # the Data page's first step: header and preview for the mapping editor
            sniff_columns(path.read_bytes(), filename=case.name)
        except ValidationError as error:
            if any(UNEXPECTED in p.rule for p in error.problems):
                wrong.append((case.name, f"sniff failed inside: {error.problems[0].rule}"))
        except Exception as error:  # noqa: BLE001 — counted as a crash of the page's path
            crashes.append((case.name, f"sniff: {type(error).__name__}: {error}"[:300]))
        verdicts[verdict] += 1
        families.setdefault(case.family, Counter())[verdict] += 1
        rc = cli_main(["validate", str(path), "--kind", case.kind])
        err = capsys.readouterr().err
        if rc != (1 if verdict == "rejected" else 0) or "Traceback" in err:
            wrong.append((case.name, f"CLI validate exited {rc}: {err[-300:]}"))
        if verdict == "rejected":
            with pytest.raises(ValidationError):
                import_files(seeded_workspace.path, [ImportFile(case.kind, path)])
            if k % 7 == 0:  # the CLI import on a sample: the same service, plus argument parsing and printing
                rc = cli_main(["import", "--workspace", str(seeded_workspace.path), f"--{case.kind}", str(path)])
                err = capsys.readouterr().err
                if rc != 1 or "nothing was written" not in err:
                    wrong.append((case.name, f"CLI import exited {rc}: {err[-300:]}"))
        else:  # accepted: the import stores exactly the rows the reader returned
            result = import_files(accepted_ws, [ImportFile(case.kind, path)])
            stored = pd.read_parquet(Workspace.open(result.path).table_path(case.kind))
            if len(stored) != len(frame):
                wrong.append((case.name, f"stored {len(stored)} rows, read {len(frame)}"))
    seconds = time.perf_counter() - started
    after = _state(seeded_workspace)
    summary = (f"hostile files: {len(cases)} files, {verdicts['rejected']} rejected cleanly, "
               f"{verdicts['accepted']} accepted, {len(crashes)} crashes")
    print(summary)
    report(summary, families=len(families), wrong=len(wrong), seconds=round(seconds, 1),
           workspace_unchanged=after == before,
           by_family={f: f"{c['rejected']}r/{c['accepted']}a" for f, c in families.items()})
    assert crashes == [], crashes
    assert wrong == [], "\n".join(f"{n}: {w}" for n, w in wrong)
    assert after == before
