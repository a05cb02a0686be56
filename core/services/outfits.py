"""Outfits: serve the complementary model, the stylists' pair-labelling queue, agreement, complete-the-look."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import auth
from core.columns import Columns
from core.data.workspace import Workspace
from core.db import audit, queries_outfits as q
from core.db.models import PAIR_LABELS
from core.db.session import read_session, transaction
from core.errors import AtelierError, PermissionDenied, Problem, UnknownIdError, ValidationError
from core.evaluation.agreement import rater_agreement
from core.models.complementary import params as complementary_params
from core.services import models as versions

if TYPE_CHECKING:  # torch loads only where a model is used: labelling workers stay light
    from core.models.complementary.model import ComplementaryModel

KIND = complementary_params.KIND  # ComplementaryModel.kind: the job kind and the artifact kind
LABEL_TEXT = {"yes": "goes together", "no": "does not go", "unsure": "not sure"}
DEFAULT_LEASE = timedelta(minutes=15)
FIRST_BATCH = 50  # pairs queued for a stylist who opens an empty queue: a morning's work, not the catalogue


# -- model: load, score ------------------------------------------------------------------------------------

def load_model(ws: Workspace) -> "ComplementaryModel | None":
    """The active complementary model of the workspace, or None when none was trained."""
    # torch loads only where a model is used (see TYPE_CHECKING)
    from core.models.complementary.model import ComplementaryModel  # noqa: PLC0415

    artifact = versions.load_active(ws, KIND)
    return None if artifact is None else ComplementaryModel.from_artifact(artifact.arrays, artifact.meta)


def require_model(ws: Workspace) -> "ComplementaryModel":
    model = load_model(ws)
    if model is None:
        raise AtelierError("no complementary model yet: train one with `python -m core train complementary` "
                           "or the \"Retrain with labels\" button on the Outfit labelling page")
    return model


def read_pairs(path: str | Path) -> pd.DataFrame:
    """A CSV of item_a,item_b (ids kept as text); raises ValidationError naming what is wrong."""
    if not Path(path).is_file():
        raise AtelierError(f"{path}: file not found (a CSV with columns item_a,item_b)")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("item_a", "item_b") if c not in frame.columns]
    if missing:
        raise ValidationError([Problem(str(path), None, c, "required column missing (expected item_a,item_b)")
                               for c in missing])
    return frame[["item_a", "item_b"]]


def score_pairs(model: "ComplementaryModel", pairs: pd.DataFrame) -> pd.DataFrame:
    """item_a, item_b, score (probability the two go together) for each row of `pairs`."""
    scores = model.score_pairs(pairs["item_a"].tolist(), pairs["item_b"].tolist())
    return pd.DataFrame({"item_a": pairs["item_a"], "item_b": pairs["item_b"], Columns.score: scores})


def complete_the_look(ws: Workspace, item_id: str, per_slot: int = 3,
                      model: "ComplementaryModel | None" = None) -> tuple[pd.DataFrame, float]:
    """Best items of each other category for `item_id` with catalogue details, and the outfit score of the
    look made of the item plus each category's best pick."""
    model = model or require_model(ws)
    frame = model.complete_the_look(str(item_id), per_slot=per_slot)
    best = frame[frame[Columns.rank] == 1][Columns.item].tolist()
    look = model.feats.index([str(item_id)] + best)
    details = _catalogue_details(ws, frame[Columns.item].tolist())
    return frame.merge(details, on=Columns.item, how="left"), model.outfit_score(look)


def item_card(ws: Workspace, item_id: str) -> dict[str, Any]:
    """item_id and its card fields (name, brand, category, category_group, division, price, image_url, colour);
    only item_id when the catalogue does not have the item."""
    return {Columns.item: str(item_id), **_cards(ws).get(str(item_id), {})}


def _catalogue_details(ws: Workspace, item_ids: list[str]) -> pd.DataFrame:
    """item_id, name, brand, category, category_group, division, price, image_url, colour of the given items."""
    cards = _cards(ws)
    rows = [{Columns.item: str(i), **cards[str(i)]} for i in item_ids if str(i) in cards]
    return pd.DataFrame(rows, columns=[Columns.item, *(cards["__columns__"])])


def _cards(ws: Workspace) -> dict[str, Any]:
    """item id -> dict of the card fields, built once per catalogue file version in this process."""
    path = ws.path / "catalogue.parquet"
    key = (str(path), path.stat().st_mtime_ns if path.exists() else 0)
    if _CARD_CACHE.get("key") != key:
        cat = ws.catalogue()
        cols = [c for c in ("name", "brand", "category", "category_group", "division", "price", "image_url")
                if c in cat.columns]
        colour = [c for c in cat.columns if c.startswith("attr_colo")]
        frame = cat[[Columns.item] + cols + colour[:1]].rename(columns={colour[0]: "colour"} if colour else {})
        frame = frame.assign(**{Columns.item: frame[Columns.item].astype(str)}).drop_duplicates(Columns.item)
        cards = frame.set_index(Columns.item).to_dict("index")
        cards["__columns__"] = [c for c in frame.columns if c != Columns.item]
        _CARD_CACHE.update(key=key, cards=cards)
    return _CARD_CACHE["cards"]


_CARD_CACHE: dict[str, Any] = {}  # one catalogue indexed by item id per process: a claim must stay cheap


# -- the labelling queue ------------------------------------------------------------------------------------

def new_request_id() -> str:
    """Made when the form renders and kept in session state: a double click or rerun writes one label."""
    return uuid.uuid4().hex


def propose_candidates(ws: Workspace, n: int = 200, confident_share: float = 0.2, labels_needed: int = 1,
                       seed: int | None = None, model: "ComplementaryModel | None" = None) -> int:
    """Queue `n` pairs for stylists: the model's least-sure pairs spread round-robin over category pairs,
    plus `confident_share` of its most confident ones (to check). Without a model, random cross-category pairs.
    Both sides of a pair are of one division (or one side has none). Pairs already queued are not drawn again,
    so asking twice queues new pairs. Returns how many new pairs were queued."""
    auth.require_current(auth.ACTION_ROLES["outfit.propose"])
    if n < 1 or not 0 <= confident_share <= 1 or labels_needed < 1:
        raise ValidationError([Problem("candidates", None, None,
                                       "n >= 1, 0 <= confident_share <= 1, labels_needed >= 1")])
    model = model if model is not None else load_model(ws)
    with read_session(ws) as session:
        queued = q.queued_pairs(session, ws.name)
    rows = _candidate_rows(ws, model, n, confident_share, seed, queued)
    with transaction(ws) as session:
        return q.add_candidates(session, ws.name, rows, labels_needed)


def _candidate_rows(ws: Workspace, model: "ComplementaryModel | None", n: int, confident_share: float,
                    seed: int | None, queued: set[tuple[str, str]] | None = None) -> list[dict]:
    rng = np.random.default_rng(seed)
    cat = ws.catalogue()
    if model is None:
        ids = cat[Columns.item].astype(str).to_numpy()
        slot_col = "category_group" if "category_group" in cat.columns else Columns.category
        slots = cat[slot_col].astype(str).to_numpy()
    else:
        ids, slots = model.feats.item_ids.astype(str), model.feats.slots.astype(str)
    pool = min(max(20 * n, 2000), 200_000)
    a, b = rng.integers(len(ids), size=pool), rng.integers(len(ids), size=pool)
    keep = slots[a] != slots[b]  # pairs within one category are not outfit questions
    if "division" in cat.columns:  # a men's jacket with a women's scarf is no outfit question either
        division = cat.assign(**{Columns.item: cat[Columns.item].astype(str)}).drop_duplicates(Columns.item) \
            .set_index(Columns.item)["division"].astype("string").fillna("").reindex(ids).fillna("").to_numpy(dtype=str)
        keep &= (division[a] == division[b]) | (division[a] == "") | (division[b] == "")
    if queued:
        first_lower = ids[a] < ids[b]
        lo, hi = np.where(first_lower, ids[a], ids[b]), np.where(first_lower, ids[b], ids[a])
        keep &= np.fromiter(((x, y) not in queued for x, y in zip(lo, hi)), dtype=bool, count=len(a))
    a, b = a[keep], b[keep]
    _, first = np.unique(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1), axis=0, return_index=True)
    first = np.sort(first)  # one question per pair, in draw order
    a, b = a[first], b[first]
    if model is None:
        return [{"item_a": ids[i], "item_b": ids[j], "score": None, "reason": "random (no model yet)"} for i,
                j in zip(a[:n], b[:n])]
    p = model.score_rows(a, b)
    frame = pd.DataFrame({"a": a, "b": b, "p": p, "slots": [" + ".join(sorted(x)) for x in zip(slots[a], slots[b])]})
    n_conf = int(round(n * confident_share))
    unsure = frame.assign(u=(frame.p - 0.5).abs()).sort_values("u")
    unsure["turn"] = unsure.groupby("slots").cumcount()
    picked = unsure.sort_values(["turn", "u"]).head(n - n_conf).assign(reason="model unsure")
    rest = frame.drop(picked.index)
    conf = pd.concat([rest.nlargest(n_conf - n_conf // 2, "p"),
                      rest.nsmallest(n_conf // 2, "p")]).assign(reason="model confident")
    out = pd.concat([picked, conf])
    return [{"item_a": ids[r.a], "item_b": ids[r.b], "score": float(r.p), "reason": f"{r.reason} ({r.slots})"}
            for r in out.itertuples()]


def start_queue(ws: Workspace, labeller: str, n: int = FIRST_BATCH,
                model: "ComplementaryModel | None" = None) -> int:
    """Queue a batch of `n` pairs when no pair waits for `labeller` (not even one leased to someone else) and they
    may propose; returns how many were queued (0: pairs still wait for them, or they may only label)."""
    if remaining_for(ws, labeller):
        return 0
    try:
        auth.require_action(labeller, "outfit.propose")
    except PermissionDenied:
        return 0
    return propose_candidates(ws, n, model=model)


@dataclass
class PairView:
    """A pair leased to a stylist, with both products' details (dicts of catalogue columns)."""

    pair_id: int
    item_a: dict
    item_b: dict
    score: float | None
    reason: str
    claim_expires_at: datetime


def claim_pair(ws: Workspace, labeller: str, lease: timedelta = DEFAULT_LEASE) -> PairView | None:
    """The pair this stylist holds, or lease them the next one (atomic); None when nothing is left for them."""
    auth.require_action(labeller, "outfit.label")
    with transaction(ws) as session:
        row = _held_or_next(session, ws, labeller, lease)
    return _view(ws, row)


def _held_or_next(session: Session, ws: Workspace, labeller: str, lease: timedelta) -> dict | None:
    return q.current_claim(session, ws.name, labeller) or q.claim_next(session, ws.name, labeller, lease)


def _view(ws: Workspace, row: dict | None) -> PairView | None:
    """The claimed row with both products' cards (from the per-process catalogue index)."""
    if row is None:
        return None
    cards = _cards(ws)
    card = lambda i: {Columns.item: i, **cards.get(i, {})}  # noqa: E731
    return PairView(row["id"], card(row["item_a"]), card(row["item_b"]), row["score"], row["reason"],
                    row["claim_expires_at"])


def label_pair(ws: Workspace, pair_id: int, labeller: str, label: str, request_id: str) -> bool:
    """Write one decision at once; False when it was already written (same request id or same person).

    StaleEditError when this stylist's lease ran out and the pair went to someone else (or has all its labels)."""
    _check_label(labeller, label, request_id)
    try:
        with transaction(ws) as session:
            return q.write_label(session, pair_id, labeller, label, request_id)
    except IntegrityError as error:  # the foreign key: the pair was removed from the queue meanwhile
        raise UnknownIdError(f"pair {pair_id} is not in the queue: reload the page") from error


def label_and_claim_next(ws: Workspace, pair_id: int, labeller: str, label: str, request_id: str,
                         lease: timedelta = DEFAULT_LEASE) -> tuple[bool, PairView | None]:
    """label_pair, and lease this stylist their next pair in the same transaction: (written, next pair or None).

    One commit per key instead of two (a label, then a claim): the card is redrawn from the returned pair without
    another write. Raises as label_pair does, and then leases nothing."""
    _check_label(labeller, label, request_id)
    try:
        with transaction(ws) as session:
            written = q.write_label(session, pair_id, labeller, label, request_id)
            row = _held_or_next(session, ws, labeller, lease)
    except IntegrityError as error:  # the foreign key: the pair was removed from the queue meanwhile
        raise UnknownIdError(f"pair {pair_id} is not in the queue: reload the page") from error
    return written, _view(ws, row)


def _check_label(labeller: str, label: str, request_id: str) -> None:
    auth.require_action(labeller, "outfit.label")
    if label not in PAIR_LABELS:
        raise ValidationError([Problem("label", None, "label", f"must be one of {PAIR_LABELS}", label)])
    if not request_id:
        raise ValidationError([Problem("label", None, "request_id",
                                       "missing: make one with new_request_id() when the form renders")])


def undo_last_label(ws: Workspace, labeller: str, lease: timedelta = DEFAULT_LEASE) -> int | None:
    """Take back this stylist's last decision; the pair is leased back to them. Returns its id or None."""
    auth.require_action(labeller, "outfit.label")
    with transaction(ws) as session:
        pair_id = q.undo_last(session, ws.name, labeller, lease)
        if pair_id is not None:
            audit.record(session, labeller, "outfit_label_undo", ws.name, f"pair {pair_id}")
        return pair_id


def expire_claims(ws: Workspace) -> int:
    with transaction(ws) as session:
        return q.expire_claims(session, ws.name)


def all_labels(ws: Workspace) -> pd.DataFrame:
    """pair_id, item_a, item_b, labeller, label, created_at: one row per decision."""
    auth.require_read("outfit_labels")
    with read_session(ws) as session:
        rows = q.labels(session, ws.name)
    return pd.DataFrame(rows, columns=["pair_id", "item_a", "item_b", "labeller", "label", "created_at"])


def labelled_pairs(ws: Workspace) -> pd.DataFrame:
    """The training rows from labels: item_a, item_b, label (1 goes / 0 does not), by majority of yes/no votes."""
    frame = all_labels(ws)
    frame = frame[frame["label"].isin(("yes", "no"))]
    if frame.empty:
        return pd.DataFrame({"item_a": [], "item_b": [], "label": []})
    votes = frame.assign(v=(frame["label"] == "yes").astype(int) * 2 - 1).groupby(["item_a", "item_b"])["v"].sum()
    votes = votes[votes != 0]
    return pd.DataFrame({"item_a": votes.index.get_level_values(0), "item_b": votes.index.get_level_values(1),
                         "label": (votes.to_numpy() > 0).astype(int)})


def labeller_counts(ws: Workspace, today: date | None = None) -> pd.DataFrame:
    """labeller, total, today, yes, no, unsure (sorted by total)."""
    frame = all_labels(ws)
    cols = ["labeller", "total", "today", "yes", "no", "unsure"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    today = today or datetime.now(timezone.utc).date()
    when = pd.to_datetime(frame["created_at"], utc=True).dt.date
    out = frame.assign(today=(when == today).astype(int)).groupby("labeller").agg(total=("label", "size"),
                                                                                  today=("today", "sum"))
    out = out.join(pd.crosstab(frame["labeller"], frame["label"]).reindex(columns=list(PAIR_LABELS), fill_value=0))
    return out.reset_index().sort_values("total", ascending=False)[cols].reset_index(drop=True)


@dataclass(frozen=True)
class LabellingStatus:
    """The labelling card's counters: this stylist's labels today (UTC) and in all, and the pairs still waiting."""

    today: int
    total: int
    waiting: int


def labelling_status(ws: Workspace, labeller: str, today: date | None = None) -> LabellingStatus:
    """One stylist's counters from three counts in one read (labeller_counts reads every label of the workspace)."""
    auth.require_read("outfit_labels")
    midnight = datetime.combine(today or datetime.now(timezone.utc).date(), time.min, tzinfo=timezone.utc)
    with read_session(ws) as session:
        mine_today, mine = q.labeller_totals(session, ws.name, labeller, midnight)
        queue = q.queue_counts(session, ws.name)
    return LabellingStatus(mine_today, mine, queue.get("open", 0) + queue.get("claimed", 0))


def remaining_for(ws: Workspace, labeller: str) -> int:
    """How many pairs still wait for a label this stylist could give (some may be leased to others now)."""
    with read_session(ws) as session:
        return q.remaining_for(session, ws.name, labeller)


def queue_status(ws: Workspace) -> dict[str, int]:
    with read_session(ws) as session:
        return q.queue_counts(session, ws.name)


def agreement(ws: Workspace, labels: pd.DataFrame | None = None) -> dict[str, Any]:
    """Agreement on pairs labelled by several stylists: Fleiss' kappa over all, Cohen's kappa per two stylists.

    Returns {"pairs": overlapping pairs, "fleiss_kappa": float, "cohen": DataFrame(labeller_a, labeller_b, pairs,
    kappa)}.
    """
    frame = all_labels(ws) if labels is None else labels
    result = rater_agreement(frame, PAIR_LABELS, item="pair_id", rater="labeller", label="label")
    cohen = result["cohen"].rename(columns={"rater_a": "labeller_a", "rater_b": "labeller_b", "items": "pairs"})
    return {"pairs": result["items"], "fleiss_kappa": result["fleiss_kappa"], "cohen": cohen}
