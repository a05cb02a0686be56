"""`python -m core audience`: same service as the page, escaped CSV, audit row, clear errors."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys

import sqlalchemy as sa

from core.cli import main
from core.config import REPO_ROOT
from core.db.models import AuditLog
from core.db.session import read_session
from core.services import campaigns


def test_cli_writes_the_audience_and_an_audit_row(crm_ws, tmp_path, capsys) -> None:
    out = tmp_path / "daily" / "acme.csv"
    code = main(["audience", "--workspace", str(crm_ws.path), "--brand", "acme", "--size", "5",
                 "--exclude-bought-days", "30", "--out", str(out), "--by", "scheduler", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    # u000 bought acme 3 days ago; u003/u004/u006 are suppressed
    assert rows == [["user_id"], ["u001"], ["u002"], ["u005"], ["u007"], ["u008"]]
    assert summary["rows"] == 5 and summary["excluded"] == {"suppressed": 3, "bought_recently": 1}
    with read_session(crm_ws) as session:
        row = session.scalars(sa.select(AuditLog).where(AuditLog.action == "export_audience")).one()
    assert row.who == "scheduler" and row.details["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert row.details["spec"]["brands"] == ["acme"] and row.details["model_version"] == summary["model_version"]


def test_cli_blend_control_save_and_columns(crm_ws, tmp_path, capsys) -> None:
    out = tmp_path / "blend.csv"
    assert main(["audience", "--workspace", str(crm_ws.path), "--brand", "acme", "--brand", "beta",
                 "--blend", "weighted", "--weight", "1", "--weight", "0", "--top-percent", "10",
                 "--control-percent", "20", "--columns", "score,rank", "--save", "nightly", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "saved as campaign" in text
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["user_id", "score", "rank"] and len(rows) - 1 == 16  # 10% of 197 eligible = 20, 4 control
    record = campaigns.load_campaign(crm_ws, int(campaigns.list_campaigns(crm_ws).id[0]))
    assert record.name == "nightly" and (record.members.group == "control").sum() == 4


def test_cli_errors_are_plain(crm_ws, tmp_path, capsys) -> None:
    assert main(["audience", "--workspace", str(crm_ws.path), "--brand", "nope", "--size", "5",
                 "--out", str(tmp_path / "x.csv")]) == 2
    assert "unknown brand 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_cli_runs_as_a_module(crm_ws, tmp_path) -> None:
    out = tmp_path / "m.csv"
    proc = subprocess.run([sys.executable, "-m", "core", "audience", "--workspace", str(crm_ws.path),
                           "--brand", "beta", "--min-score", "0.992", "--out", str(out)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 2 ids" in proc.stdout  # beta ≥ 0.992: u198 (0.995), u199 (1.0)
