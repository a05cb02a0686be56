"""Audience exports: ids only by default, formula-injection-safe CSV, suppression re-applied, one audit row each."""

# An export is personal data leaving the system: the suppression list is anti-joined at export time (not only
# when the audience was built), every cell is escaped for spreadsheets (OWASP CSV injection), and each file's
# sha256 goes into the append-only audit log with who, when and which campaign version.
# Escaping holds in comma, semicolon and tab locales: a spreadsheet that splits `u;=HYPERLINK(..)` at ';' sees a
# second cell, so every segment after , ; tab or a line break that starts a formula gets a ' too, and text cells
# are quoted (OWASP: prefix and quote). Numbers stay numbers: numeric columns and plain-number text are not
# prefixed (`'-0.0011` is text to a spreadsheet, and no number can run as a formula).

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

import numpy as np
import pandas as pd

from core.columns import SUPPRESSION_FLAGS, Columns
from core.data.schemas import FORMULA_PREFIXES
from core.data.workspace import Workspace
from core.db import audit
from core.db.session import transaction
from core.errors import AtelierError
from core.services.audience import Audience
from core.auth import require_role
from core.services.campaigns import load_campaign

OPTIONAL_COLUMNS = (Columns.score, Columns.rank)
EXPORT_ROLE = "crm"  # the role that may export audiences (checked again here, not only on the page)


@dataclass(frozen=True)
class ExportResult:
    """The file (bytes, UTF-8 CSV), its name, rows written, sha256, and how many suppressed members were dropped."""

    data: bytes
    filename: str
    rows: int
    sha256: str
    removed_suppressed: int
    target: str


_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INNER_FORMULA = re.compile(r"([,;\t\r\n])(?=[ ]*[=+\-@\0])")


def escape_cell(value: object, blank_all_missing: bool = False) -> str:
    """The cell as text, neutralised for spreadsheets: a ' before the cell when it (after spaces) starts with
    = + - @ tab CR LF or NUL, and after every , ; tab CR or LF inside it that a formula follows. Plain numbers
    (`-0.0011`, `+1`, `1e5`) are kept as they are.

    Missing cells are empty: None and Python-float NaN always; with `blank_all_missing` every scalar pandas
    calls missing too (pd.NA, NaT, numpy float32 NaN), which are otherwise written as "<NA>", "NaT", "nan".
    """
    if blank_all_missing:
        missing = value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value))
    else:
        missing = value is None or (isinstance(value, float) and pd.isna(value))
    text = "" if missing else str(value)
    if not text or _PLAIN_NUMBER.fullmatch(text):
        return text
    text = _INNER_FORMULA.sub(r"\1'", text)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_PREFIXES) else text


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)


def to_csv_bytes(frame: pd.DataFrame, blank_all_missing: bool = False) -> bytes:
    """Every header and text cell escaped and quoted, numeric columns as bare numbers, UTF-8, CRLF rows (RFC 4180).

    blank_all_missing (see escape_cell): False for audience exports and scored pairs (their columns hold no
    pandas NA), True for the catalogue and attribute predictions, whose text columns do.
    """
    buffer = io.StringIO()
    # QUOTE_NONNUMERIC: every str is quoted (so ; and tab stay inside the cell in any locale), numbers are bare.
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow([escape_cell(c, blank_all_missing) for c in frame.columns])
    columns = []
    for _, values in frame.items():
        if _numeric(values):
            # numpy scalars as they are: float32 0.1 writes "0.1", not 0.10000000149011612
            columns.append(["" if pd.isna(v) else v for v in values.array])
        else:
            columns.append([escape_cell(v, blank_all_missing) for v in values.tolist()])
    writer.writerows(zip(*columns))
    return buffer.getvalue().encode("utf-8")


def suppressed_ids(ws: Workspace) -> set[str]:
    """User ids flagged unsubscribed, bounced or test account in the customers file as it is now."""
    if not ws.has("customers"):
        return set()
    customers = ws.customers()
    flags = [c for c in SUPPRESSION_FLAGS if c in customers.columns]
    if not flags:
        return set()
    out = customers[flags].fillna(False).astype(bool).any(axis=1)
    return set(customers.loc[out, Columns.user].astype(str))


def export_campaign(ws: Workspace, campaign_id: int, by: str, columns: Sequence[str] = ()) -> ExportResult:
    """CSV of the campaign's target members (control members are never contacted), suppression applied now.

    columns: optional extra columns from OPTIONAL_COLUMNS (score, rank); the default is user ids only.
    """
    require_role(by, EXPORT_ROLE)
    record = load_campaign(ws, campaign_id)
    members = record.members[record.members["group"] == "target"]
    target = f"campaign/{record.id}@v{record.version_id}"
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", record.name).strip("-")[:60] or "campaign"
    return _export(ws, members, columns, by, target, f"{slug}-{record.id}-v{record.version_id}",
                   {"campaign_id": record.id, "campaign_version": record.version_id, "campaign": record.name,
                    "model_version": record.model_version})


def export_audience(ws: Workspace, audience: Audience, model_version: str | None, by: str,
                    columns: Sequence[str] = (), label: str = "audience") -> ExportResult:
    """CSV of an unsaved audience's target group (the CLI's daily job), with the same checks and audit row."""
    require_role(by, EXPORT_ROLE)
    frame = audience.frame()
    members = frame[frame["group"] == "target"]
    target = f"audience/{'+'.join(audience.spec.brands)}"
    return _export(ws, members, columns, by, target, label,
                   {"spec": audience.spec.to_dict(), "model_version": model_version})


def _export(ws: Workspace, members: pd.DataFrame, columns: Sequence[str], by: str, target: str, stem: str,
            details: dict) -> ExportResult:
    unknown = [c for c in columns if c not in OPTIONAL_COLUMNS]
    if unknown:
        raise AtelierError(f"cannot export column(s) {unknown}: choose from {list(OPTIONAL_COLUMNS)}")
    suppressed = suppressed_ids(ws)
    keep = ~members[Columns.user].astype(str).isin(suppressed)
    chosen = [Columns.user] + [c for c in OPTIONAL_COLUMNS if c in columns]
    frame = members.loc[keep, chosen]
    data = to_csv_bytes(frame)
    digest = hashlib.sha256(data).hexdigest()
    at = datetime.now(timezone.utc)
    filename = f"{stem}-{at:%Y%m%dT%H%M%SZ}.csv"
    with transaction(ws) as session:
        audit.record(session, by, "export_audience", ws.name, target,
                     {**details, "rows": len(frame), "sha256": digest, "columns": chosen, "file": filename,
                      "removed_suppressed": int((~keep).sum())})
    return ExportResult(data, filename, len(frame), digest, int((~keep).sum()), target)
