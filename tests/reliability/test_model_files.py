"""Model files: five kinds of tampering, each refused before anything is deserialised, the previous version serving."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import pickle
import re
import shutil
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import core.artifacts as artifacts_module
from core.artifacts import MANIFEST
from core.data.workspace import Workspace
from core.services import models
from tests.infra.test_no_pickle import unsafe_calls
from tests.reliability.conftest import make_workspace

KIND = "affinity"
REPO = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", ".git", "node_modules", "data", "__pycache__", ".pytest_cache", ".hypothesis"}


class Payload:
    """Leaves a marker file if anything ever unpickles it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _train(ws: Workspace, seed: int) -> str:
    arrays = {"user_factors": np.random.default_rng(seed).normal(size=(30, 4)).astype(np.float32),
              "user_ids": np.array([f"{k:05d}" for k in range(30)])}
    version = models.store(ws).save(KIND, arrays, {"metrics": {"auc": 0.5 + seed / 100}})
    models.register_version(ws, KIND, version, {"auc": 0.5 + seed / 100}, by="analyst")
    return version


def _pickle_pt(vdir: Path, donor: Path, marker: Path) -> None:
    with open(vdir / "model.pt", "wb") as handle:  # what torch.save writes is a pickle
        pickle.dump(Payload(marker), handle)


def _bit_flip(vdir: Path, donor: Path, marker: Path) -> None:
    path = vdir / "user_factors.npy"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x04
    path.write_bytes(bytes(data))


def _truncate(vdir: Path, donor: Path, marker: Path) -> None:
    path = vdir / "user_factors.npy"
    path.write_bytes(path.read_bytes()[:-40])


def _swap(vdir: Path, donor: Path, marker: Path) -> None:
    shutil.copy(donor / "user_factors.npy", vdir / "user_factors.npy")  # same shape and size, other version


def _edit_manifest(vdir: Path, donor: Path, marker: Path) -> None:
    # Replace an array by a pickled object array and make the manifest agree with it (checksum and size).
    np.save(vdir / "user_ids.npy", np.array([Payload(marker)], dtype=object), allow_pickle=True)
    manifest = json.loads((vdir / MANIFEST).read_text())
    manifest["files"]["user_ids.npy"].update(sha256=hashlib.sha256((vdir / "user_ids.npy").read_bytes()).hexdigest(),
                                             size=(vdir / "user_ids.npy").stat().st_size)
    manifest["meta"]["metrics"]["auc"] = 0.99
    (vdir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))


DAMAGE: dict[str, tuple[Callable[[Path, Path, Path], None], str]] = {
    "pickle payload in a .pt": (_pickle_pt, "unexpected"),
    "bit-flipped array": (_bit_flip, "sha256"),
    "truncated file": (_truncate, "truncated"),
    "file swapped in from another version": (_swap, "sha256"),
    "edited manifest": (_edit_manifest, "edited"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_tampered_model_refused_before_deserialising(atelier_home: Path, tmp_path: Path, damage: str,
                                                     monkeypatch: pytest.MonkeyPatch, report) -> None:
    ws = make_workspace(atelier_home / "workspaces", "models")
    previous, donor = _train(ws, 1), _train(ws, 2)
    current = _train(ws, 3)
    models.activate(ws, KIND, previous, by="analyst")
    expected = models.load_active(ws, KIND).arrays["user_factors"]
    models.activate(ws, KIND, current, by="analyst")
    root = ws.artifacts_path / KIND
    marker = tmp_path / "payload-ran"
    tamper, message = DAMAGE[damage]
    tamper(root / current, root / donor, marker)

    opened: list[str] = []  # every file np.load is asked to read, by version folder
    real_load = np.load
    monkeypatch.setattr(artifacts_module.np, "load",
                        lambda path, *a, **k: opened.append(Path(path).parent.name) or real_load(path, *a, **k))
    with pytest.warns(RuntimeWarning, match="previous good version") as warned:
        served = models.load_active(ws, KIND)
    refused_reason = str(warned[0].message)
    with pytest.raises(Exception, match=message):
        models.store(ws).load(KIND, current)
    report(f"model file tampering: {damage}", refused=message in refused_reason,
           deserialised_from_tampered=opened.count(current), payload_ran=marker.exists(),
           serving=("previous" if served.version == previous else served.version),
           active_still=models.active_version(ws, KIND) == current)
    assert message in refused_reason
    assert opened.count(current) == 0 and not marker.exists()
    assert served.version == previous and np.array_equal(served.arrays["user_factors"], expected)


TEXT_UNSAFE = re.compile(r"\b(pickle\.loads?|joblib\.load|cPickle\.loads?|dill\.loads?)\s*\(|\btorch\.load\s*\(")


def _python_files() -> list[Path]:
    files = []
    for path in REPO.rglob("*.py"):
        if not SKIP_DIRS & set(path.relative_to(REPO).parts):
            files.append(path)
    return sorted(files)


def test_no_unsafe_deserialisation_anywhere(report) -> None:
    """AST check (tests/infra/test_no_pickle.unsafe_calls) over every .py file of the repository, tests included,
    plus a line grep for calls written in ways the AST check does not model, and torch's load imported bare."""
    planted = ["m = torch.load(path)", "m = torch.load(path, weights_only=False)", "x = pickle.loads(blob)",
               "y = joblib.load('m.joblib')", "ok = torch.load(path, weights_only=True)"]
    assert [bool(TEXT_UNSAFE.search(line)) and "weights_only=True" not in line
            for line in planted] == [True] * 4 + [False]
    files = _python_files()
    ast_findings, grep_findings = [], []
    for path in files:
        source = path.read_text(encoding="utf-8")
        rel = str(path.relative_to(REPO))
        ast_findings += unsafe_calls(source, rel)
        for number, line in enumerate(source.splitlines(), 1):
            code = line.split("#", 1)[0]
            if (match := TEXT_UNSAFE.search(code)) and "weights_only=True" not in code and not _in_string(code, match):
                grep_findings.append(f"{rel}:{number}: {line.strip()}")
        grep_findings += [f"{rel}:{node.lineno}: from torch import load" for node in ast.walk(ast.parse(source))
                          if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch"
                          and any(alias.name == "load" for alias in node.names)]
    report("grep for pickle.load / joblib.load / torch.load without weights_only=True", files=len(files),
           ast_findings=len(ast_findings), grep_findings=len(grep_findings))
    assert ast_findings == [] and grep_findings == [], ast_findings + grep_findings


def _in_string(code: str, match: re.Match) -> bool:
    # The match sits inside a string literal when an odd number of quotes precede it on the line.
    before = code[: match.start()]
    return before.count('"') % 2 == 1 or before.count("'") % 2 == 1
