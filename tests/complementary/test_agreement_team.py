"""Agreement from several signed-in stylists labelling overlapping pairs, checked against kappas worked by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core import auth
from core.config import REPO_ROOT
from core.data.workspace import Workspace
from core.db import queries_outfits as q
from core.db.models import PairCandidate
from core.db.session import ensure_schema, read_session, transaction
from core.errors import PermissionDenied
from core.services import outfits
from tests.complementary.conftest import make_workspace, synthetic_outfits

PAGE = str(REPO_ROOT / "pages" / "outfit_labelling.py")


def _stylist(key: str) -> auth.Actor:
    return auth.Actor(key=key, iss="https://idp.example", sub=f"sub-{key}", name=key.title(),
                      roles=frozenset({"stylist"}))


# Pair (by queue order) -> label, per stylist; Cleo stops after two pairs, so P3 and P4 carry two labels each.
VOTES = {"ana": ["yes", "yes", "no", "unsure"], "ben": ["yes", "no", "no", "unsure"], "cleo": ["yes", "no"]}
# By hand. Count table (yes, no, unsure): P1 (3,0,0) P2 (1,2,0) P3 (0,2,0) P4 (0,0,2).
# P_i = 1, 1/3, 1, 1 -> mean 5/6; shares of the 10 labels 0.4, 0.4, 0.2 -> P_e = 0.36;
# Fleiss = (5/6 - 0.36) / 0.64 = 71/96.
FLEISS = 71 / 96
# Cohen, ana-ben on 4 pairs: p_o = 3/4, p_e = .5*.25 + .25*.5 + .25*.25 = 5/16 -> (3/4 - 5/16) / (11/16) = 7/11.
# ana-cleo on P1, P2: p_o = 1/2, p_e = 1*.5 = 1/2 -> 0. ben-cleo on P1, P2: p_o = 1, p_e = 1/2 -> 1.
COHEN = {("ana", "ben"): (4, 7 / 11), ("ana", "cleo"): (2, 0.0), ("ben", "cleo"): (2, 1.0)}


def _label_as_a_team(ws: Workspace) -> dict[str, list[int]]:
    """Queue four pairs for three labels each; each stylist, signed in as herself, labels through the services.
    Returns the pair ids (in queue order) each one labelled."""
    ensure_schema(ws)
    ids = ws.catalogue()["item_id"].tolist()
    with transaction(ws) as session:
        q.add_candidates(session, ws.name, [{"item_a": ids[2 * k], "item_b": ids[2 * k + 1], "score": 0.5}
                                            for k in range(4)], labels_needed=3)
    with read_session(ws) as session:
        queue = sorted(session.execute(sa.select(PairCandidate.id)
                                       .where(PairCandidate.workspace == ws.name)).scalars())
    done: dict[str, list[int]] = {}
    for key in ("cleo", "ana", "ben"):  # Cleo first: she takes the first two pairs of the queue
        with auth.acting_as(_stylist(key)) as actor:
            for _ in VOTES[key]:
                view = outfits.claim_pair(ws, actor.key)
                assert view is not None, f"{key} found no pair"
                label = VOTES[key][queue.index(view.pair_id)]
                assert outfits.label_pair(ws, view.pair_id, actor.key, label, outfits.new_request_id())
                done.setdefault(key, []).append(queue.index(view.pair_id))
    return done


def test_kappa_and_overlap_of_three_signed_in_stylists_match_the_hand_count(outfit_ws: Workspace) -> None:
    done = _label_as_a_team(outfit_ws)
    assert sorted(done["cleo"]) == [0, 1]  # the hand count assumes Cleo labelled P1 and P2
    with auth.acting_as(_stylist("ana")):  # a stylist reads the agreement, as on the page
        labels = outfits.all_labels(outfit_ws)
        agree = outfits.agreement(outfit_ws)
    assert sorted(labels["labeller"].unique()) == ["ana", "ben", "cleo"] and len(labels) == 10
    assert agree["pairs"] == 4
    assert agree["fleiss_kappa"] == pytest.approx(FLEISS)
    cohen = {(r.labeller_a, r.labeller_b): (r.pairs, r.kappa) for r in agree["cohen"].itertuples()}
    assert cohen.keys() == COHEN.keys()
    for who, (pairs, kappa) in COHEN.items():
        assert cohen[who][0] == pairs and cohen[who][1] == pytest.approx(kappa), who


def test_a_signed_in_merchandiser_may_not_label_or_read_the_labels(outfit_ws: Workspace) -> None:
    _label_as_a_team(outfit_ws)
    merch = auth.Actor(key="mia", iss="https://idp.example", sub="sub-mia", name="Mia",
                       roles=frozenset({"merchandiser"}))
    with auth.acting_as(merch), pytest.raises(PermissionDenied):
        outfits.all_labels(outfit_ws)


def test_the_agreement_tab_shows_the_team_figures(atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue, outfit_rows = synthetic_outfits(120, 60)
    ws = make_workspace(atelier_home / "workspaces", "team", catalogue, outfit_rows)
    _label_as_a_team(ws)
    monkeypatch.setenv("ATELIER_WORKSPACE", ws.name)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["outfit_view"] = "Agreement"
    at.run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Pairs labelled by several stylists"] == "4" and shown["Fleiss' kappa"] == f"{FLEISS:.2f}"
    table = at.dataframe[0].value
    assert table[["labeller_a", "labeller_b", "pairs"]].values.tolist() == [["ana", "ben", 4], ["ana", "cleo", 2],
                                                                          ["ben", "cleo", 2]]


def test_a_first_batch_is_queued_only_when_nothing_waits_and_only_for_a_stylist(outfit_ws: Workspace) -> None:
    ensure_schema(outfit_ws)
    merch = auth.Actor(key="mia", iss="https://idp.example", sub="sub-mia", name="Mia",
                       roles=frozenset({"merchandiser"}))
    with auth.acting_as(merch):
        assert outfits.start_queue(outfit_ws, "mia", n=5) == 0  # may not propose: nothing queued, nothing raised
    assert outfits.queue_status(outfit_ws) == {}
    with auth.acting_as(_stylist("ana")):
        assert outfits.start_queue(outfit_ws, "ana", n=5) == 5
        assert outfits.start_queue(outfit_ws, "ana", n=5) == 0  # pairs wait for her: nothing more
    assert sum(outfits.queue_status(outfit_ws).values()) == 5
