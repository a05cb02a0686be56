"""Audience exports: ids only by default, formula-injection-safe CSV, suppression re-applied, one audit row each."""

# An export is personal data leaving the system: the suppression list is anti-joined at export time (not only
# when the audience was built), every cell is escaped for spreadsheets (OWASP CSV injection), and each file's
# sha256 goes into the append-only audit log with who, when and which campaign version.

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
from core.data.workspace import Workspace
from core.db import audit
from core.db.session import transaction
from core.errors import AtelierError
from core.services.audience import Audience
from core.services.campaigns import load_campaign, require_role

# A cell starting with one of these is run as a formula (or splits a row) in Excel / LibreOffice / Sheets.
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
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


def escape_cell(value: object) -> str:
    """The cell as text, prefixed with ' when it starts with = + - @ tab CR LF or NUL (kept as text by spreadsheets)."""
    text = "" if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value)) else str(value)
    return "'" + text if text.startswith(DANGEROUS_PREFIXES) else text


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """Every header and cell escaped, every field quoted when needed, UTF-8, CRLF rows (RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([escape_cell(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([escape_cell(v) for v in row])
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
