"""The data page's file steps: sniff an upload's header, map its columns, read and validate it as a table."""

from __future__ import annotations

from core.data.public import DEFAULT_FOLDERS
from core.data.readers import read_table, sniff_columns, suggest_mapping
from core.data.schemas import schema

__all__ = ["DEFAULT_FOLDERS", "read_table", "sniff_columns", "suggest_mapping", "table_columns"]


def table_columns(kind: str) -> list[str]:
    """Our columns of a table kind ("catalogue", "interactions", ...), in schema order; unknown kinds raise."""
    return list(schema(kind).columns)
