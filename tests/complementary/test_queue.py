"""The labelling queue on SQLite and PostgreSQL: leases, expiry, idempotent labels, undo, agreement, training rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from core.data.workspace import Workspace
from core.db import queries_outfits as q
from core.db.session import ensure_schema, read_session, transaction
from core.errors import StaleEditError, UnknownIdError, ValidationError
from core.evaluation.agreement import cohen_kappa, fleiss_kappa
from core.services import outfits


def _queue(ws: Workspace, n: int = 6, labels_needed: int = 1) -> list[str]:
    ensure_schema(ws)
    ids = ws.catalogue()["item_id"].tolist()
    with transaction(ws) as session:
        q.add_candidates(session, ws.name, [{"item_a": ids[2 * k], "item_b": ids[2 * k + 1], "score": 0.5}
                                            for k in range(n)], labels_needed)
    return ids


def test_two_stylists_get_different_pairs_and_a_rerun_keeps_the_same(outfit_ws: Workspace) -> None:
    _queue(outfit_ws)
    a1 = outfits.claim_pair(outfit_ws, "ana")
    b1 = outfits.claim_pair(outfit_ws, "ben")
    assert a1.pair_id != b1.pair_id
    assert outfits.claim_pair(outfit_ws, "ana").pair_id == a1.pair_id  # a page rerun shows the same pair
    assert a1.item_a["name"] and a1.item_a["category_group"]  # the cards carry catalogue details


def test_an_expired_lease_returns_the_pair_to_the_queue(outfit_ws: Workspace) -> None:
    _queue(outfit_ws, n=1)
    first = outfits.claim_pair(outfit_ws, "ana", lease=timedelta(seconds=-1))
    assert first is not None
    again = outfits.claim_pair(outfit_ws, "ben")
    assert again is not None and again.pair_id == first.pair_id
    assert outfits.claim_pair(outfit_ws, "cleo") is None


def test_a_late_label_after_the_lease_went_to_someone_else_is_refused(outfit_ws: Workspace) -> None:
    _queue(outfit_ws, n=2)
    ana = outfits.claim_pair(outfit_ws, "ana", lease=timedelta(seconds=-1))  # ana walked away: her lease ran out
    ben = outfits.claim_pair(outfit_ws, "ben")
    assert ben.pair_id == ana.pair_id
    with pytest.raises(StaleEditError, match="another stylist"):
        outfits.label_pair(outfit_ws, ana.pair_id, "ana", "yes", outfits.new_request_id())
    assert outfits.label_pair(outfit_ws, ben.pair_id, "ben", "no", outfits.new_request_id()) is True
    with pytest.raises(StaleEditError):  # done: k = 1 label is all this pair takes
        outfits.label_pair(outfit_ws, ana.pair_id, "ana", "yes", outfits.new_request_id())
    assert outfits.all_labels(outfit_ws)[["labeller", "label"]].values.tolist() == [["ben", "no"]]
    cleo = outfits.claim_pair(outfit_ws, "cleo", lease=timedelta(seconds=-1))  # expired, but nobody took it since
    assert outfits.label_pair(outfit_ws, cleo.pair_id, "cleo", "yes", outfits.new_request_id()) is True


def test_labels_are_idempotent_and_one_per_person(outfit_ws: Workspace) -> None:
    _queue(outfit_ws, n=2, labels_needed=2)
    view = outfits.claim_pair(outfit_ws, "ana")
    rid = outfits.new_request_id()
    assert outfits.label_pair(outfit_ws, view.pair_id, "ana", "yes", rid) is True
    assert outfits.label_pair(outfit_ws, view.pair_id, "ana", "yes", rid) is False  # double click
    assert outfits.label_pair(outfit_ws, view.pair_id, "ana", "no", outfits.new_request_id()) is False  # same person
    frame = outfits.all_labels(outfit_ws)
    assert len(frame) == 1 and frame["label"].tolist() == ["yes"]
    with pytest.raises(ValidationError):
        outfits.label_pair(outfit_ws, view.pair_id, "ana", "maybe", outfits.new_request_id())
    with pytest.raises(UnknownIdError):
        outfits.label_pair(outfit_ws, 10_000, "ana", "yes", outfits.new_request_id())


def test_a_label_and_the_next_lease_are_one_write_and_a_refused_label_leases_nothing(outfit_ws: Workspace) -> None:
    _queue(outfit_ws, n=3)
    first = outfits.claim_pair(outfit_ws, "ana")
    written, upcoming = outfits.label_and_claim_next(outfit_ws, first.pair_id, "ana", "yes", "r-1")
    assert written and upcoming is not None and upcoming.pair_id != first.pair_id
    assert upcoming.item_a["name"]  # drawn from the same catalogue index as claim_pair's cards
    assert outfits.claim_pair(outfit_ws, "ana").pair_id == upcoming.pair_id  # leased to her, not only shown
    assert outfits.claim_pair(outfit_ws, "ben").pair_id not in (first.pair_id, upcoming.pair_id)
    again, same = outfits.label_and_claim_next(outfit_ws, first.pair_id, "ana", "yes", "r-1")  # a double press
    assert not again and same.pair_id == upcoming.pair_id
    assert outfits.claim_pair(outfit_ws, "cleo") is None  # ana and ben hold the other two
    with transaction(outfit_ws) as session:  # ana walks away: her lease runs out and cleo gets the pair
        q.expire_claims(session, outfit_ws.name, now=upcoming.claim_expires_at + timedelta(seconds=1))
    assert outfits.claim_pair(outfit_ws, "cleo").pair_id == upcoming.pair_id
    with pytest.raises(StaleEditError):
        outfits.label_and_claim_next(outfit_ws, upcoming.pair_id, "ana", "no", "r-2")
    assert outfits.all_labels(outfit_ws)["label"].tolist() == ["yes"]
    with read_session(outfit_ws) as session:  # the refused label leased her nothing either
        assert q.current_claim(session, outfit_ws.name, "ana") is None


def test_the_labelling_counters_count_one_stylist_today_and_in_all(outfit_ws: Workspace) -> None:
    _queue(outfit_ws, n=4)
    for person in ("ana", "ana", "ben"):
        view = outfits.claim_pair(outfit_ws, person)
        outfits.label_pair(outfit_ws, view.pair_id, person, "yes", outfits.new_request_id())
    status = outfits.labelling_status(outfit_ws, "ana")
    assert (status.today, status.total, status.waiting) == (2, 2, 1)
    counts = outfits.labeller_counts(outfit_ws).set_index("labeller")  # the Agreement tab's table agrees
    assert (counts.loc["ana", "today"], counts.loc["ana", "total"]) == (status.today, status.total)
    tomorrow = outfits.labelling_status(outfit_ws, "ana", today=datetime.now(timezone.utc).date() + timedelta(days=1))
    assert (tomorrow.today, tomorrow.total) == (0, 2)


def test_undo_takes_back_the_last_decision_and_shows_the_pair_again(outfit_ws: Workspace) -> None:
    _queue(outfit_ws, n=3)
    first = outfits.claim_pair(outfit_ws, "ana")
    outfits.label_pair(outfit_ws, first.pair_id, "ana", "no", outfits.new_request_id())
    second = outfits.claim_pair(outfit_ws, "ana")
    assert second.pair_id != first.pair_id
    assert outfits.undo_last_label(outfit_ws, "ana") == first.pair_id
    assert outfits.all_labels(outfit_ws).empty
    assert outfits.claim_pair(outfit_ws, "ana").pair_id == first.pair_id
    assert outfits.claim_pair(outfit_ws, "ben").pair_id == second.pair_id  # ana's other lease went back
    assert outfits.undo_last_label(outfit_ws, "zoe") is None


def test_agreement_counts_and_training_rows(outfit_ws: Workspace) -> None:
    _queue(outfit_ws, n=4, labels_needed=2)
    votes = {"ana": ["yes", "no", "yes", "no"], "ben": ["yes", "no", "no", "no"]}
    for who, labels in votes.items():
        for _ in labels:
            view = outfits.claim_pair(outfit_ws, who)
            outfits.label_pair(outfit_ws, view.pair_id, who, votes[who][view.pair_id - 1 if view.pair_id <= 4 else 0],
                               outfits.new_request_id())
    frame = outfits.all_labels(outfit_ws)
    agree = outfits.agreement(outfit_ws)
    wide = frame.pivot(index="pair_id", columns="labeller", values="label")
    expected = cohen_kappa(wide["ana"].tolist(), wide["ben"].tolist())
    assert agree["pairs"] == 4 and agree["cohen"]["kappa"].iloc[0] == pytest.approx(expected)
    assert 0 < agree["fleiss_kappa"] < 1
    counts = outfits.labeller_counts(outfit_ws).set_index("labeller")
    assert counts.loc["ana", "total"] == 4 and counts.loc["ana", "today"] == 4
    rows = outfits.labelled_pairs(outfit_ws)
    assert len(rows) == 3  # the split pair (yes vs no) carries no majority
    assert sorted(rows["label"].tolist()) == [0, 0, 1]


def test_kappa_formulas_on_known_values() -> None:
    assert cohen_kappa(["yes", "no", "yes", "no"], ["yes", "no", "yes", "no"]) == pytest.approx(1.0)
    # Fleiss' 1971 style check: perfect agreement -> 1; independent raters around 0
    assert fleiss_kappa(np.array([[3, 0, 0], [0, 3, 0], [0, 0, 3]])) == pytest.approx(1.0)
    assert fleiss_kappa(np.array([[1, 1, 0], [1, 1, 0]])) < 0


def test_candidates_spread_over_category_pairs_with_confident_share(outfit_ws: Workspace) -> None:
    from core.models.complementary.model import ComplementaryData, ComplementaryModel
    from core.models.complementary.params import ComplementaryParams

    model = ComplementaryModel.train(ComplementaryData(outfit_ws.catalogue(), outfit_ws.outfits()),
                                     ComplementaryParams(epochs=2, dim=16, hidden=32))
    ensure_schema(outfit_ws)
    added = outfits.propose_candidates(outfit_ws, n=60, confident_share=0.2, model=model)
    assert added == 60
    # asking again: 60 new ones
    assert outfits.propose_candidates(outfit_ws, n=60, confident_share=0.2, model=model) == 60
    from core.db.session import read_session
    import sqlalchemy as sa
    from core.db.models import PairCandidate

    with read_session(outfit_ws) as session:
        reasons = session.scalars(sa.select(PairCandidate.reason).order_by(PairCandidate.id).limit(60)).all()
    unsure = [r for r in reasons if r.startswith("model unsure")]
    assert len(unsure) == 48 and len(reasons) - len(unsure) == 12
    assert len({r.split("(")[1] for r in unsure}) == 6  # every pair of the 4 categories is represented


def test_candidates_stay_within_one_division_and_never_repeat(outfit_ws: Workspace) -> None:
    catalogue = outfit_ws.catalogue()
    catalogue["division"] = np.where(np.arange(len(catalogue)) % 2 == 0, "women", "men")
    catalogue.to_parquet(outfit_ws.path / "catalogue.parquet", index=False)
    ensure_schema(outfit_ws)
    assert outfits.propose_candidates(outfit_ws, n=150, seed=3) == 150  # no model yet: random pairs
    assert outfits.propose_candidates(outfit_ws, n=150, seed=3) == 150  # the same seed still finds new pairs
    division = dict(zip(catalogue["item_id"], catalogue["division"]))
    from core.db.session import read_session

    with read_session(outfit_ws) as session:
        pairs = q.queued_pairs(session, outfit_ws.name)
    assert len(pairs) == 300 and all(division[a] == division[b] for a, b in pairs)


def test_pairs_the_model_chose_are_served_before_random_ones(outfit_ws: Workspace) -> None:
    ensure_schema(outfit_ws)
    ids = outfit_ws.catalogue()["item_id"].tolist()
    with transaction(outfit_ws) as session:
        q.add_candidates(session, outfit_ws.name, [{"item_a": ids[0], "item_b": ids[1], "score": None}])  # no model yet
        q.add_candidates(session, outfit_ws.name, [{"item_a": ids[2], "item_b": ids[3], "score": 0.5}])
    first = outfits.claim_pair(outfit_ws, "ana")
    assert {first.item_a["item_id"], first.item_b["item_id"]} == {ids[2], ids[3]}
    assert outfits.claim_pair(outfit_ws, "ben").score is None
