"""Browser: a CRM person builds an audience on the demo, saves the campaign and exports it; file + audit row checked."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from tests.browser.conftest import streamlit_server, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def crm_app(demo_workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    """app.py on a private demo copy with a quick affinity model trained by the affinity training service."""
    from core.data.workspace import Workspace
    from core.services.affinity_training import train_affinity
    from core.services.campaigns import load_model

    home = tmp_path_factory.mktemp("crm_browser_home")
    target = home / "workspaces" / "demo"
    shutil.copytree(demo_workspace.path, target, ignore=shutil.ignore_patterns("*-wal", "*-shm", "*.lock"))
    ws = Workspace.open(target)
    train_affinity(ws, {"iterations": 2, "n_factors": 16, "test_fraction": 0, "activate": True, "by": "test"})
    model, _ = load_model(ws)
    brand = sorted(model.brand_ids.external.tolist(), key=str.lower)[0]
    with streamlit_server(home) as url:
        yield url, target, brand


def test_build_save_and_export_a_campaign(page, crm_app: tuple[str, Path, str]) -> None:
    from core.data.workspace import Workspace
    from core.db.models import AuditLog
    from core.db.session import read_session
    from core.services import campaigns

    url, ws_path, brand = crm_app
    page.goto(f"{url}/campaign_audience?value=300&control=20")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Pick one or more brands").wait_for()
    picker = main.get_by_role("combobox").first  # the searchable brand picker: type, then choose
    picker.click()
    picker.fill(brand[:3])
    page.get_by_role("option", name=brand, exact=True).click()
    page.keyboard.press("Escape")
    wait_idle(page)
    size = main.get_by_test_id("stMetric").filter(has_text="Audience size")
    assert "300" in size.inner_text()
    assert "Control (held out)" in main.inner_text() and "Score distribution" in main.inner_text()
    assert f"brand={brand}" in page.url  # the view is shareable

    page.get_by_label("Campaign name").fill("Browser campaign")
    page.get_by_role("button", name="Save campaign").click()
    # .first: while the whole app reruns after a save, the fragment's last frame can still be on screen beside it
    main.get_by_text("Saved campaign “Browser campaign”").first.wait_for(timeout=30_000)
    wait_idle(page)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Export CSV").click()
    data = Path(info.value.path()).read_bytes()
    assert page.locator('[data-testid="stException"]').count() == 0

    ws = Workspace.open(ws_path)
    table = campaigns.list_campaigns(ws)
    table = table[table["name"] == "Browser campaign"]  # other tests of this module save their own
    assert len(table) == 1
    record = campaigns.load_campaign(ws, int(table["id"].iloc[0]))
    assert record.spec.brands == (brand,) and len(record.members) == 300
    assert (record.members.group == "control").sum() == 60  # 20% held out, from the shared link
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    from core.services.exports import suppressed_ids

    expected = [u for u in record.target_ids if u not in suppressed_ids(ws)]
    assert rows[0] == ["user_id"] and [r[0] for r in rows[1:]] == expected
    with read_session(ws) as session:
        audit = session.scalars(sa.select(AuditLog).where(AuditLog.action == "export_audience")).all()
    assert len(audit) == 1 and audit[0].who == "local" and audit[0].target == f"campaign/{record.id}@v1"
    assert audit[0].details["sha256"] == hashlib.sha256(data).hexdigest()
    assert audit[0].details["rows"] == len(expected)


def test_outcomes_with_a_few_strangers_show_lift_in_percent(page, crm_app: tuple[str, Path, str], tmp_path) -> None:
    """Regression: one non-member refused the whole outcomes file, and lift read "5.1111" beside "[-13.6%, ...]"."""
    from core.data.workspace import Workspace
    from core.services import campaigns
    from core.services.audience import AudienceSpec

    url, ws_path, brand = crm_app
    ws = Workspace.open(ws_path)
    spec = AudienceSpec([brand], value=200, control_percent=50, seed=3)
    cid = campaigns.save_campaign(ws, "Measured in browser", campaigns.build_for_workspace(ws, spec), None, "local")
    members = campaigns.load_campaign(ws, cid).members
    lines = ["user_id,opened,bought"] + [f"{u},1,{int(g == 'target' and i % 3 == 0)}"
                                         for i, (u, g) in enumerate(zip(members.user_id, members.group))]
    upload = tmp_path / "outcomes.csv"
    upload.write_text("\n".join(lines + ["stranger-1,1,1", "stranger-2,0,0"]), encoding="utf-8")
    page.goto(f"{url}/campaign_audience?campaign={cid}")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    main.locator('input[type="file"]').set_input_files(str(upload))
    main.get_by_text("Skipped 2 rows for customers who are not in this campaign").wait_for(timeout=30_000)
    wait_idle(page)
    assert "stranger-1, stranger-2" in main.inner_text()
    assert f"Recorded outcomes for {len(members):,} customers" in main.inner_text()
    assert main.get_by_test_id("stPlotlyChart").count() >= 1
    bought = next(lift for lift in campaigns.campaign_lift(ws, cid) if lift.outcome == "bought")
    assert bought.rate_target > 0 and bought.rate_control == 0
    assert page.locator('[data-testid="stException"]').count() == 0
