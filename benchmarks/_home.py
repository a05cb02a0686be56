"""A throwaway ATELIER_HOME for one benchmark: set while it runs, the previous value and the folder gone after."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def temporary_home(prefix: str) -> Iterator[Path]:
    """A fresh folder as ATELIER_HOME for the block; the old setting comes back and the folder is removed."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    saved = os.environ.get("ATELIER_HOME")
    os.environ["ATELIER_HOME"] = str(root)
    try:
        yield root
    finally:
        if saved is None:
            os.environ.pop("ATELIER_HOME", None)
        else:
            os.environ["ATELIER_HOME"] = saved
        shutil.rmtree(root, ignore_errors=True)
