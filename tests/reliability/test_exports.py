"""Exports: every path escapes spreadsheet formulas, suppressed customers never leave, each file is audited."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from core.data.idmap import IdMap
from core.data.readers import read_table
from core.data.schemas import FORMULA_PREFIXES
from core.data.workspace import Workspace
from core.db.models import AuditLog
from core.db.session import read_session
from core.errors import ValidationError
from core.services import attributes, campaigns, exports
from core.services.audience import AudienceSpec, Exclusions
from tests.crm.conftest import make_crm_workspace, planted_model, save_model

DANGEROUS = ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", "\0x"]
PREFIXES = FORMULA_PREFIXES
EXPORT_ACTIONS = ("export_audience", "attribute.export")
# A number leading a segment is no formula (`-1`, `+1`, `-0.0011` are values to every spreadsheet).
NUMBER_LED = re.compile(r'[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?=$|[",;\t\r\n])')
# What a semicolon-locale spreadsheet would run: `u;=HYPERLINK(..)` splits into `u` and a live formula.
SEGMENT_HOSTILE = ['u;=HYPERLINK("http://evil")', "a,@SUM(A1)", "x\t=1+2", "ok\n-2+3", "b; +cmd|' /C calc'!A0",
                   " =1", "c;;=2", "d\r\n@x"]


def _live(cell: str) -> bool:
    """A cell a spreadsheet would run: it starts with a formula character and is not a plain number."""
    return cell.startswith(PREFIXES) and not NUMBER_LED.match(cell)


def _cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8"), newline="")) for cell in row]


def _hostile_workspace(root: Path) -> Workspace:
    """Users, brands, item names and reviewed values starting with every dangerous prefix (as if an older
    version, or a direct database edit, had let them in: imports refuse formula-like ids)."""
    ws = make_crm_workspace(root, "hostile", with_model=False)
    model = planted_model()
    users = model.user_ids.external.copy()
    users[: len(DANGEROUS)] = DANGEROUS  # the best acme users: they all enter the audience
    save_model(ws, type(model)(IdMap(users), model.brand_ids, model.user_factors, model.brand_factors,
                               model.user_bias, model.brand_bias))
    pd.DataFrame({"item_id": [f"i{k}" for k in range(len(DANGEROUS))], "name": DANGEROUS,
                  "brand": DANGEROUS, "attr_colour": DANGEROUS}).to_parquet(ws.table_path("catalogue"), index=False)
    for k, value in enumerate(DANGEROUS):  # a merchandiser types a formula as the corrected value
        attributes.decide(ws, f"i{k}", "colour", "correct", value, "merch", f"hostile-{k}")
    return ws


class _StubPairModel:
    """Stands in for a trained complementary model that knows the hostile ids (scores are probabilities)."""

    def score_pairs(self, items_a: list[str], items_b: list[str]) -> np.ndarray:
        return np.linspace(0.1, 0.9, len(items_a))


def _cli_scored_pairs(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    from core.cli import main as cli_main
    from core.services import outfits

    monkeypatch.setattr(outfits, "require_model", lambda _ws: _StubPairModel())
    pd.DataFrame({"item_a": DANGEROUS, "item_b": DANGEROUS[::-1]}).to_csv(tmp_path / "pairs.csv", index=False)
    out = tmp_path / "scored.csv"
    assert cli_main(["complementary", "score", "--workspace", str(ws.path), "--pairs", str(tmp_path / "pairs.csv"),
                     "--out", str(out)]) == 0
    return out.read_bytes()


def test_every_export_path_neutralises_formulas(atelier_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                report) -> None:
    ws = _hostile_workspace(atelier_home / "workspaces")
    spec = AudienceSpec(["acme"], value=12, exclusions=Exclusions(suppressed=False))
    audience = campaigns.build_for_workspace(ws, spec)
    _, version = campaigns.load_model(ws)
    cid = campaigns.save_campaign(ws, "=evil", audience, version, by="crm", request_id="r-evil")
    files = {
        "campaign export (ids)": exports.export_campaign(ws, cid, by="crm").data,
        "campaign export (+score, rank)": exports.export_campaign(ws, cid, by="crm", columns=("score", "rank")).data,
        "audience export (CLI daily job)": exports.export_audience(ws, audience, version, by="crm").data,
        "consolidated catalogue": attributes.export_catalogue(ws, by="merch"),
        "attribute predictions (CLI)": exports.to_csv_bytes(pd.DataFrame({"item_id": DANGEROUS,
                                                                          "predicted": DANGEROUS}),
                                                             blank_all_missing=True),
        "scored outfit pairs (CLI)": _cli_scored_pairs(ws, tmp_path, monkeypatch),
    }
    unsafe, escaped, checked = {}, 0, 0
    for name, data in files.items():
        cells = _cells(data)
        checked += len(cells)
        unsafe[name] = [c for c in cells if _live(c)]
        escaped += sum(c[1:] in DANGEROUS for c in cells if c.startswith("'"))
        assert {"'" + d for d in DANGEROUS} & set(cells), name  # the hostile values did reach this file, escaped
    report(f"{len(DANGEROUS)} dangerous prefixes through {len(files)} export paths", cells=checked,
           escaped=escaped, unescaped=sum(map(len, unsafe.values())))
    assert all(not cells for cells in unsafe.values()), unsafe


def test_suppressed_customers_never_leave(atelier_home: Path, report) -> None:
    ws = make_crm_workspace(atelier_home / "workspaces", "supp")
    spec = AudienceSpec(["acme"], value=30)
    audience = campaigns.build_for_workspace(ws, spec)
    _, version = campaigns.load_model(ws)
    cid = campaigns.save_campaign(ws, "summer", audience, version, by="crm", request_id="r-summer")
    before_save = {"u003", "u004", "u006"}  # unsubscribed, bounced, test account in the planted customers
    members = set(campaigns.load_campaign(ws, cid).target_ids)
    assert not members & before_save
    later = sorted(members)[:6]  # after the campaign was saved: two unsubscribe, two bounce, two are test accounts
    customers = ws.customers().copy()
    for flag, who in zip(("unsubscribed", "unsubscribed", "bounced", "bounced", "test_account", "test_account"), later):
        customers.loc[customers.user_id == who, flag] = True
    customers.to_parquet(ws.table_path("customers"), index=False)
    outs = [exports.export_campaign(ws, cid, by="crm"), exports.export_campaign(ws, cid, by="crm", columns=("score",)),
            exports.export_audience(ws, audience, version, by="crm")]  # the audience object built before they left
    leaked = [uid for out in outs for uid in _cells(out.data)[1:] if uid in before_save | set(later)]
    report("suppressed customers in exports", suppressed_before_save=len(before_save),
           suppressed_after_save=len(later), exports=len(outs),
           removed_at_export=[o.removed_suppressed for o in outs], leaked=len(leaked))
    assert leaked == [] and all(o.removed_suppressed == len(later) for o in outs)


def test_n_exports_write_n_audit_rows_with_the_file_hash(atelier_home: Path, report) -> None:
    ws = _hostile_workspace(atelier_home / "workspaces")
    audience = campaigns.build_for_workspace(ws, AudienceSpec(["acme"], value=5))
    _, version = campaigns.load_model(ws)
    cid = campaigns.save_campaign(ws, "spring", audience, version, by="crm", request_id="r-spring")
    files = [exports.export_campaign(ws, cid, by="crm").data, attributes.export_catalogue(ws, by="merch"),
             exports.export_audience(ws, audience, version, by="crm").data,
             exports.export_campaign(ws, cid, by="crm2", columns=("rank",)).data,
             attributes.export_catalogue(ws, by="merch2"),
             exports.export_audience(ws, audience, version, by="crm").data]
    with read_session(ws) as session:
        rows = session.scalars(sa.select(AuditLog).where(AuditLog.action.in_(EXPORT_ACTIONS))
                               .order_by(AuditLog.id)).all()
    hashes = [hashlib.sha256(data).hexdigest() for data in files]
    matching = sum(row.details.get("sha256") == digest for row, digest in zip(rows, hashes))
    report("exports vs audit rows", exports=len(files), audit_rows=len(rows), sha256_matching=matching,
           who=[r.who for r in rows])
    assert len(rows) == len(files) and matching == len(files)
    assert [r.who for r in rows] == ["crm", "merch", "crm", "crm2", "merch2", "crm"]
    assert all(r.at is not None and "rows" in r.details for r in rows)


def test_missing_cells_are_blank_as_each_file_wrote_them() -> None:
    """Audience files blank only None and float NaN; catalogue and prediction files blank every pandas NA."""
    values = [None, float("nan"), pd.NA, pd.NaT, np.float32("nan"), ["=x"]]
    assert [exports.escape_cell(v) for v in values] == ["", "", "<NA>", "NaT", "nan", "['=x']"]
    assert [exports.escape_cell(v, blank_all_missing=True) for v in values] == ["", "", "", "", "", "['=x']"]


def test_exports_are_safe_when_a_spreadsheet_splits_at_comma_semicolon_or_tab(report) -> None:
    frame = pd.DataFrame({"user_id": SEGMENT_HOSTILE + ["-0.0011", "u1"],
                          "score": np.linspace(-0.0011, 1, len(SEGMENT_HOSTILE) + 2),
                          "rank": np.arange(1, len(SEGMENT_HOSTILE) + 3)})
    text = exports.to_csv_bytes(frame).decode("utf-8")
    live, segments = [], 0
    for separator in (",", ";", "\t"):
        for line in re.split(r"\r\n|\n|\r", text):  # a reader that ignores quotes splits rows at any break too
            for segment in line.split(separator):
                segments += 1
                start = segment.lstrip(' "')
                if start.startswith(("=", "+", "-", "@")) and not NUMBER_LED.match(start):
                    live.append((separator, segment))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    report("segment formulas under comma, semicolon and tab splitting", cells=len(SEGMENT_HOSTILE),
           segments=segments, live=len(live))
    assert live == []
    assert [r[0] for r in rows[1:]][-2:] == ["-0.0011", "u1"]  # a plain-number text cell is not prefixed
    assert all(not r[1].startswith("'") and float(r[1]) == pytest.approx(v)
               for r, v in zip(rows[1:], frame["score"]))  # numeric columns stay numbers
    assert [int(r[2]) for r in rows[1:]] == frame["rank"].tolist()
    assert "-0.0011," in text and "'-0.0011" not in text


def test_ids_that_hide_a_formula_after_a_separator_are_refused_at_import() -> None:
    for bad in ('u;=HYPERLINK("http://evil")', "a,@SUM(A1)", "b; +1"):
        data = pd.DataFrame({"item_id": [bad], "name": ["x"]}).to_csv(index=False).encode()
        with pytest.raises(ValidationError, match="formula-like id"):
            read_table(data, "catalogue", filename="c.csv")
