"""No product code deserialises with pickle: no pickle/joblib loads, torch.load only with weights_only=True."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.config import REPO_ROOT

PRODUCT = ["core", "ui", "pages", "benchmarks", "scripts", "app.py"]
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "joblib", "dill", "cloudpickle", "shelve"}
UNSAFE_CALLS = {"load", "loads", "Unpickler", "open"}


def unsafe_calls(source: str, filename: str = "<src>") -> list[str]:
    """'file:line: what' for every call that can unpickle."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found += [f"{where}: from {node.module} import {a.name}" for a in node.names if a.name in UNSAFE_CALLS]
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value.id if isinstance(node.func.value, ast.Name) else None
        name, keywords = node.func.attr, {k.arg: k.value for k in node.keywords}
        if owner in UNSAFE_MODULES and name in UNSAFE_CALLS:
            found.append(f"{where}: {owner}.{name}")
        elif owner == "torch" and name == "load":
            flag = keywords.get("weights_only")
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                found.append(f"{where}: torch.load without weights_only=True")
        elif owner in ("np", "numpy") and name == "load":
            flag = keywords.get("allow_pickle")
            if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is False):
                found.append(f"{where}: np.load with allow_pickle")
        elif owner in ("pd", "pandas") and name == "read_pickle":
            found.append(f"{where}: pandas.read_pickle")
    return found


def _product_files() -> list[Path]:
    files = []
    for entry in PRODUCT:
        path = REPO_ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py")) if path.is_dir() else []
    return files


def test_checker_catches_each_unsafe_form() -> None:
    bad = (
        "import pickle, joblib, torch, numpy as np, pandas as pd\n"
        "pickle.load(f)\npickle.loads(b)\njoblib.load('m')\ntorch.load('m.pt')\n"
        "torch.load('m.pt', weights_only=False)\nnp.load('a.npy', allow_pickle=True)\npd.read_pickle('x')\n"
        "from pickle import loads\n"
    )
    assert len(unsafe_calls(bad)) == 8
    good = "import torch, numpy as np\ntorch.load('m.pt', weights_only=True)\nnp.load('a.npy', allow_pickle=False)\n"
    assert unsafe_calls(good) == []


@pytest.mark.parametrize("path", _product_files(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_product_code_never_unpickles(path: Path) -> None:
    assert unsafe_calls(path.read_text(encoding="utf-8"), str(path.relative_to(REPO_ROOT))) == []
