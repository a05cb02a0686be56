"""Allowed work through the pages in team mode: a stylist's keyboard-button label (a callback) is written as them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core import auth
from core.config import REPO_ROOT
from core.data.workspace import Workspace
from core.db.models import PairLabel
from core.db.session import read_session
from core.services import outfits
from tests.auth.conftest import SECRETS, claims
from tests.auth.test_action_matrix import ADMIN


def test_a_stylist_labels_a_pair_through_the_page_callback(home: Path, team_options: dict) -> None:
    ws = Workspace.open("demo")
    with auth.acting_as(ADMIN):
        outfits.propose_candidates(ws, n=5)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.secrets, at.user = SECRETS, claims("stylist")
    at.run()
    at.switch_page("pages/outfit_labelling.py").run()
    key = at.session_state["atelier_user"]
    # The button's on_click runs before app.py binds anyone in that rerun: the service must still know who it is.
    at.button(key="decide_yes").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with read_session(ws) as session:
        labels = session.execute(sa.select(PairLabel.labeller, PairLabel.label)).all()
    assert labels == [(key, "yes")]
