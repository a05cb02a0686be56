"""Cached data never crosses users of different roles: a stylist after a CRM person sees none of the CRM's data."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import auth
from core.config import REPO_ROOT
from core.data.workspace import Workspace
from core.services import campaigns
from tests.auth.conftest import SECRETS, claims
from tests.auth.test_action_matrix import ADMIN, audience
from ui.pages import PAGES

CAMPAIGN = "Secret spring push"


def rendered_text(at: AppTest) -> str:
    """Everything a session was sent: every element's protobuf (text, labels, table bytes) and table cells."""
    parts: list[str] = [frame.value.to_csv() for frame in at.dataframe]

    def walk(node) -> None:  # AppTest tree nodes
        children = getattr(node, "children", None)
        if children:
            for child in children.values():
                walk(child)
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))

    walk(at._tree)  # AppTest's element tree is the session's whole output
    return "\n".join(parts)


def session(role: str, script: str = "app.py") -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / script), default_timeout=120)
    at.secrets, at.user = SECRETS, claims(role)
    return at


def test_a_stylist_after_a_crm_person_sees_none_of_the_crm_data(home: Path, team_options: dict) -> None:
    ws = Workspace.open("demo")
    members = audience(ws, n=8)
    with auth.acting_as(ADMIN):
        campaigns.save_campaign(ws, CAMPAIGN, members, None, ADMIN.key)
    crm = session("crm").run()
    crm.switch_page("pages/campaign_audience.py").run()
    assert not crm.exception
    # The CRM page's process-wide cache of saved campaigns' members, filled as the CRM person's page does.
    from ui.audience_charts import saved_member_sets

    with auth.acting_as(ADMIN):  # the services read campaigns only for someone holding the CRM role
        cached = saved_member_sets(ws, campaigns.list_campaigns(ws))
    assert set(members.user_ids) <= set(cached[CAMPAIGN] if CAMPAIGN in cached else sum(cached.values(), []))

    secrets = [CAMPAIGN, *members.user_ids.tolist(), "crm~"]
    stylist = session("stylist").run()
    seen = [rendered_text(stylist)]
    for page in sorted(PAGES, key=lambda p: p.path):
        if "stylist" in page.roles:
            stylist.switch_page(page.path).run()
            seen.append(rendered_text(stylist))
        else:  # opened by URL: the guard answers before any loader runs
            seen.append(rendered_text(session("stylist", page.path).run()))
    leaked = [s for s in secrets if any(s in text for text in seen)]
    assert not leaked, f"the stylist's session showed CRM data: {leaked[:5]}"
    assert stylist.session_state["atelier_user"].startswith("stylist-person~")


def test_identity_is_per_session_when_sessions_alternate(home: Path, team_options: dict) -> None:
    """The acting person is bound per run: a session never acts as the one that ran just before it."""
    a, b = session("crm").run(), session("stylist").run()
    for at, role in ((a, "crm"), (b, "stylist"), (a, "crm"), (b, "stylist")):
        at.run()
        assert at.session_state["atelier_user"].startswith(f"{role}-person~")
