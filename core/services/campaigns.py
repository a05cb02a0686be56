"""Campaigns: build an audience for a workspace, save it with its members, list/load them, record outcomes, lift."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pandas as pd
import sqlalchemy as sa

from core.auth import require_read, require_role
from core.columns import Columns
from core.data.tables import TableStore
from core.data.workspace import Workspace
from core.db import audit
from core.db.models import Campaign, CampaignMember, CampaignOutcome
from core.db.session import read_session, transaction
from core.errors import AtelierError, Problem, UnknownIdError, ValidationError
from core.features.customer_events import CustomerEvents
from core.models.affinity import AffinityModel
from core.services.affinity_training import KIND as ARTIFACT_KIND
from core.services.audience import (NO_MODEL_HELP, Audience, AudienceData, AudienceSpec, Lift, NoModelError, Ranked,
                                    cut_audience, lift, prepare_data, rank_audience)
from core.services.models import load_active

OUTCOMES = ("opened", "clicked", "bought")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}
CRM_ROLE = "crm"


@dataclass(frozen=True)
class CampaignRecord:
    """A saved campaign: its spec, the model version it was scored with, and members (user_id, group, score, rank)."""

    id: int
    name: str
    description: str
    spec: AudienceSpec
    model_version: str | None
    created_by: str
    created_at: datetime
    version_id: int
    members: pd.DataFrame

    @property
    def target_ids(self) -> list[str]:
        return self.members.loc[self.members["group"] == "target", Columns.user].tolist()


# --------------------------------------------------------------------------- building

def load_model(ws: Workspace) -> tuple[AffinityModel, str]:
    """The active affinity model and its version; NoModelError says how to train one."""
    artifact = load_active(ws, ARTIFACT_KIND)
    if artifact is None:
        raise NoModelError(f"workspace '{ws.name}' has no trained affinity model yet: {NO_MODEL_HELP}")
    return AffinityModel.from_artifact(artifact.arrays, artifact.meta), artifact.version


def workspace_data(ws: Workspace, model: AffinityModel) -> AudienceData:
    """Exclusion inputs from the workspace's interactions and customers files (either may be absent)."""
    require_read("campaigns")
    interactions = ws.interactions() if ws.has("interactions") else None
    customers = ws.customers() if ws.has("customers") else None
    return prepare_data(model, interactions, customers)


def interactions_generation(ws: Workspace) -> tuple[str | None, int]:
    """(live table generation, interactions file mtime ns): changes whenever an import replaces the interactions,
    so a cache keyed by it never serves the events of a table that is gone (the mtime covers the flat layout)."""
    return TableStore(ws.path).live_generation(), ws.table_version("interactions")


def customer_events(ws: Workspace) -> CustomerEvents | None:
    """The workspace's interactions indexed by customer, for the preview's "why" (None without interactions).

    One pass over the table; callers cache it keyed by `interactions_generation(ws)`.
    """
    require_read("campaigns")
    return CustomerEvents.build(ws.interactions()) if ws.has("interactions") else None


def recently_contacted(ws: Workspace, days: int, now: datetime | None = None,
                       exclude_id: int | None = None) -> list[str]:
    """Target members of campaigns saved in the last `days` days (control members were not contacted).

    `exclude_id` is the campaign being built or edited: its own members are not "another campaign".
    """
    require_read("campaigns")
    since = (now or datetime.now(timezone.utc)) - timedelta(days=int(days))
    query = (sa.select(CampaignMember.user_id).join(Campaign)
             .where(Campaign.workspace == ws.name, Campaign.created_at >= since, CampaignMember.group == "target"))
    if exclude_id is not None:
        query = query.where(Campaign.id != int(exclude_id))
    with read_session(ws) as session:
        return list(session.scalars(query.distinct()))


def build_for_workspace(ws: Workspace, spec: AudienceSpec, model: AffinityModel | None = None,
                        data: AudienceData | None = None, now: datetime | None = None,
                        exclude_id: int | None = None) -> Audience:
    """`build_audience` with the workspace's active model, exclusion data and saved campaigns (frequency cap).

    `exclude_id`: the saved campaign this audience is (being edited or just saved); the cap ignores it.
    """
    require_read("campaigns")
    if model is None:
        model, _ = load_model(ws)
    data = data if data is not None else workspace_data(ws, model)
    contacted = capped_ids(ws, spec, now, exclude_id)
    return cut_audience(model, rank_for_workspace(ws, spec, model, data, contacted), spec)


def capped_ids(ws: Workspace, spec: AudienceSpec, now: datetime | None = None,
               exclude_id: int | None = None) -> list[str]:
    """Who the frequency cap of `spec` leaves out (empty without a cap); see `recently_contacted`."""
    cap = spec.exclusions.frequency_cap_days
    return recently_contacted(ws, cap, now, exclude_id) if cap is not None else []


def rank_for_workspace(ws: Workspace, spec: AudienceSpec, model: AffinityModel, data: AudienceData,
                       contacted: list[str]) -> Ranked:
    """The scored, excluded and ranked users of `spec` before its cut (`cut_audience` makes the audience): pages
    cache it per model version, brands and exclusions, so a change of the cut costs only the cut."""
    require_read("campaigns")
    return rank_audience(model, spec, data, contacted)


# --------------------------------------------------------------------------- saving and loading

def save_campaign(ws: Workspace, name: str, audience: Audience, model_version: str | None, by: str,
                  description: str = "", request_id: str | None = None) -> int:
    """Save the campaign and every member (target and control) in one transaction; returns its id.

    `request_id` (made when the form renders) makes a double click harmless: the same request returns the
    campaign it already saved. Another campaign with the same name is refused.
    """
    require_role(by, CRM_ROLE)
    name = name.strip()
    if not name:
        raise ValidationError([Problem("campaign", None, "name", "give the campaign a name")])
    if audience.size == 0:
        raise AtelierError("the audience is empty: loosen the cut-off or the exclusions before saving")
    params = {**audience.spec.to_dict(), "request_id": request_id, "size": audience.size,
              "n_control": audience.n_control, "cutoff": audience.cutoff, "excluded": audience.excluded}
    with transaction(ws) as session:
        existing = session.scalar(sa.select(Campaign).where(Campaign.workspace == ws.name, Campaign.name == name))
        if existing is not None:
            if request_id and existing.params.get("request_id") == request_id:
                return existing.id
            raise AtelierError(f"a campaign named {name!r} already exists (id {existing.id}): choose another name")
        campaign = Campaign(workspace=ws.name, name=name, description=description, params=params,
                            model_version=model_version, created_by=by, status="saved")
        session.add(campaign)
        session.flush()
        rows = [{"campaign_id": campaign.id, "user_id": str(u), "group": str(g), "score": float(s), "rank": int(r)}
                for u, g, s, r in zip(audience.user_ids, audience.groups, audience.scores, audience.ranks)]
        session.execute(sa.insert(CampaignMember), rows)
        audit.record(session, by, "save_campaign", ws.name, f"campaign/{campaign.id}",
                     {"name": name, "size": audience.size, "n_control": audience.n_control,
                      "model_version": model_version, "brands": list(audience.spec.brands)})
        return campaign.id


def list_campaigns(ws: Workspace) -> pd.DataFrame:
    """Saved campaigns, newest first: id, name, brands, size, n_control, created_by, created_at, model_version."""
    require_read("campaigns")
    columns = ["id", "name", "brands", "size", "n_control", "created_by", "created_at", "model_version", "version"]
    with read_session(ws) as session:
        rows = session.scalars(sa.select(Campaign).where(Campaign.workspace == ws.name)
                               .order_by(Campaign.created_at.desc(), Campaign.id.desc())).all()
        records = [{"id": c.id, "name": c.name, "brands": ", ".join(c.params.get("brands", [])),
                    "size": c.params.get("size"), "n_control": c.params.get("n_control"),
                    "created_by": c.created_by, "created_at": c.created_at, "model_version": c.model_version,
                    "version": c.version_id} for c in rows]
    return pd.DataFrame.from_records(records, columns=columns)


def load_campaign(ws: Workspace, campaign_id: int) -> CampaignRecord:
    """One saved campaign with its members (ordered by rank); UnknownIdError for an id not in this workspace."""
    require_read("campaigns")
    with read_session(ws) as session:
        c = session.scalar(sa.select(Campaign).where(Campaign.workspace == ws.name, Campaign.id == int(campaign_id)))
        if c is None:
            raise UnknownIdError(f"no campaign with id {campaign_id} in workspace '{ws.name}': pick one from the "
                                 "saved campaigns list")
        members = pd.read_sql(
            sa.select(CampaignMember.user_id, CampaignMember.group, CampaignMember.score, CampaignMember.rank)
            .where(CampaignMember.campaign_id == c.id).order_by(CampaignMember.rank),
            session.connection())
        spec_keys = set(AudienceSpec.__dataclass_fields__)
        spec = AudienceSpec.from_dict({k: v for k, v in c.params.items() if k in spec_keys})
        return CampaignRecord(c.id, c.name, c.description, spec, c.model_version, c.created_by, c.created_at,
                              c.version_id, members)


def member_sets(ws: Workspace, exclude_id: int | None = None, group: str = "target") -> dict[str, list[str]]:
    """{campaign name: user ids of `group`} for every saved campaign but `exclude_id` (for overlap), newest first.

    `exclude_id` is the campaign on screen: a campaign never overlaps itself.
    """
    require_read("campaigns")
    query = (sa.select(Campaign.name, CampaignMember.user_id).join(CampaignMember)
             .where(Campaign.workspace == ws.name, CampaignMember.group == group)
             .order_by(Campaign.created_at.desc(), Campaign.id.desc()))
    if exclude_id is not None:
        query = query.where(Campaign.id != int(exclude_id))
    with read_session(ws) as session:
        rows = session.execute(query).all()
    out: dict[str, list[str]] = {}
    for name, user in rows:
        out.setdefault(name, []).append(user)
    return out


# --------------------------------------------------------------------------- outcomes

def read_outcomes(data: bytes, file: str = "outcomes.csv") -> pd.DataFrame:
    """Parse an outcomes CSV (user_id + any of opened, clicked, bought as 1/0, true/false, yes/no; blank = no).

    Strict: UTF-8 (a BOM is fine), every row as many fields as the header, every id kept as exact text,
    duplicates refused. Returns user_id (str) and the three bool columns (absent columns are False).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError([Problem(file, None, None,
                                       f"not UTF-8 at byte {error.start}: save it as UTF-8")]) from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValidationError([Problem(file, None, None, "the file is empty")])
    header = [h.strip().lower() for h in rows[0]]
    problems = []
    if Columns.user not in header:
        problems.append(Problem(file, None, Columns.user, "a user_id column is required"))
    if not set(OUTCOMES) & set(header):
        problems.append(Problem(file, None, None, f"at least one of {', '.join(OUTCOMES)} is required"))
    if problems:
        raise ValidationError(problems)
    records, seen = [], set()
    for i, row in enumerate(rows[1:], start=1):
        if not row:
            continue
        if len(row) != len(header):
            problems.append(Problem(file, i, None, f"has {len(row)} fields, the header has {len(header)}"))
            continue
        values = dict(zip(header, row))
        user = values[Columns.user]
        if user in seen:
            problems.append(Problem(file, i, Columns.user, "duplicate user", user))
        seen.add(user)
        record = {Columns.user: user}
        for name in OUTCOMES:
            raw = values.get(name, "").strip().lower()
            if raw not in _TRUE | _FALSE:
                problems.append(Problem(file, i, name, "must be 1/0, true/false or yes/no", values.get(name)))
            record[name] = raw in _TRUE
        records.append(record)
    if problems:
        raise ValidationError(problems)
    return pd.DataFrame.from_records(records, columns=[Columns.user, *OUTCOMES])


@dataclass(frozen=True)
class OutcomesRecorded:
    """What an outcomes upload did: rows recorded, and rows skipped because the customer is not a member."""

    recorded: int
    not_members: int = 0
    examples: tuple[str, ...] = ()

    def message(self) -> str:
        """One sentence for the page and the CLI."""
        text = f"Recorded outcomes for {self.recorded:,} customers."
        if self.not_members:
            more = ", …" if self.not_members > len(self.examples) else ""
            text += (f" Skipped {self.not_members:,} rows for customers who are not in this campaign "
                     f"(e.g. {', '.join(self.examples)}{more}).")
        return text


def record_outcomes(ws: Workspace, campaign_id: int, outcomes: pd.DataFrame, by: str,
                    file: str = "outcomes") -> OutcomesRecorded:
    """Replace the campaign's outcomes with the rows of its members (all or nothing).

    Rows for customers not in the campaign are skipped and reported (a CRM export often holds a few extra
    people); a file where they are the majority is refused whole, as it is most likely another campaign's.
    """
    require_role(by, CRM_ROLE)
    record = load_campaign(ws, campaign_id)
    is_member = outcomes[Columns.user].isin(set(record.members[Columns.user])).to_numpy(dtype=bool)
    strangers = outcomes.loc[~is_member, Columns.user].astype(str).tolist()
    if strangers and len(strangers) * 2 > len(outcomes):
        raise ValidationError([Problem(file, None, Columns.user,
                                       f"{len(strangers):,} of {len(outcomes):,} rows are not members of campaign "
                                       f"{record.name!r} (e.g. {', '.join(strangers[:3])}): is it the right "
                                       "campaign's file?")])
    kept = outcomes.loc[is_member]
    rows = [{"campaign_id": record.id, "user_id": str(r[Columns.user]),
             **{name: bool(r[name]) for name in OUTCOMES}} for r in kept.to_dict("records")]
    with transaction(ws) as session:
        session.execute(sa.delete(CampaignOutcome).where(CampaignOutcome.campaign_id == record.id))
        if rows:
            session.execute(sa.insert(CampaignOutcome), rows)
        audit.record(session, by, "record_outcomes", ws.name, f"campaign/{record.id}",
                     {"rows": len(rows), "not_members": len(strangers),
                      **{name: int(kept[name].sum()) for name in OUTCOMES}})
    return OutcomesRecorded(len(rows), len(strangers), tuple(strangers[:3]))


def campaign_lift(ws: Workspace, campaign_id: int) -> list[Lift]:
    """Target vs control lift for opened, clicked and bought; members without an outcome row count as "no"."""
    require_read("campaigns")
    record = load_campaign(ws, campaign_id)
    with read_session(ws) as session:
        outcomes = pd.read_sql(sa.select(CampaignOutcome.user_id, *(getattr(CampaignOutcome, n) for n in OUTCOMES))
                               .where(CampaignOutcome.campaign_id == record.id), session.connection())
    if outcomes.empty:
        raise AtelierError(f"campaign {record.name!r} has no outcomes yet: upload who opened, clicked and bought")
    merged = record.members.merge(outcomes, on=Columns.user, how="left")
    merged[list(OUTCOMES)] = merged[list(OUTCOMES)].fillna(False).astype(bool)
    is_target = (merged["group"] == "target").to_numpy()
    return [lift(merged.loc[is_target, n].to_numpy(), merged.loc[~is_target, n].to_numpy(), n) for n in OUTCOMES]


def lift_frame(lifts: list[Lift]) -> pd.DataFrame:
    """The lift table as a person reads it: every rate and difference in percent, each with its 95% CI.

    Columns: outcome, target, control (rate and count), difference (percentage points, 95% CI),
    relative lift (95% CI), reading (whether the interval excludes no difference).
    """
    return pd.DataFrame([{
        "outcome": lift.outcome,
        "target": f"{lift.rate_target:.1%} of {lift.n_target:,}",
        "control": f"{lift.rate_control:.1%} of {lift.n_control:,}",
        "difference (95% CI)": _with_ci(lift.difference, lift.difference_ci),
        "relative lift (95% CI)": (_with_ci(lift.relative_lift, lift.relative_lift_ci)
                                   if lift.relative_lift is not None and lift.relative_lift_ci is not None
                                   else f"n/a: no one {lift.outcome} in the "
                                        f"{'control' if lift.rate_control == 0 else 'target'} group"),
        "reading": _reading(lift)} for lift in lifts])


def _with_ci(value: float, ci: tuple[float, float]) -> str:
    return f"{value:+,.1%} [{ci[0]:+,.1%}, {ci[1]:+,.1%}]"


def _reading(lift: Lift) -> str:
    low, high = lift.difference_ci
    if low > 0:
        return "target higher"
    if high < 0:
        return "target lower"
    return "no clear difference (the interval includes 0)"
