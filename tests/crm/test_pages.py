"""AppTests of the Campaign audience and Customer pages on the planted workspace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.data.idmap import IdMap
from core.data.workspace import Workspace
from core.models.affinity import AffinityModel
from core.services import campaigns
from tests.crm.conftest import make_crm_workspace, planted_model, save_model
from tests.pages.conftest import open_app

AUDIENCE = str(REPO_ROOT / "pages" / "campaign_audience.py")
CUSTOMER = str(REPO_ROOT / "pages" / "customer.py")


def frame(at: AppTest, column: str):
    """The first dataframe with this column (dataframes without selection keep no key in AppTest)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def open_audience(**query: str | list[str]) -> AppTest:
    """The Campaign audience page run once with these URL parameters (a shared link)."""
    at = AppTest.from_file(AUDIENCE, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_build_save_and_share_an_audience(crm_ws: Workspace) -> None:
    at = open_audience(brand="acme", value="20")
    assert not at.exception, at.exception
    assert at.multiselect(key="aud_brand").value == ["acme"]
    assert metric(at, "Audience size") == "20"
    assert metric(at, "Control (held out)") == "2"  # 10% by default
    assert "suppressed: 3" in " ".join(c.value for c in at.caption)
    assert frame(at, "why")["user_id"].iloc[0] == "u000"

    at.radio(key="aud_rule").set_value("top_percent").run()
    at.number_input(key="aud_v_top_percent").set_value(50.0).run()
    assert metric(at, "Audience size") == "99"  # 50% of 197 eligible, rounded up
    at.number_input(key="aud_bought").set_value(30).run()
    assert "bought recently: 1" in " ".join(c.value for c in at.caption)
    assert at.query_params["rule"] == "top_percent" and at.query_params["brand"] == "acme"

    at.text_input(key="aud_name").input("Summer acme")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    assert any("Saved campaign" in s.value for s in at.success)
    table = campaigns.list_campaigns(crm_ws)
    assert table["name"].tolist() == ["Summer acme"] and table["size"].tolist() == [98]
    assert at.query_params["campaign"] == str(table["id"][0])
    assert at.get("download_button")  # export button is there; the file is built only on click (browser test)
    assert metric(at, "Audience size") == "98"  # u000 bought acme 3 days ago


def test_the_page_says_which_model_ranks_its_customers_and_uses_it(crm_ws: Workspace) -> None:
    at = open_audience(brand="acme", value="5")
    assert "trained without a validation split" in " ".join(c.value for c in at.caption)
    # a version whose training found ALS better for the brand side: ALS ranks acme's customers, in reverse here
    from core.models.affinity.brand_side import BrandSide
    from tests.crm.conftest import user_id

    model = planted_model()
    side = BrandSide(0.0, {"1.00": 0.10, "0.50": 0.12, "0.00": 0.15}, 20.0, model.user_factors[:, ::-1].copy(),
                     model.brand_factors)
    save_model(crm_ws, model.with_brand_side(side))
    at = open_audience(brand="acme", value="5")
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "ranked by ALS (implicit)" in captions
    assert "50% more real buyers than the bi-directional model's alone" in captions
    assert frame(at, "why")["user_id"].iloc[0] == user_id(model.n_users - 1)


def test_saved_campaign_never_caps_or_overlaps_itself(crm_ws: Workspace) -> None:
    """Regression: after Save the live audience recomputed with its own members under the frequency cap
    (exclusions 450 -> 1,250 on the demo) and the overlap view listed the campaign against itself."""
    spec = campaigns.AudienceSpec(["beta"], value=5)
    campaigns.save_campaign(crm_ws, "older beta", campaigns.build_for_workspace(crm_ws, spec), None, "x")
    at = open_audience(brand="acme", value="20")
    at.number_input(key="aud_cap").set_value(30).run()
    left_out = " ".join(c.value for c in at.caption if c.value.startswith("Left out"))
    before = (metric(at, "Eligible"), metric(at, "Audience size"), left_out)
    assert "frequency cap: 5" in left_out  # "older beta"'s five targets
    at.text_input(key="aud_name").input("Acme capped")
    at.button[0].click().run()
    assert any("Saved campaign" in s.value for s in at.success)
    at.run()  # the next rerun recomputes the live audience with the campaign now in the database
    assert not at.exception, at.exception
    left_out = " ".join(c.value for c in at.caption if c.value.startswith("Left out"))
    assert (metric(at, "Eligible"), metric(at, "Audience size"), left_out) == before
    assert any("Editing saved campaign" in c.value for c in at.caption)
    assert any("No overlap" in i.value and "1 other saved" in i.value for i in at.info)  # only "older beta"
    matrix = next(c for c in at.get("plotly_chart") if "overlap_matrix" in str(c.proto.id))
    assert "Acme capped" not in matrix.proto.spec

    at.multiselect(key="aud_brand").set_value(["acme", "delta"]).run()  # other brands: a new campaign
    assert "frequency cap: 23" in " ".join(c.value for c in at.caption)  # now 18 targets of the saved one too


def test_several_brands_and_overlap(crm_ws: Workspace) -> None:
    spec = campaigns.AudienceSpec(["acme"], value=10)
    campaigns.save_campaign(crm_ws, "earlier", campaigns.build_for_workspace(crm_ws, spec), None, "x")
    at = open_audience(brand=["acme", "beta"], value="4")
    assert not at.exception, at.exception
    assert at.radio(key="aud_blend").value == "any"
    at.radio(key="aud_blend").set_value("weighted").run()
    at.number_input(key="aud_w_beta").set_value(0.0).run()
    assert frame(at, "why")["user_id"].tolist()[:4] == ["u000", "u001", "u002", "u005"]
    assert at.get("plotly_chart")  # distribution, size curve, overlap bars and matrix
    assert len(at.get("plotly_chart")) >= 4


def test_unknown_brand_in_link_and_empty_audience(crm_ws: Workspace) -> None:
    at = open_audience(brand="no-such-brand")
    assert not at.exception, at.exception
    assert any("Pick one or more brands" in i.value for i in at.info)
    at.multiselect(key="aud_brand").set_value(["acme"]).run()
    at.radio(key="aud_rule").set_value("min_score").run()
    at.number_input(key="aud_v_min_score").set_value(5.0).run()
    assert metric(at, "Audience size") == "0"
    assert any("Nobody is left" in w.value for w in at.warning)


def test_no_model_says_how_to_train(atelier_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_crm_workspace(atelier_home / "workspaces", "bare", with_model=False)
    monkeypatch.setenv("ATELIER_WORKSPACE", "bare")
    at = AppTest.from_file(AUDIENCE, default_timeout=60).run()
    assert not at.exception, at.exception
    assert any("python -m core train affinity" in i.value for i in at.info)  # guidance, not an error


def test_outcomes_upload_shows_lift(crm_ws: Workspace) -> None:
    spec = campaigns.AudienceSpec(["acme"], value=100, control_percent=50, seed=1)
    cid = campaigns.save_campaign(crm_ws, "measured", campaigns.build_for_workspace(crm_ws, spec), None, "x")
    record = campaigns.load_campaign(crm_ws, cid)
    target = record.members.loc[record.members.group == "target", "user_id"].tolist()
    outcomes = campaigns.read_outcomes(("user_id,opened,bought\n"
                                        + "\n".join(f"{u},1,1" for u in target[:25])).encode())
    campaigns.record_outcomes(crm_ws, cid, outcomes, "x")
    at = open_audience(campaign=str(cid))
    assert not at.exception, at.exception
    lift = frame(at, "relative lift (95% CI)").set_index("outcome")
    assert lift.loc["bought", "target"] == "50.0% of 50" and lift.loc["bought", "control"] == "0.0% of 50"
    assert lift.loc["bought", "difference (95% CI)"].startswith("+50.0% [+")
    assert lift.loc["bought", "relative lift (95% CI)"] == "n/a: no one bought in the control group"
    chart = next(c for c in at.get("plotly_chart") if "lift_chart" in str(c.proto.id))
    assert '"error_y"' in chart.proto.spec  # error bars, not bare rates


def test_saved_campaigns_name_their_model_as_people_say_it(crm_ws: Workspace) -> None:
    from core.services import models as versions

    live = versions.active_version(crm_ws, "affinity")
    spec = campaigns.AudienceSpec(["acme"], value=10)
    cid = campaigns.save_campaign(crm_ws, "named", campaigns.build_for_workspace(crm_ws, spec), live, "x")
    at = open_audience(campaign=str(cid))
    assert not at.exception, at.exception
    name = versions.name_of(crm_ws, "affinity", live)
    assert name.startswith("affinity v") and frame(at, "model_version")["model_version"].tolist() == [name]
    assert any(f"model {name} · by x" in c.value for c in at.caption)


def with_catalogue(ws: Workspace) -> None:
    pd.DataFrame({"item_id": ["i-a1", "i0"], "name": ["Acme leather tote", "Delta linen shirt"]}).to_parquet(
        ws.path / "catalogue.parquet", index=False)


def test_customer_page_explains_from_the_model(crm_ws: Workspace) -> None:
    """Regression: the "why" was an event count per brand, so a brand with fewer events ranking higher went
    unexplained. Now: taste + brand bias, which of their own brands pull it (similarity × weight), recency."""
    model = planted_model()
    model = AffinityModel(model.user_ids, model.brand_ids, model.user_factors, model.brand_factors,
                          model.user_bias, np.array([0.0, 0.0, 2.0, 0.0], np.float32))  # everyone likes "=cmd"
    save_model(crm_ws, model)
    with_catalogue(crm_ws)
    at = AppTest.from_file(CUSTOMER, default_timeout=60)
    at.query_params["customer"] = "u000"
    at.run()
    assert not at.exception, at.exception
    top = frame(at, "pulled_by").set_index("brand_id")
    # "=cmd" ranks first on its bias although u000 never touched it; the table says so instead of "0 events"
    assert top.index[0] == "=cmd" and top.loc["=cmd", "brand_bias"] == pytest.approx(2.0)
    assert top.loc["=cmd", "interactions"] == 0 and top.loc["=cmd", "recent"] == "never"
    # acme (1 order) ranks above delta (3 views): acme is pulled by their acme order, weight 8 × order weight
    assert top.index.get_loc("acme") < top.index.get_loc("delta")
    assert top.loc["acme", "pulled_by"].startswith("acme 1.00×")
    assert "delta 0.89×" in top.loc["acme", "pulled_by"]  # cos((1, 0), (0.2, 0.1)) = 0.894
    assert top.loc["acme", "taste"] == pytest.approx(1.0)
    assert top.loc["acme", "recent"] == "1 in the last 30 days · last: order 3 days ago"
    assert any("their own bias (+0.00" in c.value for c in at.caption)
    at.selectbox(key="customer_why").set_value("delta").run()
    assert any("pulls_chart" in str(c.proto.id) for c in at.get("plotly_chart"))


def test_customer_page(crm_ws: Workspace) -> None:
    with_catalogue(crm_ws)
    at = AppTest.from_file(CUSTOMER, default_timeout=60)
    at.query_params["customer"] = "u000"
    at.run()
    assert not at.exception, at.exception
    top = frame(at, "interactions")
    assert top["brand_id"].iloc[0] == "acme"
    assert top.set_index("brand_id").loc["acme", "interactions"] == 1
    history = frame(at, "event")
    assert len(history) == 4
    assert history["item"].iloc[0] == "Acme leather tote"  # the catalogue's name, not only "i-a1"
    assert any("May be contacted" in s.value for s in at.success)

    at.text_input(key="customer_id").input("u003").run()
    assert any("unsubscribed" in e.value for e in at.error)
    assert at.query_params["customer"] == "u003"
    at.text_input(key="customer_id").input("ghost").run()
    assert any("no customer 'ghost'" in e.value for e in at.error)



def test_pages_inside_the_app_on_the_demo(demo_copy: Workspace) -> None:
    """Through app.py's navigation on the demo: no model yet -> how to train one; a model -> an audience."""
    at = open_app("pages/campaign_audience.py")
    assert not at.exception, at.exception
    assert any("Affinity training page" in i.value for i in at.info) and not at.error

    interactions = demo_copy.interactions()
    users, brands = IdMap.from_values(interactions["user_id"]), IdMap.from_values(interactions["brand_id"])
    rng = np.random.default_rng(0)
    save_model(demo_copy, AffinityModel(users, brands, rng.standard_normal((len(users), 8), dtype=np.float32),
                                        rng.standard_normal((len(brands), 8), dtype=np.float32),
                                        np.zeros(len(users), np.float32), np.zeros(len(brands), np.float32)))
    at = open_app("pages/campaign_audience.py")
    at.multiselect(key="aud_brand").set_value([brands.external[0]]).run()
    assert not at.exception, at.exception
    assert metric(at, "Audience size") == "1,000"
    customer = open_app("pages/customer.py")
    customer.text_input(key="customer_id").input(str(users.external[0])).run()
    assert not customer.exception, customer.exception
    assert len(frame(customer, "interactions")) == 10
