"""Attribute review: the catalogue as reviewed, the merchandisers' queue, decisions, undo, bulk accept, acceptance."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core import auth
from core.columns import ATTRIBUTE_PREFIX
from core.data.workspace import Workspace
from core.db import audit
from core.db.models import AttributeReview, CatalogueValue
from core.db.session import insert_ignore, read_session, transaction
from core.errors import StaleEditError, UnknownIdError, ValidationError, Problem
from core.models.attributes.errors import DEFAULT_CUTOFF

if TYPE_CHECKING:  # the serving side imports this module; this one only reads what it is given
    from core.services.attributes import ActiveModel

VALUE_DECISIONS = ("accept", "correct", "confirm")  # confirm: the catalogue value is right (it is the value)


# -- catalogue with the reviewers' decisions ------------------------------------------------------------------

def decided_values(ws: Workspace) -> pd.DataFrame:
    """Current decided values: item_id, attribute, value, source, updated_by, updated_at, version (CatalogueValue
    rows)."""
    auth.require_read("attribute_reviews")
    with read_session(ws) as session:
        rows = session.execute(sa.select(CatalogueValue).where(CatalogueValue.workspace == ws.name)).scalars().all()
        return pd.DataFrame([{"item_id": r.item_id, "attribute": r.attribute, "value": r.value, "source": r.source,
                              "updated_by": r.updated_by, "updated_at": r.updated_at, "version": r.version_id}
                             for r in rows],
                            columns=["item_id", "attribute", "value", "source", "updated_by", "updated_at", "version"])


def effective_catalogue(ws: Workspace, use_reviews: bool = True) -> pd.DataFrame:
    """The workspace catalogue with accepted / corrected review values written over the imported attr_* cells."""
    catalogue = ws.catalogue().copy()
    if not use_reviews:
        return catalogue
    decided = decided_values(ws)
    if decided.empty:
        return catalogue
    row_of = pd.Series(np.arange(len(catalogue)), index=catalogue["item_id"].astype(str))
    for attribute, group in decided.groupby("attribute"):
        column = ATTRIBUTE_PREFIX + attribute
        if column not in catalogue.columns:
            catalogue[column] = pd.Series(pd.NA, index=catalogue.index, dtype=object)
        known = group[group["item_id"].isin(row_of.index)]
        catalogue[column] = catalogue[column].astype(object)
        catalogue.iloc[row_of[known["item_id"]].to_numpy(),
                       catalogue.columns.get_loc(column)] = known["value"].to_numpy()
    return catalogue


# -- review queue --------------------------------------------------------------------------------------------

def review_queue(ws: Workspace, active: ActiveModel, attribute: str, which: str = "missing", order: str = "confidence",
                 limit: int = 50, sensitivity: float = DEFAULT_CUTOFF) -> pd.DataFrame:
    """Items to review for `attribute`: "missing" (no value), "suspect" (a catalogue value the error finder disputes:
    out-of-fold confident learning, up to relative confidence `sensitivity`; versions saved before it: the value
    disagrees with a prediction ≥ the suspect threshold) or "all"; applicable types only, items with an active
    decision left out.

    order: "confidence" (most probable first) or "uncertainty" (least first); suspects come most suspicious first.
    Columns: item_id, name, brand, category, description, image_url, current, predicted, probability, alternatives,
    alt_values, kind, relative_confidence (suspects), version (what the reviewer saw).
    """
    if which not in ("missing", "suspect", "all"):
        raise ValidationError([Problem("queue", None, "which", "must be missing, suspect or all", which)])
    if attribute not in active.attributes():
        raise UnknownIdError(f"attribute '{attribute}' is not predicted by model {active.version}: pick one of "
                             f"{active.attributes()}")
    catalogue = effective_catalogue(ws)
    preds = active.predictions(attribute)
    column = ATTRIBUTE_PREFIX + attribute
    current = (catalogue[column] if column in catalogue.columns
               else pd.Series(pd.NA, index=catalogue.index, dtype=object))
    info = pd.DataFrame({"item_id": catalogue["item_id"].astype(str), "current": current.to_numpy(dtype=object),
                         **{c: catalogue[c].to_numpy(dtype=object) if c in catalogue else None
                            for c in ("name", "brand", "category", "description", "image_url")}})
    j = active.model.attributes.index(attribute)
    info["applicable"] = active.model.space.applies(catalogue)[:, j]
    frame = preds.merge(info, on="item_id", how="inner")
    frame = frame[frame["applicable"]]
    canonical = active.model.space.canonical(attribute, frame["current"])
    missing = frame["current"].isna()
    disputed = active.suspects(attribute, sensitivity)
    if disputed is not None:
        found = disputed.set_index("item_id")
        suspect = ~missing & frame["item_id"].isin(found.index)
        # The finder's suggestion is what a reviewer judges (accept writes it), not the serving model's guess.
        mask = suspect.to_numpy()
        frame = frame.assign(
            relative_confidence=frame["item_id"].map(found["relative_confidence"]).astype(float),
            predicted=np.where(mask, frame["item_id"].map(found["suggested"]).astype(object),
                               frame["predicted"].astype(object)),
            probability=np.where(mask, frame["item_id"].map(found["suggested_probability"]).astype(float),
                                 frame["probability"].astype(float)))
    else:
        suspect = ~missing & (frame["probability"] >= active.model.params.suspect_threshold) & \
            (canonical.astype(object) != frame["predicted"].astype(object))
        frame = frame.assign(relative_confidence=np.nan)
    frame = frame.assign(kind=np.where(missing, "missing", np.where(suspect, "suspect", "has value")))
    keep = {"missing": missing, "suspect": suspect, "all": missing | suspect}[which]
    frame = frame[keep.to_numpy()]
    decided = active_decisions(ws, attribute)
    if not decided.empty:
        frame = frame[~frame["item_id"].isin(decided["item_id"])]
    versions = decided_values(ws)
    versions = versions[versions["attribute"] == attribute].set_index("item_id")["version"]
    frame = frame.assign(version=frame["item_id"].map(versions).fillna(0).astype(int))
    if which == "suspect" and disputed is not None:
        frame = frame.sort_values("relative_confidence", kind="stable")
    else:
        frame = frame.sort_values("probability", ascending=(order == "uncertainty"), kind="stable")
    return frame.head(limit).reset_index(drop=True)


# -- decisions -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """What one review did: its id, the value now decided (None for skip), the record's new version."""

    review_id: int
    value: str | None
    version: int
    duplicate: bool = False
    item_id: str | None = None  # set where the caller did not name the item (undo_latest)
    attribute: str | None = None


def decide(ws: Workspace, item_id: str, attribute: str, decision: str, value: str | None, reviewer: str,
           request_id: str, seen_version: int = 0, predicted: str | None = None, probability: float | None = None,
           model_version: str | None = None) -> Decision:
    """Store one review at once: accept (value = prediction), correct (value picked), confirm (the catalogue value
    is right: value = that value, decided like any review, so the error finder and training treat it as checked)
    or skip.

    seen_version: the CatalogueValue version the reviewer was shown (0 = none existed). If it moved on,
    StaleEditError tells the second reviewer the item changed. The same request_id twice writes once.
    """
    auth.require_action(reviewer, "attribute.review")
    if decision not in ("accept", "correct", "confirm", "skip"):
        raise ValidationError([Problem("review", None, "decision", "must be accept, correct, confirm or skip",
                                       decision)])
    if decision in VALUE_DECISIONS and (value is None or str(value).strip() == ""):
        raise ValidationError([Problem("review", None, "value", f"{decision} needs a value: pick one")])
    try:
        with transaction(ws) as session:
            return _decide(session, ws, item_id, attribute, decision, value, reviewer, request_id, seen_version,
                           predicted, probability, model_version)
    except IntegrityError as error:  # another reviewer created the value row first
        raise StaleEditError(f"item {item_id} ({attribute}) was just decided by someone else: reload it and decide "
                             "again") from error


def _decide(session: sa.orm.Session, ws: Workspace, item_id: str, attribute: str, decision: str, value: str | None,
            reviewer: str, request_id: str, seen_version: int, predicted: str | None, probability: float | None,
            model_version: str | None) -> Decision:
    done = session.execute(sa.select(AttributeReview)
                           .where(AttributeReview.request_id == request_id)).scalar_one_or_none()
    if done is not None:
        current = _value_row(session, ws, item_id, attribute)
        return Decision(done.id, done.value, current.version_id if current else 0, duplicate=True)
    row = _value_row(session, ws, item_id, attribute)
    if row is None and seen_version:
        raise StaleEditError(f"item {item_id} ({attribute}) was changed (a decision was undone) since you saw it: "
                             "reload it and decide again")
    if row is not None and row.version_id != seen_version:
        # Say who decided what, in the merchandiser's terms (not the database row's), so the second person can judge.
        raise StaleEditError(f"item {item_id} ({attribute}) was changed since you saw it: {row.updated_by} set it to "
                             f"'{row.value}'. Nothing of yours was saved; reload to see it and decide again if needed")
    if decision in VALUE_DECISIONS:
        if row is None:
            row = CatalogueValue(workspace=ws.name, item_id=item_id, attribute=attribute, value=str(value),
                                 source="review", updated_by=reviewer)
            session.add(row)
        else:
            row.value, row.source, row.updated_by = str(value), "review", reviewer
        session.flush()
    insert_ignore(session, AttributeReview, {
        "workspace": ws.name, "item_id": item_id, "attribute": attribute, "decision": decision,
        "value": None if decision == "skip" else str(value), "predicted": predicted,
        "probability": None if probability is None else float(probability), "model_version": model_version,
        "reviewer": reviewer, "request_id": request_id})
    review = session.execute(sa.select(AttributeReview).where(AttributeReview.request_id == request_id)).scalar_one()
    audit.record(session, reviewer, f"attribute.{decision}", ws.name, f"{item_id}/{attribute}",
                 {"value": value, "predicted": predicted, "request_id": request_id})
    return Decision(review.id, review.value, row.version_id if row is not None else 0)


def _standing(history: list[tuple[int, str]]) -> list[int]:
    """Ids of the decisions still standing, oldest first: decisions push, an undo pops the latest one."""
    stack: list[int] = []
    for review_id, decision in history:
        if decision == "undo":
            if stack:
                stack.pop()
        else:
            stack.append(review_id)
    return stack


def _value_row(session: sa.orm.Session, ws: Workspace, item_id: str, attribute: str) -> CatalogueValue | None:
    return session.execute(sa.select(CatalogueValue).where(
        CatalogueValue.workspace == ws.name, CatalogueValue.item_id == item_id,
        CatalogueValue.attribute == attribute)).scalar_one_or_none()


def reviews(ws: Workspace, attribute: str | None = None, reviewer: str | None = None,
            decision: str | None = None) -> pd.DataFrame:
    """Every review, newest first, with `undone` (a later undo took it back) and `undoable` (the latest active one
    of its item and attribute). Columns: id, item_id, attribute, decision, value, predicted, probability,
    model_version, reviewer, created_at, undone, undoable."""
    auth.require_read("attribute_reviews")
    with read_session(ws) as session:
        query = sa.select(AttributeReview).where(AttributeReview.workspace == ws.name).order_by(AttributeReview.id)
        rows = session.execute(query).scalars().all()
        frame = pd.DataFrame([{c: getattr(r, c)
                               for c in ("id", "item_id", "attribute", "decision", "value", "predicted",
                                                            "probability", "model_version", "reviewer", "created_at")}
                              for r in rows], columns=["id", "item_id", "attribute", "decision", "value", "predicted",
                                                       "probability", "model_version", "reviewer", "created_at"])
    frame["undone"], frame["undoable"] = False, False
    # Replay per item and attribute: decisions push, an undo pops the latest one still standing.
    stacks: dict[tuple[str, str], list[int]] = {}
    undone = set()
    for index, r in frame.iterrows():
        stack = stacks.setdefault((r["item_id"], r["attribute"]), [])
        if r["decision"] == "undo":
            if stack:
                undone.add(stack.pop())
        else:
            stack.append(index)
    frame.loc[list(undone), "undone"] = True
    frame.loc[[s[-1] for s in stacks.values() if s], "undoable"] = True
    frame = frame[frame["decision"] != "undo"]
    if attribute:
        frame = frame[frame["attribute"] == attribute]
    if reviewer:
        frame = frame[frame["reviewer"] == reviewer]
    if decision:
        frame = frame[frame["decision"] == decision]
    return frame.sort_values("id", ascending=False).reset_index(drop=True)


def active_decisions(ws: Workspace, attribute: str | None = None) -> pd.DataFrame:
    """Reviews still standing (not undone), latest per item and attribute."""
    frame = reviews(ws, attribute)
    return frame[frame["undoable"]]


def undo(ws: Workspace, review_id: int, by: str, request_id: str) -> Decision:
    """Take back a review (the latest standing one of its item and attribute): the value returns to what it was
    before."""
    auth.require_action(by, "attribute.review")
    standing = reviews(ws)
    match = standing[standing["id"] == review_id]
    if match.empty:
        raise UnknownIdError(f"review {review_id} does not exist in workspace '{ws.name}'")
    target = match.iloc[0]
    if not bool(target["undoable"]):
        raise StaleEditError(f"review {review_id} is not the latest standing decision on {target['item_id']} "
                             f"({target['attribute']}): undo the later one first, or reload")
    earlier = standing[(standing["item_id"] == target["item_id"]) & (standing["attribute"] == target["attribute"])
                                          & (standing["id"] < review_id) & ~standing["undone"]
                                          & standing["decision"].isin(VALUE_DECISIONS)]
    previous = earlier.iloc[0]["value"] if not earlier.empty else None  # newest first
    with transaction(ws) as session:
        done = session.execute(sa.select(AttributeReview)
                               .where(AttributeReview.request_id == request_id)).scalar_one_or_none()
        if done is not None:
            return Decision(done.id, done.value, 0, duplicate=True)
        history = session.execute(sa.select(AttributeReview.id, AttributeReview.decision).where(
            AttributeReview.workspace == ws.name, AttributeReview.item_id == target["item_id"],
            AttributeReview.attribute == target["attribute"]).order_by(AttributeReview.id)).all()
        if _standing(history)[-1:] != [review_id]:
            raise StaleEditError(f"{target['item_id']} ({target['attribute']}) changed since you looked: reload and "
                                 "undo again")
        row = _value_row(session, ws, target["item_id"], target["attribute"])
        if target["decision"] in VALUE_DECISIONS and row is not None:
            if previous is None:
                session.delete(row)
            else:
                row.value, row.updated_by = previous, by
        session.flush()
        insert_ignore(session, AttributeReview, {
            "workspace": ws.name, "item_id": target["item_id"], "attribute": target["attribute"], "decision": "undo",
            "value": previous, "reviewer": by, "request_id": request_id})
        audit.record(session, by, "attribute.undo", ws.name, f"{target['item_id']}/{target['attribute']}",
                     {"review_id": int(review_id), "restored": previous})
        new_row = _value_row(session, ws, target["item_id"], target["attribute"])
        return Decision(int(review_id), previous, new_row.version_id if new_row is not None else 0)


def undo_latest(ws: Workspace, by: str, request_id: str, attribute: str | None = None) -> Decision | None:
    """Take back `by`'s latest standing decision (of `attribute`, or of any); None when they have none left.

    The latest, not the oldest: an undo key pressed right after a slip must take back that slip. StaleEditError
    when someone else decided the same item after it (their decision stands; undo theirs first).
    """
    with read_session(ws) as session:  # the same press twice (a rerun, a double key press) undoes once
        done = session.execute(sa.select(AttributeReview)
                               .where(AttributeReview.request_id == request_id)).scalar_one_or_none()
        if done is not None:
            return Decision(done.id, done.value, 0, duplicate=True, item_id=done.item_id, attribute=done.attribute)
    mine = reviews(ws, attribute, reviewer=by)
    mine = mine[~mine["undone"]]  # newest first
    if mine.empty:
        return None
    latest = mine.iloc[0]
    done = undo(ws, int(latest["id"]), by, request_id)
    return replace(done, item_id=str(latest["item_id"]), attribute=str(latest["attribute"]))


# -- bulk accept ---------------------------------------------------------------------------------------------

def bulk_preview(ws: Workspace, active: ActiveModel, attribute: str, min_probability: float,
                 which: str = "missing") -> pd.DataFrame:
    """What a bulk accept would write: the queue rows at or above `min_probability` (every one, not a page)."""
    queue = review_queue(ws, active, attribute, which, "confidence", limit=10 ** 9)
    return queue[queue["probability"] >= min_probability].reset_index(drop=True)


@dataclass(frozen=True)
class BulkResult:
    """What a bulk accept did: rows written out of those shown, and why the rest were not."""

    shown: int
    written: int
    decided_elsewhere: int = 0  # someone decided the item after the preview: theirs stands
    already: int = 0  # written by this same request before (a double click or a rerun)

    def message(self, attribute: str) -> str:
        """One sentence for the merchandiser: how many were accepted and why any were left."""
        text = f"Accepted {self.written} of {self.shown} predictions for {attribute}"
        reasons = []
        if self.decided_elsewhere:
            verb = "was" if self.decided_elsewhere == 1 else "were"
            reasons.append(f"{self.decided_elsewhere} {verb} decided by someone else meanwhile (theirs stands)")
        if self.already:
            verb = "was" if self.already == 1 else "were"
            reasons.append(f"{self.already} {verb} already accepted by this same click")
        return text + (": " + "; ".join(reasons) if reasons else "") + "."


def bulk_accept(ws: Workspace, active: ActiveModel, attribute: str, min_probability: float, reviewer: str,
                request_id: str, which: str = "missing", seen: pd.DataFrame | None = None) -> BulkResult:
    """Accept every prediction of the preview in one transaction; items decided meanwhile are left out and counted.

    seen: the preview the merchandiser was shown (item_id, predicted, probability, version); by default it is
    computed again now, which leaves out, without counting them, items decided since the page was drawn.
    """
    auth.require_action(reviewer, "attribute.review")
    rows = bulk_preview(ws, active, attribute, min_probability, which) if seen is None else seen
    standing = active_decisions(ws, attribute)
    standing_ids = set(standing["item_id"])
    written = elsewhere = already = 0
    with transaction(ws) as session:
        for r in rows.itertuples(index=False):
            item_request = f"{request_id}:{r.item_id}"
            if session.execute(sa.select(AttributeReview.id)
                               .where(AttributeReview.request_id == item_request)).first() is not None:
                already += 1
                continue
            current = _value_row(session, ws, r.item_id, attribute)
            if (current.version_id if current else 0) != r.version or r.item_id in standing_ids:
                elsewhere += 1  # someone decided it (a value or a skip) after the preview: theirs stands
                continue
            before = _count(session)
            _decide(session, ws, r.item_id, attribute, "accept", r.predicted, reviewer, item_request,
                    int(r.version), r.predicted, float(r.probability), active.version)
            written += _count(session) - before
        audit.record(session, reviewer, "attribute.bulk_accept", ws.name, attribute,
                     {"min_probability": min_probability, "rows": written, "decided_elsewhere": elsewhere,
                      "request_id": request_id})
    return BulkResult(len(rows), written, elsewhere, already)


def _count(session: sa.orm.Session) -> int:
    return session.execute(sa.select(sa.func.count(AttributeReview.id))).scalar_one()


# -- human-checked accuracy ----------------------------------------------------------------------------------

def acceptance(ws: Workspace, active: ActiveModel | None = None) -> pd.DataFrame:
    """Per attribute: accepted, corrected, skipped (standing reviews), acceptance rate = accepted / (accepted +
    corrected), and the offline accuracy of the active version beside it."""
    frame = reviews(ws)
    frame = frame[~frame["undone"]]
    counts = frame.pivot_table(index="attribute", columns="decision", values="id", aggfunc="count", fill_value=0) \
        if not frame.empty else pd.DataFrame()
    for column in ("accept", "correct", "skip"):
        if column not in counts:
            counts[column] = 0
    counts = counts[["accept", "correct",
                     "skip"]].rename(columns={"accept": "accepted", "correct": "corrected", "skip": "skipped"})
    judged = counts["accepted"] + counts["corrected"]
    counts["acceptance_rate"] = np.where(judged > 0, counts["accepted"] / judged.where(judged > 0, 1), np.nan)
    if active is not None:
        offline = {row["attribute"]: row["accuracy"] for row in active.meta.get("table", [])}
        counts["offline_accuracy"] = [offline.get(a, np.nan) for a in counts.index]
    return counts.reset_index().rename(columns={"index": "attribute"})


