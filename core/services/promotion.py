"""Champion/challenger: a retrained version goes live only when it is not worse than the live one beyond noise."""

# A candidate is compared with the live version on figures both measured on the same held-out set (the split key
# says which set). The noise of a difference is taken as one standard error of a proportion on that set,
# sqrt(p(1-p)/n): two versions scored on the same cases err together (ρ ≈ 0.5 gives var(diff) = var(one)), so
# the independent-samples figure, sqrt(2)·SE, would wave real drops through on small demo splits.

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from core.data.workspace import Workspace
from core.db import audit
from core.db.models import AuditLog
from core.db.session import read_session, transaction
from core.services import models

NOISE_Z = 1.0  # standard errors a candidate may trail the live version by and still count as "not worse"
Mode = Literal["auto"] | bool  # auto: the rule decides; True: the person asked for it live; False: never


@dataclass(frozen=True)
class HeldOut:
    """A version's figures on its held-out set: metric -> value in [0, 1] (higher is better), the number of cases
    behind each metric, and `split`, a key naming the set (equal keys: the same cases)."""

    metrics: dict[str, float]
    sizes: dict[str, int]
    split: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> "HeldOut | None":
        if not values:
            return None
        return cls({k: float(v) for k, v in values.get("metrics", {}).items()},
                   {k: int(v) for k, v in values.get("sizes", {}).items()}, str(values.get("split", "")))


@dataclass(frozen=True)
class Promotion:
    """What happened to a candidate: whether it went live, why, and the figures the decision saw (one row per
    metric: metric, candidate, live, change, noise)."""

    kind: str
    candidate: str
    live: str | None
    activated: bool
    reason: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def split_key(*parts: Any) -> str:
    """A short key naming a held-out set from what defines it (ids, seed, fraction, table versions)."""
    body = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(body).hexdigest()[:16]


def compare(candidate: HeldOut, live: HeldOut, z: float = NOISE_Z) -> list[dict[str, Any]]:
    """Per metric both versions have: candidate, live, change (candidate - live) and the noise allowed."""
    rows = []
    for metric in [m for m in candidate.metrics if m in live.metrics]:
        c, p = candidate.metrics[metric], live.metrics[metric]
        n = candidate.sizes.get(metric) or live.sizes.get(metric) or 0
        p_clip = min(max(p, 0.0), 1.0)
        noise = z * math.sqrt(p_clip * (1 - p_clip) / n) if n > 0 else 0.0
        rows.append({"metric": metric, "candidate": c, "live": p, "change": c - p, "noise": noise})
    return rows


def decide(candidate: HeldOut | None, live: HeldOut | None, z: float = NOISE_Z) -> tuple[bool, str, list[dict]]:
    """(go live?, why, figures) for the automatic rule; `live` None means nothing is live."""
    if live is None and candidate is not None:
        return True, "nothing was live to compare with", []
    if candidate is None or live is None:
        return False, ("there are no held-out figures to compare (trained without validation): compare the versions "
                       "and activate it if you want it served"), []
    if candidate.split != live.split:
        return False, ("it was measured on another held-out set than the live version (the data changed since): "
                       "compare the versions and activate the one you want served"), compare(candidate, live, z)
    rows = compare(candidate, live, z)
    if not rows:
        return False, "the two versions share no held-out metric: compare them and decide", rows
    worse = [r for r in rows if r["change"] < -r["noise"]]
    if worse:
        shown = "; ".join(f"{r['metric']} {r['candidate']:.3f} vs live {r['live']:.3f} (noise ±{r['noise']:.3f})"
                          for r in worse)
        return False, f"it is worse than the live version beyond noise: {shown}", rows
    return True, "it is not worse than the live version beyond noise on any held-out metric", rows


def promote(ws: Workspace, kind: str, version: str, held_out: HeldOut | None, by: str,
            mode: Mode = "auto", details: dict[str, Any] | None = None) -> Promotion:
    """Decide whether `version` (registered, its meta holding `held_out`) goes live, activate it if so, and audit
    the decision with the figures it saw (and `details`, e.g. which model serves a side). Runs at the end of every
    training job."""
    live = models.active_version(ws, kind)
    live_held_out = HeldOut.from_dict(models.version_meta(ws, kind, live).get("held_out")) if live else None
    go, reason, rows = decide(held_out, live_held_out)
    if live is None:
        go = True
    elif mode is True:
        go, reason = True, f"activation was asked for at training ({'but ' if not go else ''}{reason})"
    elif mode is False:
        go, reason = False, "training was asked not to activate it: activate it on the Versions tab"
    promotion = Promotion(kind, version, live, go, reason, rows)
    with transaction(ws) as session:
        audit.record(session, by, "promotion", ws.name, f"{kind}/{version}", {**promotion.to_dict(), **(details or {})})
    if go:
        models.activate(ws, kind, version, by, figures={"reason": reason, "rows": rows, **(details or {})})
    return promotion


def latest_promotion(ws: Workspace, kind: str) -> Promotion | None:
    """The newest promotion decision of `kind` in this workspace (None before the first)."""
    with read_session(ws) as session:
        row = session.scalar(sa.select(AuditLog).where(
            AuditLog.workspace == ws.name, AuditLog.action == "promotion",
            AuditLog.target.like(f"{kind}/%")).order_by(AuditLog.id.desc()).limit(1))
        details = dict(row.details) if row is not None else None
    if details is None:
        return None
    return Promotion(details["kind"], details["candidate"], details.get("live"), bool(details["activated"]),
                     str(details["reason"]), list(details.get("rows", [])))

