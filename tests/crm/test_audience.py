"""Audience service on the planted model: cut rules, blends, every exclusion, control groups, overlap, lift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import AtelierError, UnknownIdError, ValidationError
from core.services.audience import (AudienceSpec, Exclusions, build_audience, control_groups, lift, overlap,
                                    overlap_matrix, prepare_data, preview, top_k)
from tests.crm.conftest import N_USERS, planted_customers, planted_interactions, user_id

NO_EXCLUSIONS = Exclusions(suppressed=False)


@pytest.fixture
def data(model):
    return prepare_data(model, planted_interactions(), planted_customers())


def ids(*indices: int) -> list[str]:
    return [user_id(i) for i in indices]


def test_top_n_is_the_planted_best_users_in_order(model, data) -> None:
    audience = build_audience(model, AudienceSpec(["acme"], value=10, exclusions=NO_EXCLUSIONS), data)
    assert audience.user_ids.tolist() == ids(*range(10))
    assert audience.ranks.tolist() == list(range(1, 11))
    assert np.all(np.diff(audience.scores) <= 0)
    assert audience.cutoff == pytest.approx(audience.scores[-1])
    beta = build_audience(model, AudienceSpec(["beta"], value=3, exclusions=NO_EXCLUSIONS), data)
    assert beta.user_ids.tolist() == ids(199, 198, 197)


def test_top_percent_and_min_score(model, data) -> None:
    pct = build_audience(model, AudienceSpec(["acme"], rule="top_percent", value=5, exclusions=NO_EXCLUSIONS), data)
    assert pct.user_ids.tolist() == ids(*range(10))  # 5% of 200
    # acme score of user i is (200 - i) / 200: score >= 0.9 keeps u000..u020
    low = build_audience(model, AudienceSpec(["acme"], rule="min_score", value=0.9, exclusions=NO_EXCLUSIONS), data)
    assert low.user_ids.tolist() == ids(*range(21))
    none = build_audience(model, AudienceSpec(["acme"], rule="min_score", value=5.0, exclusions=NO_EXCLUSIONS), data)
    assert none.size == 0 and none.cutoff is None


def test_user_bias_counts_when_ranking_users(model, data) -> None:
    bias = np.zeros(model.n_users, np.float32)
    bias[150] = 10.0
    biased = type(model)(model.user_ids, model.brand_ids, model.user_factors, model.brand_factors, bias,
                         model.brand_bias)
    audience = build_audience(biased, AudienceSpec(["acme"], value=2, exclusions=NO_EXCLUSIONS), data)
    assert audience.user_ids.tolist() == ids(150, 0)


def test_blends(model, data) -> None:
    # "any": each brand standardised, a user's best — both ends of the user range win, alternating.
    anyof = build_audience(model, AudienceSpec(["acme", "beta"], blend="any", value=4, exclusions=NO_EXCLUSIONS), data)
    assert set(anyof.user_ids) == set(ids(0, 1, 199, 198))
    assert anyof.score_kind == "standardised score"
    # weighted (1, 0) is acme alone; (1, 3) leans to beta
    only_acme = build_audience(model, AudienceSpec(["acme", "beta"], blend="weighted", weights=(1, 0), value=5,
                                                   exclusions=NO_EXCLUSIONS), data)
    assert only_acme.user_ids.tolist() == ids(*range(5))
    leaning = build_audience(model, AudienceSpec(["acme", "beta"], blend="weighted", weights=(1, 3), value=5,
                                                 exclusions=NO_EXCLUSIONS), data)
    assert leaning.user_ids.tolist() == ids(199, 198, 197, 196, 195)
    equal = build_audience(model, AudienceSpec(["acme", "beta"], blend="weighted", value=5,
                                               exclusions=NO_EXCLUSIONS), data)
    assert np.allclose(equal.scores, equal.scores[0])  # acme and beta cancel exactly: every user ties


def test_each_exclusion(model, data) -> None:
    base = AudienceSpec(["acme"], value=8, exclusions=Exclusions(suppressed=True))
    audience = build_audience(model, base, data)
    assert audience.user_ids.tolist() == ids(0, 1, 2, 5, 7, 8, 9, 10)  # u003 unsub., u004 bounced, u006 test
    assert audience.excluded == {"suppressed": 3}
    assert audience.excluded_above_cutoff == {"suppressed": 3}

    bought = AudienceSpec(["acme"], value=3, exclusions=Exclusions(suppressed=False, bought_brand_within_days=30))
    assert build_audience(model, bought, data).user_ids.tolist() == ids(1, 2, 3)  # u000 ordered 3 days ago
    long_ago = AudienceSpec(["acme"], value=3, exclusions=Exclusions(suppressed=False, bought_brand_within_days=200))
    assert build_audience(model, long_ago, data).user_ids.tolist() == ids(2, 3, 4)  # u001's order too
    other_brand = AudienceSpec(["beta"], value=1, exclusions=Exclusions(suppressed=False, bought_brand_within_days=999))
    assert build_audience(model, other_brand, data).user_ids.tolist() == ids(199)  # acme orders don't count

    capped = AudienceSpec(["acme"], value=3, exclusions=Exclusions(suppressed=False, frequency_cap_days=7))
    got = build_audience(model, capped, data, recently_contacted=["u001", "u002", "nobody"])
    assert got.user_ids.tolist() == ids(0, 3, 4) and got.excluded == {"frequency_cap": 2}

    active = AudienceSpec(["beta"], value=2, exclusions=Exclusions(suppressed=False, min_activity=2))
    got = build_audience(model, active, data)
    assert got.user_ids.tolist() == ids(198, 197) and got.excluded == {"low_activity": 1}


def test_exclusions_count_each_user_once_in_order(model, data) -> None:
    spec = AudienceSpec(["acme"], value=5, exclusions=Exclusions(suppressed=True, frequency_cap_days=1))
    got = build_audience(model, spec, data, recently_contacted=["u003", "u008"])  # u003 is also unsubscribed
    assert got.excluded == {"suppressed": 3, "frequency_cap": 1}
    assert got.n_eligible == N_USERS - 4


def test_bought_needs_timestamps(model) -> None:
    no_time = planted_interactions().assign(timestamp=pd.NaT)
    data = prepare_data(model, no_time, None)
    spec = AudienceSpec(["acme"], value=3, exclusions=Exclusions(bought_brand_within_days=30))
    with pytest.raises(AtelierError, match="no timestamps"):
        build_audience(model, spec, data)


def test_distribution_and_size_curve_are_exact(model, data) -> None:
    audience = build_audience(model, AudienceSpec(["acme"], value=10, exclusions=NO_EXCLUSIONS), data)
    counts, edges = audience.histogram
    assert counts.sum() == N_USERS and len(edges) == len(counts) + 1
    scores = model.scores_for_brand(0)
    for cutoff, size in audience.curve.itertuples(index=False):
        # exact up to float32 rounding of the bin edges: users within 1e-6 of an edge may fall either side
        assert int((scores >= cutoff + 1e-6).sum()) <= size <= int((scores >= cutoff - 1e-6).sum())
    assert audience.curve["size"].iloc[0] == N_USERS


def test_control_group_is_reproducible_and_exact() -> None:
    users = np.array([f"c{i}" for i in range(1000)], dtype=object)
    a = control_groups(users, 10, seed=7)
    assert (a == "control").sum() == 100
    assert np.array_equal(a, control_groups(users, 10, seed=7))
    assert not np.array_equal(a, control_groups(users, 10, seed=8))
    shuffled = np.random.default_rng(0).permutation(len(users))  # order does not matter, membership does
    assert set(users[shuffled][control_groups(users[shuffled], 10, 7) == "control"]) == set(users[a == "control"])
    assert (control_groups(users, 0, 7) == "target").all()


def test_control_group_in_audience(model, data) -> None:
    spec = AudienceSpec(["acme"], value=100, control_percent=20, seed=3, exclusions=NO_EXCLUSIONS)
    one, two = build_audience(model, spec, data), build_audience(model, spec, data)
    assert one.n_control == 20 and one.n_target == 80
    assert np.array_equal(one.groups, two.groups)


def test_bad_specs_say_what_is_wrong(model, data) -> None:
    with pytest.raises(ValidationError, match="at least one brand"):
        AudienceSpec([])
    with pytest.raises(ValidationError, match="top_percent"):
        AudienceSpec(["acme"], rule="top_percent", value=0)
    with pytest.raises(ValidationError, match="2 weights for 1 brands"):
        AudienceSpec(["acme"], blend="weighted", weights=(1, 2))
    with pytest.raises(UnknownIdError, match="unknown brand 'nope'"):
        build_audience(model, AudienceSpec(["nope"]), data)
    spec = AudienceSpec(["acme", "beta"], blend="weighted", weights=(1, 2), exclusions=Exclusions(min_activity=2))
    assert AudienceSpec.from_dict(spec.to_dict()) == spec


def test_top_k_matches_full_sort() -> None:
    scores = np.random.default_rng(1).standard_normal(10_000).astype(np.float32)
    assert np.array_equal(top_k(scores, 100), np.argsort(-scores, kind="stable")[:100])
    assert len(top_k(scores, 20_000)) == 10_000


def test_overlap() -> None:
    table = overlap(["a", "b", "c", "d"], {"old": ["c", "d", "e"], "none": ["x"]})
    assert table.set_index("campaign")["overlap"].to_dict() == {"old": 2, "none": 0}
    assert table.set_index("campaign").loc["old", "jaccard"] == pytest.approx(2 / 5)
    matrix = overlap_matrix({"p": ["a", "b"], "q": ["b", "c"]})
    assert matrix.loc["p", "q"] == pytest.approx(1 / 3) and matrix.loc["p", "p"] == 1.0


def test_preview_explains_with_interactions(model, data) -> None:
    audience = build_audience(model, AudienceSpec(["acme"], value=5, exclusions=NO_EXCLUSIONS), data)
    table = preview(model, audience, planted_interactions(), n=3)
    assert table["user_id"].tolist() == ids(0, 1, 2)
    assert "order ×1 on acme" in table["why"].iloc[0]
    assert "view ×1 on acme" in table["why"].iloc[2]
    assert table["top_brands"].iloc[0].startswith("acme")
    assert table["brand_place"].iloc[0] == f"acme #1 of {model.n_brands}"


def test_brand_place_counts_the_brands_a_customer_prefers() -> None:
    from core.data.idmap import IdMap
    from core.models.affinity import AffinityModel
    from core.services.audience import brand_places

    # Both users order b 3 > a 2 > c 1; user 1 differs only by its bias, which never changes a customer's own order.
    model = AffinityModel(IdMap.from_array(np.array(["u0", "u1"])), IdMap.from_array(np.array(["a", "b", "c"])),
                          np.array([[1.0], [1.0]]), np.array([[2.0], [3.0], [1.0]]), np.array([5.0, -1.0]),
                          np.array([0.0, 0.0, 0.0]))
    assert brand_places(model, np.array([0]), ["a"]) == ["a #2 of 3"]
    assert brand_places(model, np.array([0, 1]), ["c", "b"]) == ["c #3 of 3, b #1 of 3", "c #3 of 3, b #1 of 3"]


def test_lift_against_hand_computation() -> None:
    target = np.array([True] * 30 + [False] * 70)
    control = np.array([True] * 10 + [False] * 90)
    result = lift(target, control, "bought")
    assert result.rate_target == 0.3 and result.rate_control == 0.1
    assert result.difference == pytest.approx(0.2)
    se = np.sqrt(0.3 * 0.7 / 100 + 0.1 * 0.9 / 100)
    assert result.difference_ci == pytest.approx((0.2 - 1.959964 * se, 0.2 + 1.959964 * se))
    assert result.relative_lift == pytest.approx(2.0)
    lo, hi = result.relative_lift_ci
    assert lo < 2.0 < hi and lo > 0  # significant
    with pytest.raises(AtelierError, match="control"):
        lift(target, np.array([], dtype=bool))


def test_seeded_hash_ignores_the_rest_of_the_batch() -> None:
    from core.services.audience import stable_hash

    alone = stable_hash(np.array(["u1", "é-ß"], dtype=object), 7)
    padded = stable_hash(np.array(["a-much-longer-id-than-the-others", "u1", "é-ß"], dtype=object), 7)
    assert alone.tolist() == padded[1:].tolist()  # shorter ids' padding does not enter their hash
    assert stable_hash(["u1"], 7)[0] != stable_hash(["u1"], 8)[0]
    hashes = stable_hash([f"user{i}" for i in range(20_000)], 1)
    assert len(np.unique(hashes)) == 20_000
    assert 0.45 < np.mean(hashes < np.uint64(2**63)) < 0.55  # the top bit is fair: sorting by hash shuffles
