"""What the app shell asks before a page runs: the demo workspace on first launch, and whether writes are refused."""

from __future__ import annotations

from core.data.demo import generate_demo
from core.db.session import schema_refusal

__all__ = ["generate_demo", "schema_refusal"]
