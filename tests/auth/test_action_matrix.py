"""Every role × every action in the services: allowed ones write, denied ones raise PermissionDenied and write
nothing."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core import auth
from core.data.workspace import Workspace
from core.db.models import AttributeReview, AuditLog, Campaign, CampaignOutcome, Job, PairCandidate, PairLabel
from core.db.session import read_session
from core.errors import AtelierError, PermissionDenied
from core.jobs import create as create_job
from core.services import attributes, campaigns, customers, exports, imports, jobs, models, outfits, roles
from core.services.audience import Audience, AudienceSpec
from tests.auth.conftest import SECRETS, claims

ADMIN = auth.Actor(key="admin~0", iss="https://idp.test", sub="admin-0", name="Setup Admin",
                   roles=frozenset(auth.ROLES))


def person(role: str) -> auth.Actor:
    return auth.Actor(key=f"{role}~1", iss="https://idp.test", sub=f"sub-{role}", name=f"{role} person",
                      roles=frozenset({role}))


def count(ws: Workspace, model: type, *where: sa.ColumnElement) -> int:
    with read_session(ws) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)))


class QueueOnly:
    """A job backend that starts nothing: what is checked is the role and the queued record, not a training run."""

    def start(self, ws: Workspace, job_id: int, catalog: object) -> None:
        pass


def audience(ws: Workspace, n: int = 5) -> Audience:
    users = pd.read_parquet(ws.path / "customers.parquet")["user_id"].astype(str).head(n).to_numpy(object)
    return Audience(spec=AudienceSpec(brands=("b1",), value=n), user_ids=users,
                    scores=np.linspace(1, 0, n, dtype=np.float32),
                    ranks=np.arange(1, n + 1), groups=np.array(["target"] * n, dtype=object), cutoff=None, n_scored=n,
                    n_eligible=n, excluded={}, excluded_above_cutoff={}, histogram=(np.zeros(1), np.zeros(2)),
                    curve=pd.DataFrame({"cutoff": [], "size": []}), score_kind="model score")


@pytest.fixture(scope="module")
def stage(module_home: Path) -> dict:
    """One workspace for the module (checks compare before/after): a campaign, queued pairs, a person to edit."""
    ws = Workspace.open("demo")
    with auth.acting_as(ADMIN):
        campaign_id = campaigns.save_campaign(ws, "staged", audience(ws), None, ADMIN.key)
        outfits.propose_candidates(ws, n=30)
    target = roles.sign_in(roles.Identity(iss="https://idp.test", sub="target-9", name="Target Person"))
    item = str(pd.read_parquet(ws.path / "catalogue.parquet")["item_id"].iloc[0])
    catalogue_csv = pd.read_parquet(ws.path / "catalogue.parquet").head(20).to_csv(index=False).encode()
    return {"ws": ws, "campaign": campaign_id, "target": target.key, "item": item,
            "catalogue_csv": catalogue_csv}


def _exports(ws: Workspace, action: str) -> int:
    return count(ws, AuditLog, AuditLog.action.like(f"%{action}%"))


# action -> (do it as `key`, how much of what it writes exists now)
ACTIONS: dict[str, tuple[Callable[[dict, str], object], Callable[[dict], int]]] = {
    "campaign.save": (lambda s, k: campaigns.save_campaign(s["ws"], f"c-{k}", audience(s["ws"]), None, k),
                      lambda s: count(s["ws"], Campaign)),
    "campaign.outcomes": (lambda s, k: campaigns.record_outcomes(s["ws"], s["campaign"], pd.DataFrame(
                              {"user_id": audience(s["ws"]).user_ids[:2], "opened": [True, False],
                               "clicked": [False, False], "bought": [True, False]}), k),
                          lambda s: count(s["ws"], CampaignOutcome)),
    "audience.export": (lambda s, k: exports.export_campaign(s["ws"], s["campaign"], k),
                        lambda s: _exports(s["ws"], "export") - _exports(s["ws"], "attribute.export")),
    "attribute.review": (lambda s, k: attributes.decide(s["ws"], s["item"], "colour", "skip", None, k,
                                                        uuid.uuid4().hex),
                         lambda s: count(s["ws"], AttributeReview)),
    "catalogue.export": (lambda s, k: attributes.export_catalogue(s["ws"], k),
                         lambda s: _exports(s["ws"], "attribute.export")),
    "outfit.propose": (lambda s, k: outfits.propose_candidates(s["ws"], n=3, seed=len(k)),
                       lambda s: count(s["ws"], PairCandidate)),
    "outfit.label": (lambda s, k: outfits.label_pair(s["ws"], outfits.claim_pair(s["ws"], k).pair_id, k, "yes",
                                                     uuid.uuid4().hex),
                     lambda s: count(s["ws"], PairLabel)
                     + count(s["ws"], PairCandidate, PairCandidate.claimed_by.is_not(None))),
    "training.submit": (lambda s, k: jobs.submit(s["ws"], "complementary", {}, submitted_by=k, backend=QueueOnly()),
                        lambda s: count(s["ws"], Job)),
    # a queued job of its own each time (no worker is started): a finished one would need no cancel
    "job.cancel": (lambda s, k: jobs.cancel(s["ws"], create_job(s["ws"], "complementary", {}, k), by=k),
                   lambda s: count(s["ws"], Job, Job.cancel_requested.is_(True))),
    "data.import": (lambda s, k: imports.import_files(f"import-{k.split('~')[0]}", [imports.ImportFile(
                        "catalogue", s["catalogue_csv"], "catalogue.csv")], by=k),
                    lambda s: len(list((s["ws"].path.parent).iterdir()))),
    "roles.edit": (lambda s, k: roles.set_roles(k, s["target"], ["crm", "analyst"]),
                   lambda s: len(roles.granted_roles(s["target"]))),
}
ALLOWED: dict[str, set[str]] = {
    "campaign.save": {"crm"}, "campaign.outcomes": {"crm"}, "audience.export": {"crm"},
    "attribute.review": {"merchandiser"}, "catalogue.export": {"merchandiser"},
    "outfit.propose": {"stylist"}, "outfit.label": {"stylist"},
    "training.submit": {"analyst", "stylist"},  # the outfit model: analysts, and stylists from their page
    "job.cancel": {"analyst", "stylist"},
    "data.import": {"admin"}, "roles.edit": {"admin"},
}


@pytest.mark.parametrize("role", auth.ROLES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_action(action: str, role: str, stage: dict) -> None:
    do, written = ACTIONS[action]
    actor = person(role)
    auth.serve_team()
    before = written(stage)
    with auth.acting_as(actor):
        if role in ALLOWED[action]:
            do(stage, actor.key)
            assert written(stage) > before, f"{role} may {action} but nothing was written"
        else:
            with pytest.raises(PermissionDenied, match=f"{role} person .* may not do this"):
                do(stage, actor.key)
            assert written(stage) == before, f"{role} was refused {action} yet something was written"


def test_model_activation_needs_a_training_role(stage: dict) -> None:
    ws = stage["ws"]
    auth.serve_team()
    with auth.acting_as(person("crm")), pytest.raises(PermissionDenied):
        models.activate(ws, "attributes", "v-none", person("crm").key)
    with auth.acting_as(person("merchandiser")), pytest.raises(AtelierError) as passed:
        models.activate(ws, "attributes", "v-none", person("merchandiser").key)
    assert not isinstance(passed.value, PermissionDenied)  # past the role check: the version simply does not exist


def test_a_page_without_its_guard_still_cannot_write(stage: dict, team_options: dict) -> None:
    """A UI bug (a stylist reaches a merchandiser action): the service refuses, the page shows why, nothing is
    written."""

    def buggy_page() -> None:
        import streamlit as st

        from core.errors import AtelierError
        from core.services import attributes
        from ui.auth import acting
        from ui.context import current_user, current_workspace, show_error

        acting()
        if st.button("Accept"):
            try:
                attributes.decide(current_workspace(), st.session_state.get("item", "x"), "colour", "skip", None,
                                  current_user(), "bug-1")
                st.success("saved")
            except AtelierError as error:
                show_error(error)

    at = AppTest.from_function(buggy_page, default_timeout=60)
    at.secrets, at.user = SECRETS, claims("stylist")
    at.session_state["item"] = stage["item"]
    before = count(stage["ws"], AttributeReview)
    at.run()
    at.button[0].click().run()
    assert "needs the 'merchandiser' role" in at.error[0].value and not at.success
    assert count(stage["ws"], AttributeReview, AttributeReview.request_id == "bug-1") == 0
    assert count(stage["ws"], AttributeReview) == before


# reader -> a call that returns customer ids or people's decisions
READS: dict[str, Callable[[dict], object]] = {
    "campaigns.list_campaigns": lambda s: campaigns.list_campaigns(s["ws"]),
    "campaigns.load_campaign": lambda s: campaigns.load_campaign(s["ws"], s["campaign"]),
    "campaigns.member_sets": lambda s: campaigns.member_sets(s["ws"]),
    "campaigns.recently_contacted": lambda s: campaigns.recently_contacted(s["ws"], 30),
    "customers.customer_view": lambda s: customers.customer_view(s["ws"], None, audience(s["ws"]).user_ids[0]),
    "attributes.reviews": lambda s: attributes.reviews(s["ws"]),
    "attributes.decided_values": lambda s: attributes.decided_values(s["ws"]),
    "attributes.acceptance": lambda s: attributes.acceptance(s["ws"]),
    "outfits.all_labels": lambda s: outfits.all_labels(s["ws"]),
    "outfits.labelled_pairs": lambda s: outfits.labelled_pairs(s["ws"]),
    "outfits.labeller_counts": lambda s: outfits.labeller_counts(s["ws"]),
    "outfits.agreement": lambda s: outfits.agreement(s["ws"]),
}
READERS: dict[str, set[str]] = {"campaigns": {"crm"}, "customers": {"crm"},
                                "attributes": {"merchandiser", "analyst"}, "outfits": {"stylist", "analyst"}}


@pytest.mark.parametrize("role", auth.ROLES)
@pytest.mark.parametrize("reader", sorted(READS))
def test_reads_of_customers_and_decisions_need_the_role(reader: str, role: str, stage: dict) -> None:
    """A stylist cannot read campaign members through the services, nor a CRM person the stylists' labels."""
    auth.serve_team()
    with auth.acting_as(person(role)):
        if role in READERS[reader.split(".")[0]]:
            READS[reader](stage)
        else:
            with pytest.raises(PermissionDenied, match=f"{role} person .* may not do this"):
                READS[reader](stage)


def test_reads_with_nobody_signed_in_are_refused_in_team_mode(stage: dict) -> None:
    auth.serve_team()
    with pytest.raises(PermissionDenied, match="nobody is signed in"):
        campaigns.member_sets(stage["ws"])
