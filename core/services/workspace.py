"""Workspace overview: counts, popularity curves, attribute coverage and active models, for the home page and CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa

from core.columns import attribute_columns, attribute_name
from core.data.workspace import Workspace
from core.db.models import ModelVersion
from core.db.session import read_session
from core.errors import AtelierError
from core.services.models import version_name

CURVE_POINTS = 201  # points of a popularity curve (top 0%, 0.5%, ..., 100%)
TAIL_MAX = 3  # "long tail" items: at most this many interactions


@dataclass(frozen=True)
class Overview:
    """What the home page shows about one workspace. Counts are None where the table is absent."""

    name: str
    description: str
    source: str
    created_at: str | None
    counts: dict[str, int | None]  # users, brands, items, interactions, outfits, customers
    item_curve: pd.DataFrame  # top_share (fraction of items, most popular first), interaction_share (cumulative)
    brand_curve: pd.DataFrame  # same for brands
    tail: dict[str, float]  # item_tail_share, item_zero_share, top20_item_share, top20_brand_share, top1_item_share
    attribute_coverage: pd.DataFrame  # attribute, labelled, missing, coverage, values, applies_to, coverage_applicable
    coverage_by_group: pd.DataFrame  # index attribute, one column per category group: share labelled
    complete_share: float | None  # share of items with every attribute that applies to them labelled
    events: dict[str, int] = field(default_factory=dict)  # interactions per event
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None  # first and last timestamp
    active_models: pd.DataFrame = field(default_factory=pd.DataFrame)  # kind, version, activated_at, activated_by


def overview(ws: Workspace) -> Overview:
    """Summarise a workspace; tables that are absent give None counts and empty frames."""
    manifest = ws.manifest
    interactions = ws.interactions() if ws.has("interactions") else None
    catalogue = ws.catalogue() if ws.has("catalogue") else None
    outfits = ws.outfits() if ws.has("outfits") else None
    customers = ws.customers() if ws.has("customers") else None
    source = manifest.get("source", "")
    # Interactions per item and per brand, counted once (the expensive part on millions of rows).
    items = _entity_counts(interactions, catalogue, "item_id", "item_id")
    brands = _entity_counts(interactions, catalogue, "brand_id", "brand")
    return Overview(
        name=ws.name,
        description=manifest.get("description", ""),
        source=source if isinstance(source, str) else ", ".join(f"{k}: {v}" for k, v in source.items()),
        created_at=manifest.get("created_at"),
        counts=_counts(interactions, catalogue, outfits, customers, items, brands),
        item_curve=_curve(items),
        brand_curve=_curve(brands),
        tail=_tail(items, brands),
        attribute_coverage=attribute_coverage(catalogue) if catalogue is not None else _empty_coverage(),
        coverage_by_group=coverage_by_group(catalogue) if catalogue is not None else pd.DataFrame(),
        complete_share=_complete_share(catalogue),
        events=_events(interactions),
        period=_period(interactions),
        active_models=active_models(ws),
    )


def popularity_curve(counts: np.ndarray, points: int = CURVE_POINTS) -> pd.DataFrame:
    """Share of all interactions held by the top x of entities (x from 0 to 1), from counts (n,) int.

    Entities with zero interactions count in x, so a catalogue with many unseen items shows its tail.
    """
    counts = np.sort(np.asarray(counts, dtype=np.float64))[::-1]
    total = counts.sum()
    x = np.linspace(0.0, 1.0, points)
    if len(counts) == 0 or total == 0:
        return pd.DataFrame({"top_share": x, "interaction_share": np.zeros(points)})
    cumulative = np.concatenate([[0.0], np.cumsum(counts) / total])
    positions = x * len(counts)
    share = np.interp(positions, np.arange(len(counts) + 1), cumulative)
    return pd.DataFrame({"top_share": x, "interaction_share": share})


def attribute_coverage(catalogue: pd.DataFrame, by: str = "category_group") -> pd.DataFrame:
    """One row per attr_* column: labelled and missing item counts, coverage (0-1 of all items), distinct values,
    and the same among the items it applies to (`applies_to`, `coverage_applicable`).

    An attribute applies to the items of a category group when at least one item of that group carries it
    (no sleeve length on shoes); without a `by` column it applies to every item.
    """
    rows = []
    applicable = applicability(catalogue, by)
    for column in attribute_columns(list(catalogue.columns)):
        values = catalogue[column]
        present = _present(values)
        applies = applicable[column] if column in applicable else pd.Series(True, index=catalogue.index)
        n_applies = int(applies.sum())
        rows.append({"attribute": attribute_name(column), "labelled": int(present.sum()),
                     "missing": int((~present).sum()), "coverage": float(present.mean()) if len(values) else 0.0,
                     "values": int(values[present].nunique()), "applies_to": n_applies,
                     "coverage_applicable": float(present[applies].sum() / n_applies) if n_applies else 0.0})
    return pd.DataFrame(rows, columns=_empty_coverage().columns)


def applicability(catalogue: pd.DataFrame, by: str = "category_group") -> pd.DataFrame:
    """Bool frame (items × attr_* columns): does the attribute apply to the item (its group ever carries it)?"""
    columns = attribute_columns(list(catalogue.columns))
    if by not in catalogue.columns:
        return pd.DataFrame(True, index=catalogue.index, columns=columns)
    groups = catalogue[by].fillna("(none)").astype(str)
    out = {}
    for column in columns:
        carried = groups[_present(catalogue[column])].unique()
        out[column] = groups.isin(carried)
    return pd.DataFrame(out, index=catalogue.index, columns=columns)


def _present(values: pd.Series) -> pd.Series:
    """True where a value is there (NA and blank text are missing)."""
    return values.notna() & (values.astype("string").str.strip() != "").fillna(False)


def coverage_by_group(catalogue: pd.DataFrame, by: str = "category_group") -> pd.DataFrame:
    """Share labelled per attribute (rows) and category group (columns); empty when there is no such column."""
    columns = attribute_columns(list(catalogue.columns))
    if not columns or by not in catalogue.columns:
        return pd.DataFrame()
    present = catalogue[columns].apply(_present)
    table = present.groupby(catalogue[by].fillna("(none)").astype(str)).mean().T
    table.index = [attribute_name(c) for c in table.index]
    return table


def active_models(ws: Workspace) -> pd.DataFrame:
    """Active model version per kind (kind, version, name, activated_at, activated_by); empty without a database."""
    columns = ["kind", "version", "name", "activated_at", "activated_by"]
    older = sa.orm.aliased(ModelVersion)
    number = (sa.select(sa.func.count()).select_from(older)
              .where(older.workspace == ModelVersion.workspace, older.kind == ModelVersion.kind,
                     older.created_at <= ModelVersion.created_at).scalar_subquery())
    try:
        with read_session(ws) as session:
            rows = session.execute(sa.select(ModelVersion.kind, ModelVersion.version, number, ModelVersion.created_at,
                                             ModelVersion.activated_at, ModelVersion.activated_by)
                                   .where(ModelVersion.workspace == ws.name, ModelVersion.active.is_(True))
                                   .order_by(ModelVersion.kind)).all()
    except (ImportError, AtelierError):
        return pd.DataFrame(columns=columns)
    rows = [(kind, version, version_name(kind, n, created), at, by) for kind, version, n, created, at, by in rows]
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


# ------------------------------------------------------------------------------------------------ helpers
def _counts(interactions: pd.DataFrame | None, catalogue: pd.DataFrame | None, outfits: pd.DataFrame | None,
            customers: pd.DataFrame | None, items: np.ndarray | None,
            brands: np.ndarray | None) -> dict[str, int | None]:
    def distinct(*columns: pd.Series | None) -> int | None:
        present = [c.dropna() for c in columns if c is not None]
        return None if not present else int(pd.concat(present, ignore_index=True).nunique())

    def column(frame: pd.DataFrame | None, name: str) -> pd.Series | None:
        return frame[name] if frame is not None and name in frame else None

    return {
        "users": distinct(column(interactions, "user_id"), column(customers, "user_id")),
        "brands": len(brands) if brands is not None else distinct(column(catalogue, "brand")),
        "items": len(items) if items is not None else distinct(column(catalogue, "item_id")),
        "interactions": None if interactions is None else int(len(interactions)),
        "outfits": None if outfits is None else int(outfits["outfit_id"].nunique()),
        "customers": None if customers is None else int(len(customers)),
    }


def _entity_counts(interactions: pd.DataFrame | None, catalogue: pd.DataFrame | None, column: str,
                   catalogue_column: str) -> np.ndarray | None:
    """Interactions per entity (int64 (n,)), including the catalogue's entities that have none."""
    if interactions is None or column not in interactions:
        return None
    counts = interactions[column].dropna().value_counts()
    if catalogue is not None and catalogue_column in catalogue:
        known = pd.Index(catalogue[catalogue_column].dropna().unique())
        counts = counts.reindex(counts.index.union(known), fill_value=0)
    return counts.to_numpy()


def _curve(counts: np.ndarray | None) -> pd.DataFrame:
    return popularity_curve(counts) if counts is not None else pd.DataFrame(columns=["top_share", "interaction_share"])


def _tail(items: np.ndarray | None, brands: np.ndarray | None) -> dict[str, float]:
    out: dict[str, float] = {}
    if items is not None and len(items):
        out["item_tail_share"] = float((items <= TAIL_MAX).mean())
        out["item_zero_share"] = float((items == 0).mean())
        out["top20_item_share"] = _top_share(items, 0.2)
        out["top1_item_share"] = _top_share(items, 0.01)
    if brands is not None and len(brands):
        out["top20_brand_share"] = _top_share(brands, 0.2)
    return out


def _top_share(counts: np.ndarray, fraction: float) -> float:
    curve = popularity_curve(counts, points=1001)
    return float(np.interp(fraction, curve["top_share"], curve["interaction_share"]))


def _complete_share(catalogue: pd.DataFrame | None) -> float | None:
    if catalogue is None:
        return None
    columns = attribute_columns(list(catalogue.columns))
    if not columns or len(catalogue) == 0:
        return None
    # Complete = every attribute that applies to the item's group is labelled.
    present = catalogue[columns].apply(_present)
    return float((present | ~applicability(catalogue)).all(axis=1).mean())


def _events(interactions: pd.DataFrame | None) -> dict[str, int]:
    if interactions is None or "event" not in interactions:
        return {}
    return {str(k): int(v) for k, v in interactions["event"].value_counts().items()}


def _period(interactions: pd.DataFrame | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if interactions is None or "timestamp" not in interactions:
        return None
    times = interactions["timestamp"].dropna()
    return (times.min(), times.max()) if len(times) else None


def _empty_coverage() -> pd.DataFrame:
    return pd.DataFrame(columns=["attribute", "labelled", "missing", "coverage", "values", "applies_to",
                                 "coverage_applicable"])
