"""Customer view: one customer's top brands by affinity and why, their interaction history, flags and campaigns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from core.auth import require_read
from core.columns import SUPPRESSION_FLAGS, Columns
from core.data.workspace import Workspace
from core.db.models import Campaign, CampaignMember
from core.db.session import read_session
from core.errors import UnknownIdError
from core.features.interactions import interaction_weights
from core.models.affinity import AffinityModel

RECENT_DAYS = 30
N_PULLS = 3
TOP_COLUMNS = ["rank", Columns.brand, Columns.score, "taste", "brand_bias", "interactions", "pulled_by",
               "recent"]


@dataclass(frozen=True)
class CustomerView:
    """top_brands: rank, brand_id, score = taste + brand_bias + user_bias, taste (their factors · the brand's),
    brand_bias, interactions (their events on it), pulled_by (their own brands most like it, similarity × their
    weight), recent (their activity on it lately) — best first, empty when the model lacks them;
    pulls: brand_id, own_brand, similarity, weight, pull — every (top brand, own brand) pair, strongest first;
    user_bias: their bias (the same for every brand, so it never changes the order; None outside the model);
    history: their interactions with the item name, newest first; flags: suppression flags (None without a
    customers row); campaigns: campaign id, name, group, rank, created_at; in_model: whether the model scored them."""

    user_id: str
    in_model: bool
    top_brands: pd.DataFrame
    history: pd.DataFrame
    flags: dict[str, bool] | None
    campaigns: pd.DataFrame
    pulls: pd.DataFrame
    user_bias: float | None = None


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
    top, pulls, user_bias = pd.DataFrame(columns=TOP_COLUMNS), pd.DataFrame(), None
    if in_model:
        latest = _latest(interactions)
        top, pulls = explain_top_brands(model, user_id, history, k, latest)
        user_bias = float(model.user_bias[model.user_ids.index(user_id, "customer")])
    return CustomerView(user_id, in_model, top, _with_names(ws, history).reset_index(drop=True), flags,
                        _campaigns(ws, user_id), pulls, user_bias)


def explain_top_brands(model: AffinityModel, user_id: str, history: pd.DataFrame, k: int = 10,
                       latest: pd.Timestamp | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The user's top-k brands and, for each, which of their own brands pull it up.

    A brand's pull from one of their brands j is cos(factors of the brand, factors of j) × their weight on j
    (the model's event weights and half-life, so what training saw). The model's score is taste (their factors ·
    the brand's) + the brand's bias + their bias; the pulls say which of their brands that taste comes from.
    """
    u = model.user_ids.index(user_id, "customer")
    idx, scores = model.top_brands_for_users(k, [u])
    top_idx = idx[0]
    own = _own_weights(model, history, latest)
    own_idx = model.brand_ids.to_index(own.index.tolist(), missing="mask") if len(own) else np.empty(0, np.int64)
    known = own_idx >= 0
    own, own_idx = own[known], own_idx[known]
    similarity = _cosine(model.brand_factors, top_idx, own_idx)  # (k, n_own)
    pull = similarity * own.to_numpy(dtype=np.float64)[None, :]
    names = model.brand_ids.external
    pulls = pd.DataFrame({Columns.brand: np.repeat(names[top_idx], len(own_idx)),
                          "own_brand": np.tile(names[own_idx], len(top_idx)),
                          "similarity": similarity.ravel(), "weight": np.tile(own.to_numpy(), len(top_idx)),
                          "pull": pull.ravel()}).sort_values("pull", ascending=False, kind="stable")
    counts = history[Columns.brand].value_counts() if not history.empty else pd.Series(dtype=int)
    brands = names[top_idx]
    top = pd.DataFrame({
        "rank": range(1, len(brands) + 1), Columns.brand: brands, Columns.score: scores[0],
        "taste": model.brand_factors[top_idx] @ model.user_factors[u], "brand_bias": model.brand_bias[top_idx],
        "interactions": [int(counts.get(b, 0)) for b in brands],
        "pulled_by": [_pulled_by(pulls[pulls[Columns.brand] == b]) for b in brands],
        "recent": [_recent(history, b, latest) for b in brands]})
    return top, pulls.reset_index(drop=True)


def _own_weights(model: AffinityModel, history: pd.DataFrame, latest: pd.Timestamp | None) -> pd.Series:
    """Their summed interaction weight per brand, weighted as the model's params say (events with no weight: 0)."""
    if history.empty:
        return pd.Series(dtype=np.float64)
    weights = interaction_weights(history, model.params.event_weights, model.params.half_life_days, now=latest,
                                  unnamed_event_weight=0.0)
    return pd.Series(weights, index=history[Columns.brand].astype(str).to_numpy()).groupby(level=0).sum()


def _cosine(factors: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """float64 (len(rows), len(cols)) cosine similarity between brand factor rows."""
    f = factors.astype(np.float64)
    norms = np.linalg.norm(f, axis=1) + 1e-12
    return (f[rows] / norms[rows, None]) @ (f[cols] / norms[cols, None]).T


def _pulled_by(pairs: pd.DataFrame) -> str:
    """E.g. "acme 0.98×8 · beta 0.41×1.5" — their strongest positive pulls on this brand."""
    strong = pairs[pairs["pull"] > 0].head(N_PULLS)
    if strong.empty:
        return "none of their brands is like it: the brand's bias and similar shoppers' taste"
    return " · ".join(f"{r.own_brand} {r.similarity:.2f}×{r.weight:.3g}" for r in strong.itertuples())


def _recent(history: pd.DataFrame, brand: str, latest: pd.Timestamp | None) -> str:
    """E.g. "2 in the last 30 days · last: order 3 days ago" (days before the data's latest event)."""
    rows = history[history[Columns.brand] == brand] if not history.empty else history
    if rows.empty:
        return "never"
    last = rows.iloc[0]  # history is newest first
    if latest is None or pd.isna(last.get(Columns.timestamp)):
        return f"last: {last[Columns.event]}"
    age = (latest - pd.Timestamp(last[Columns.timestamp])).days
    n_recent = int((rows[Columns.timestamp] >= latest - pd.Timedelta(days=RECENT_DAYS)).sum())
    return f"{n_recent} in the last {RECENT_DAYS} days · last: {last[Columns.event]} {age} days ago"


def _latest(interactions: pd.DataFrame | None) -> pd.Timestamp | None:
    """The data's last timestamp: "days ago" and the half-life count back from it, as training did."""
    if interactions is None or Columns.timestamp not in interactions or interactions[Columns.timestamp].isna().all():
        return None
    return pd.Timestamp(interactions[Columns.timestamp].max())


def _with_names(ws: Workspace, history: pd.DataFrame) -> pd.DataFrame:
    """History with the catalogue's item name beside the id (the id alone tells a person nothing)."""
    if history.empty or Columns.item not in history or not ws.has("catalogue"):
        return history
    catalogue = ws.catalogue()
    if "name" not in catalogue:
        return history
    names = catalogue.drop_duplicates(Columns.item).set_index(Columns.item)["name"]
    out = history.copy()
    out.insert(out.columns.get_loc(Columns.item), "item", out[Columns.item].map(names).fillna("(not in catalogue)"))
    return out


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
