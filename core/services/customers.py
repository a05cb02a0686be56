"""Customer view: one customer's top brands by affinity, their interaction history, flags and campaigns."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from core.auth import require_read
from core.columns import SUPPRESSION_FLAGS, Columns
from core.data.workspace import Workspace
from core.db.models import Campaign, CampaignMember
from core.db.session import read_session
from core.errors import UnknownIdError
from core.models.affinity import AffinityModel


@dataclass(frozen=True)
class CustomerView:
    """top_brands: brand_id, score, interactions (events on it), rank — best first (empty when the model lacks them);
    history: their interactions, newest first; flags: suppression flags (None without a customers row);
    campaigns: campaign id, name, group, rank, created_at; in_model: whether the model has scored them."""

    user_id: str
    in_model: bool
    top_brands: pd.DataFrame
    history: pd.DataFrame
    flags: dict[str, bool] | None
    campaigns: pd.DataFrame


def customer_view(ws: Workspace, model: AffinityModel | None, user_id: str, k: int = 10) -> CustomerView:
    """Everything the customer page shows; UnknownIdError when the id is in neither the model nor the data."""
    require_read("customers")
    user_id = str(user_id).strip()
    interactions = ws.interactions() if ws.has("interactions") else None
    history = (interactions[interactions[Columns.user] == user_id].sort_values(Columns.timestamp, ascending=False)
               if interactions is not None else pd.DataFrame())
    flags = _flags(ws, user_id)
    in_model = model is not None and user_id in model.user_ids
    if not in_model and history.empty and flags is None:
        raise UnknownIdError(f"no customer {user_id!r} in workspace '{ws.name}': check the id (ids are exact text, "
                             "e.g. leading zeros count)")
    top = pd.DataFrame(columns=["rank", Columns.brand, Columns.score, "interactions"])
    if in_model:
        idx, scores = model.top_brands_for_users(k, [model.user_ids.index(user_id, "customer")])
        counts = history[Columns.brand].value_counts() if not history.empty else pd.Series(dtype=int)
        brands = model.brand_ids.to_external(idx[0])
        top = pd.DataFrame({"rank": range(1, len(brands) + 1), Columns.brand: brands, Columns.score: scores[0],
                            "interactions": [int(counts.get(b, 0)) for b in brands]})
    return CustomerView(user_id, in_model, top, history.reset_index(drop=True), flags, _campaigns(ws, user_id))


def _flags(ws: Workspace, user_id: str) -> dict[str, bool] | None:
    if not ws.has("customers"):
        return None
    customers = ws.customers()
    row = customers[customers[Columns.user] == user_id]
    if row.empty:
        return None
    return {f: bool(row[f].iloc[0]) for f in SUPPRESSION_FLAGS if f in row.columns}


def _campaigns(ws: Workspace, user_id: str) -> pd.DataFrame:
    with read_session(ws) as session:
        rows = session.execute(
            sa.select(Campaign.id, Campaign.name, CampaignMember.group, CampaignMember.rank, Campaign.created_at)
            .join(CampaignMember).where(Campaign.workspace == ws.name, CampaignMember.user_id == user_id)
            .order_by(Campaign.created_at.desc())).all()
    return pd.DataFrame(rows, columns=["campaign_id", "campaign", "group", "rank", "created_at"])
