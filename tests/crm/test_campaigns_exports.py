"""Campaigns in the database and exports: save/load, frequency cap, outcomes+lift, escaping, suppression, audit."""

from __future__ import annotations

import csv
import hashlib
import io

import pandas as pd
import pytest
import sqlalchemy as sa

from core.db.models import AuditLog, CampaignMember
from core.db.session import read_session
from core.errors import AtelierError, UnknownIdError, ValidationError
from core.services import campaigns, exports
from core.services.audience import AudienceSpec, Exclusions, NoModelError
from tests.crm.conftest import make_crm_workspace


def audit_rows(ws, action: str = "export_audience") -> list[AuditLog]:
    with read_session(ws) as session:
        return session.scalars(sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def saved(ws, name: str = "summer", value: int = 20, control: float = 0, **kw) -> int:
    spec = AudienceSpec(["acme"], value=value, control_percent=control, seed=5, **kw)
    audience = campaigns.build_for_workspace(ws, spec)
    _, version = campaigns.load_model(ws)
    return campaigns.save_campaign(ws, name, audience, version, by="ana", request_id=f"req-{name}")


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_save_load_roundtrip(crm_ws) -> None:
    cid = saved(crm_ws, control=25)
    record = campaigns.load_campaign(crm_ws, cid)
    assert record.name == "summer" and record.created_by == "ana" and record.model_version
    assert record.spec == AudienceSpec(["acme"], value=20, control_percent=25, seed=5)
    assert len(record.members) == 20 and (record.members.group == "control").sum() == 5
    assert record.members["user_id"].tolist()[:3] == ["u000", "u001", "u002"]  # u003/u004/u006 suppressed
    # the stored control group is the one the same spec gives again (reproducible for the seed)
    again = campaigns.build_for_workspace(crm_ws, record.spec)
    assert again.groups.tolist() == record.members.group.tolist()
    table = campaigns.list_campaigns(crm_ws)
    assert table[["id", "name", "size", "n_control"]].values.tolist() == [[cid, "summer", 20, 5]]


def test_save_is_idempotent_and_names_unique(crm_ws) -> None:
    cid = saved(crm_ws)
    assert saved(crm_ws) == cid  # a double click with the same request id
    audience = campaigns.build_for_workspace(crm_ws, AudienceSpec(["beta"], value=5))
    with pytest.raises(AtelierError, match="already exists"):
        campaigns.save_campaign(crm_ws, "summer", audience, None, by="bo", request_id="other")
    with read_session(crm_ws) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CampaignMember)) == 20
    with pytest.raises(UnknownIdError, match="no campaign with id 999"):
        campaigns.load_campaign(crm_ws, 999)


def test_frequency_cap_uses_saved_campaigns(crm_ws) -> None:
    saved(crm_ws, "first", value=5)  # u000 u001 u002 u005 u007
    spec = AudienceSpec(["acme"], value=3, exclusions=Exclusions(frequency_cap_days=7))
    audience = campaigns.build_for_workspace(crm_ws, spec)
    assert audience.user_ids.tolist() == ["u008", "u009", "u010"]
    assert audience.excluded["frequency_cap"] == 5
    other = campaigns.member_sets(crm_ws)
    assert other == {"first": ["u000", "u001", "u002", "u005", "u007"]}


def test_a_campaign_never_caps_or_overlaps_itself(crm_ws) -> None:
    first = saved(crm_ws, "first", value=5)  # u000 u001 u002 u005 u007
    spec = AudienceSpec(["acme"], value=5, exclusions=Exclusions(frequency_cap_days=7))
    again = campaigns.build_for_workspace(crm_ws, spec, exclude_id=first)
    assert again.user_ids.tolist() == ["u000", "u001", "u002", "u005", "u007"]
    assert again.excluded["frequency_cap"] == 0
    assert campaigns.recently_contacted(crm_ws, 7, exclude_id=first) == []
    assert campaigns.member_sets(crm_ws, exclude_id=first) == {}


def test_no_model_says_how_to_train(atelier_home) -> None:
    ws = make_crm_workspace(atelier_home / "workspaces", "empty", with_model=False)
    with pytest.raises(NoModelError, match="python -m core train affinity"):
        campaigns.build_for_workspace(ws, AudienceSpec(["acme"]))


def test_outcomes_and_lift(crm_ws) -> None:
    cid = saved(crm_ws, value=100, control=50)
    record = campaigns.load_campaign(crm_ws, cid)
    target = record.members.loc[record.members.group == "target", "user_id"].tolist()
    control = record.members.loc[record.members.group == "control", "user_id"].tolist()
    lines = ["user_id,opened,clicked,bought"] + [f"{u},1,1,{'yes' if i < 20 else 'no'}" for i, u in enumerate(target)]
    lines += [f"{u},true,0,{1 if i < 5 else 0}" for i, u in enumerate(control[:40])]  # 10 rows missing: "no"
    outcomes = campaigns.read_outcomes(("\ufeff" + "\n".join(lines)).encode("utf-8"))
    assert campaigns.record_outcomes(crm_ws, cid, outcomes, by="ana").recorded == 90
    lifts = {l.outcome: l for l in campaigns.campaign_lift(crm_ws, cid)}
    assert lifts["bought"].rate_target == pytest.approx(20 / 50)
    assert lifts["bought"].rate_control == pytest.approx(5 / 50)
    assert lifts["bought"].relative_lift == pytest.approx(3.0)
    assert lifts["opened"].rate_control == pytest.approx(40 / 50)
    assert lifts["clicked"].relative_lift is None  # no control clicks: undefined, said so
    table = campaigns.lift_frame(list(lifts.values())).set_index("outcome")
    assert table.index.tolist() == ["opened", "clicked", "bought"]
    # one format: percent, each estimate with its 95% CI (the relative lift once read "3.0000" beside "[+x%, +y%]")
    bought = lifts["bought"]
    assert table.loc["bought", "target"] == "40.0% of 50" and table.loc["bought", "control"] == "10.0% of 50"
    lo, hi = bought.difference_ci
    assert table.loc["bought", "difference (95% CI)"] == f"+30.0% [{lo:+.1%}, {hi:+.1%}]"
    assert table.loc["bought", "relative lift (95% CI)"].startswith("+300.0% [")
    assert table.loc["bought", "reading"] == "target higher"
    assert table.loc["clicked", "relative lift (95% CI)"] == "n/a: no one clicked in the control group"
    assert bought.rate_control_ci[0] < 0.1 < bought.rate_control_ci[1]
    # uploading again replaces, never duplicates
    assert campaigns.record_outcomes(crm_ws, cid, outcomes.head(3), by="ana").recorded == 3


@pytest.mark.parametrize("text, rule", [
    (b"user_id,bought\nu000,maybe\n", "must be 1/0"),
    (b"user_id,bought\nu000,1,extra\n", "has 3 fields"),
    (b"user_id,bought\nu000,1\nu000,0\n", "duplicate user"),
    (b"id,bought\nu000,1\n", "user_id column is required"),
    (b"user_id,bought\n\xff\n", "not UTF-8 at byte 15"),
])
def test_bad_outcome_files_are_refused(text: bytes, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        campaigns.read_outcomes(text)


def test_a_few_strangers_in_outcomes_are_skipped_and_reported(crm_ws) -> None:
    """Regression: one customer not in the campaign refused the whole outcomes file."""
    cid = saved(crm_ws, control=50)
    members = campaigns.load_campaign(crm_ws, cid).members["user_id"].tolist()
    text = "user_id,bought\n" + "".join(f"{u},1\n" for u in members[:10]) + "stranger,1\nghost,0\n"
    done = campaigns.record_outcomes(crm_ws, cid, campaigns.read_outcomes(text.encode()), by="ana")
    assert (done.recorded, done.not_members, done.examples) == (10, 2, ("stranger", "ghost"))
    assert "Skipped 2 rows for customers who are not in this campaign (e.g. stranger, ghost)" in done.message()
    assert sum(lift.rate_target * lift.n_target + lift.rate_control * lift.n_control
               for lift in campaigns.campaign_lift(crm_ws, cid) if lift.outcome == "bought") == pytest.approx(10)


def test_outcomes_mostly_for_strangers_write_nothing(crm_ws) -> None:
    cid = saved(crm_ws, control=50)
    bad = campaigns.read_outcomes(b"user_id,bought\nu000,1\nstranger,1\nghost,1\n")
    with pytest.raises(ValidationError, match="2 of 3 rows are not members .* right campaign"):
        campaigns.record_outcomes(crm_ws, cid, bad, by="ana")
    with pytest.raises(AtelierError, match="no outcomes yet"):
        campaigns.campaign_lift(crm_ws, cid)


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r", "\n", "\0"])
def test_every_dangerous_prefix_is_escaped(prefix: str) -> None:
    value = f"{prefix}HYPERLINK(\"http://evil\")"
    assert exports.escape_cell(value) == "'" + value
    rows = read_csv(exports.to_csv_bytes(pd.DataFrame({f"{prefix}col": [value, "safe", "a=b"]})))
    assert rows[0] == ["'" + f"{prefix}col"]
    assert [r[0] for r in rows[1:]] == ["'" + value, "safe", "a=b"]


def test_export_escapes_ids_and_keeps_ids_only_by_default(atelier_home) -> None:
    ws = make_crm_workspace(atelier_home / "workspaces", "esc", with_model=False)
    from core.data.idmap import IdMap
    from tests.crm.conftest import planted_model, save_model

    model = planted_model()
    hostile = model.user_ids.external.copy()
    hostile[0], hostile[1] = "=1+2", "@SUM(A1)"
    save_model(ws, type(model)(IdMap(hostile), model.brand_ids, model.user_factors, model.brand_factors,
                               model.user_bias, model.brand_bias))
    audience = campaigns.build_for_workspace(ws, AudienceSpec(["acme"], value=3,
                                                              exclusions=Exclusions(suppressed=False)))
    result = exports.export_audience(ws, audience, None, by="ana")
    assert read_csv(result.data) == [["user_id"], ["'=1+2"], ["'@SUM(A1)"], ["u002"]]
    scored = exports.export_audience(ws, audience, None, by="ana", columns=["score", "rank"])
    assert read_csv(scored.data)[0] == ["user_id", "score", "rank"]
    with pytest.raises(AtelierError, match="cannot export column"):
        exports.export_audience(ws, audience, None, by="ana", columns=["email"])


def test_suppression_is_applied_again_at_export(crm_ws) -> None:
    cid = saved(crm_ws, value=10)
    members = campaigns.load_campaign(crm_ws, cid).target_ids
    assert "u000" in members and "u003" not in members
    first = exports.export_campaign(crm_ws, cid, by="ana")
    assert [r[0] for r in read_csv(first.data)[1:]] == members and first.removed_suppressed == 0
    # u000 unsubscribes and u001 bounces after the campaign was saved
    customers = crm_ws.customers().copy()
    customers.loc[customers.user_id == "u000", "unsubscribed"] = True
    customers.loc[customers.user_id == "u001", "bounced"] = True
    customers.to_parquet(crm_ws.path / "customers.parquet", index=False)
    second = exports.export_campaign(crm_ws, cid, by="ana")
    ids = [r[0] for r in read_csv(second.data)[1:]]
    assert "u000" not in ids and "u001" not in ids and len(ids) == 8 and second.removed_suppressed == 2


def test_control_members_are_never_exported(crm_ws) -> None:
    cid = saved(crm_ws, value=40, control=25)
    record = campaigns.load_campaign(crm_ws, cid)
    exported = {r[0] for r in read_csv(exports.export_campaign(crm_ws, cid, by="ana").data)[1:]}
    assert exported == set(record.target_ids) and len(exported) == 30


def test_every_export_writes_an_audit_row_with_the_file_hash(crm_ws) -> None:
    cid = saved(crm_ws, value=10)
    results = [exports.export_campaign(crm_ws, cid, by=who, columns=cols)
               for who, cols in [("ana", ()), ("bo", ("score",)), ("ana", ("rank",))]]
    rows = audit_rows(crm_ws)
    assert len(rows) == 3
    for row, result in zip(rows, results):
        assert row.details["sha256"] == hashlib.sha256(result.data).hexdigest() == result.sha256
        assert row.details["rows"] == result.rows == 10
        assert row.target == f"campaign/{cid}@v1" and row.details["campaign_version"] == 1
        assert row.at is not None
    assert [r.who for r in rows] == ["ana", "bo", "ana"]
    assert len(audit_rows(crm_ws, "save_campaign")) == 1


def test_every_campaign_write_and_export_asks_the_role_check(crm_ws, monkeypatch) -> None:
    from core.errors import PermissionDenied

    def require_role(user: str, role: str) -> None:
        if user != "crm-person":
            raise PermissionDenied(f"{user} lacks the {role} role")

    cid = saved(crm_ws, value=5)
    monkeypatch.setattr(campaigns, "require_role", require_role)
    monkeypatch.setattr(exports, "require_role", require_role)
    with pytest.raises(PermissionDenied):
        exports.export_campaign(crm_ws, cid, by="intern")
    with pytest.raises(PermissionDenied):
        saved(crm_ws, "by-intern")  # saved() acts as "ana"
    with pytest.raises(PermissionDenied):
        campaigns.record_outcomes(crm_ws, cid, campaigns.read_outcomes(b"user_id,bought\nu000,1\n"), by="intern")
    assert exports.export_campaign(crm_ws, cid, by="crm-person").rows == 5
    assert len(audit_rows(crm_ws)) == 1
