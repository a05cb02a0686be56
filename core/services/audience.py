"""Campaign audiences from brand affinity: score every user for the chosen brands, exclude, cut, split a control
group."""

# Scores of one brand are one matrix-vector product over all users (memory-bandwidth bound); the cut-off
# uses argpartition, so only the audience itself is ever sorted. Blends of several brands compare brands
# on one scale by standardising each brand's scores over all users (z-score: (s - mean) / std).

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from core.columns import SUPPRESSION_FLAGS, Columns
from core.data.idmap import IdMap
from core.errors import AtelierError, NotReadyError, Problem, ValidationError
from core.features.customer_events import CustomerEvents
from core.models.affinity import AffinityModel

BLENDS = ("any", "weighted")
RULES = ("top_n", "top_percent", "min_score")
CURVE_POINTS = 60
NO_MODEL_HELP = ("train one on the Affinity training page or run `python -m core train affinity`")


class NoModelError(NotReadyError):
    """The workspace has no active affinity model yet (pages show it as guidance, not as an error)."""


@dataclass(frozen=True)
class Exclusions:
    """Who never enters an audience. Days count back from the data's latest timestamp (bought) or now (cap)."""

    suppressed: bool = True
    bought_brand_within_days: int | None = None
    frequency_cap_days: int | None = None
    min_activity: int = 0


@dataclass(frozen=True)
class AudienceSpec:
    """What a CRM person asks for; round-trips through `to_dict` / `from_dict` (stored with a campaign).

    blend: "any" = a user's best standardised score over the brands; "weighted" = weighted sum of them.
    rule/value: "top_n" (value = N users), "top_percent" (value = % of eligible users), "min_score".
    """

    brands: tuple[str, ...]
    blend: str = "any"
    weights: tuple[float, ...] | None = None
    rule: str = "top_n"
    value: float = 1000
    exclusions: Exclusions = field(default_factory=Exclusions)
    control_percent: float = 0.0
    seed: int = 42

    def __post_init__(self) -> None:
        object.__setattr__(self, "brands", tuple(str(b) for b in self.brands))
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        problems = []
        if not self.brands:
            problems.append("pick at least one brand")
        if len(set(self.brands)) != len(self.brands):
            problems.append("a brand is listed twice")
        if self.blend not in BLENDS:
            problems.append(f"blend must be one of {BLENDS}, got {self.blend!r}")
        if self.rule not in RULES:
            problems.append(f"rule must be one of {RULES}, got {self.rule!r}")
        elif self.rule == "top_n" and (self.value < 1 or self.value != int(self.value)):
            problems.append("top_n needs a whole number of users ≥ 1")
        elif self.rule == "top_percent" and not 0 < self.value <= 100:
            problems.append("top_percent must be in (0, 100]")
        elif not math.isfinite(float(self.value)):
            problems.append("the minimum score must be a finite number")
        if self.blend == "weighted" and self.weights is not None:
            if len(self.weights) != len(self.brands):
                problems.append(f"{len(self.weights)} weights for {len(self.brands)} brands")
            elif any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                problems.append("weights must be ≥ 0 with a positive sum")
        if not 0 <= self.control_percent < 100:
            problems.append("control_percent must be in [0, 100)")
        ex = self.exclusions
        for name in ("bought_brand_within_days", "frequency_cap_days"):
            days = getattr(ex, name)
            if days is not None and days < 0:
                problems.append(f"{name} must be ≥ 0 days")
        if ex.min_activity < 0:
            problems.append("min_activity must be ≥ 0")
        if problems:
            raise ValidationError([Problem("audience", None, None, p) for p in problems])

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["brands"], out["weights"] = list(self.brands), list(self.weights) if self.weights else None
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "AudienceSpec":
        values = dict(values)
        values["exclusions"] = Exclusions(**dict(values.get("exclusions") or {}))
        return cls(**values)


@dataclass(frozen=True)
class AudienceData:
    """What exclusions need, aligned with a model's users (build once per data + model version; cacheable).

    suppressed: bool (n_users,); activity: int64 (n_users,) interactions per user;
    orders: DataFrame user_idx int64, brand_id str, timestamp (order events only); latest: the data's last timestamp.
    """

    suppressed: np.ndarray
    activity: np.ndarray
    orders: pd.DataFrame
    latest: pd.Timestamp | None


@dataclass(frozen=True)
class Audience:
    """The result. Arrays are in rank order (best first): user_ids object (n,), scores float32 (n,),
    ranks int64 (n,) 1-based, groups object (n,) "target" | "control".

    excluded: users each exclusion removes from the whole base (in order, each counted once);
    excluded_above_cutoff: of those, how many scored at or above the cut-off (would have been in).
    histogram: counts int64 (bins,), edges float64 (bins+1,) of eligible users' scores;
    curve: DataFrame cutoff, size — eligible users with score ≥ cutoff.
    """

    spec: AudienceSpec
    user_ids: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray
    groups: np.ndarray
    cutoff: float | None
    n_scored: int
    n_eligible: int
    excluded: dict[str, int]
    excluded_above_cutoff: dict[str, int]
    histogram: tuple[np.ndarray, np.ndarray]
    curve: pd.DataFrame
    score_kind: str  # "model score" (one brand) or "standardised score" (blend)
    user_index: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0, np.int64))

    @property
    def size(self) -> int:
        return int(len(self.user_ids))

    @property
    def n_control(self) -> int:
        return int((self.groups == "control").sum())

    @property
    def n_target(self) -> int:
        return self.size - self.n_control

    def frame(self) -> pd.DataFrame:
        """user_id, score, rank, group — one row per member, best first."""
        return pd.DataFrame({Columns.user: self.user_ids, Columns.score: self.scores,
                             Columns.rank: self.ranks, "group": self.groups})


# --------------------------------------------------------------------------- inputs

def indexer(ids: IdMap, values: Sequence[str] | pd.Series | np.ndarray) -> np.ndarray:
    """Vectorised external -> index lookup: int64 (len(values),), -1 where unknown (a hash join, not a loop)."""
    return pd.Index(ids.external).get_indexer(pd.Index(np.asarray(values, dtype=object))).astype(np.int64)


def prepare_data(model: AffinityModel, interactions: pd.DataFrame | None,
                 customers: pd.DataFrame | None) -> AudienceData:
    """Align suppression flags, activity counts and orders with the model's users (O(rows), vectorised).

    One hash table of the model's ids serves every lookup, and each interaction row's user is looked up once
    (through its factorized code), so 5M rows cost a single pass.
    """
    n = model.n_users
    lookup = pd.Index(model.user_ids.external)
    suppressed = np.zeros(n, dtype=bool)
    if customers is not None and len(customers):
        flags = [c for c in SUPPRESSION_FLAGS if c in customers.columns]
        if flags:
            is_out = customers[flags].fillna(False).astype(bool).any(axis=1).to_numpy()
            idx = lookup.get_indexer(customers.loc[is_out, Columns.user].to_numpy(dtype=object))
            suppressed[idx[idx >= 0]] = True
    activity = np.zeros(n, dtype=np.int64)
    orders = pd.DataFrame({"user_idx": np.empty(0, np.int64), Columns.brand: np.empty(0, object),
                           Columns.timestamp: pd.Series([], dtype="datetime64[ns, UTC]")})
    latest = None
    if interactions is not None and len(interactions):
        codes, uniques = pd.factorize(interactions[Columns.user])
        to_model = lookup.get_indexer(np.asarray(uniques, dtype=object))
        row_user = np.where(codes >= 0, to_model[codes], -1)
        known = row_user >= 0
        activity += np.bincount(row_user[known], minlength=n)
        has_time = Columns.timestamp in interactions and interactions[Columns.timestamp].notna().any()
        if has_time:
            latest = pd.Timestamp(interactions[Columns.timestamp].max())
        is_order = (interactions[Columns.event] == "order").to_numpy(dtype=bool, na_value=False) & known
        columns = [Columns.brand] + ([Columns.timestamp] if Columns.timestamp in interactions else [])
        orders = interactions.loc[is_order, columns].reset_index(drop=True)
        orders.insert(0, "user_idx", row_user[is_order])
        if Columns.timestamp not in orders:
            orders[Columns.timestamp] = pd.NaT
    return AudienceData(suppressed, activity, orders, latest)


# --------------------------------------------------------------------------- scoring

def blended_scores(model: AffinityModel, spec: AudienceSpec) -> np.ndarray:
    """float32 (n_users,): the raw model score for one brand; for several, each brand standardised then blended."""
    idx = model.brand_ids.to_index(list(spec.brands), what="brand")
    if len(idx) == 1:
        return model.scores_for_brand(int(idx[0]))
    per_brand = model.scores_for_brands(idx)  # (k, n_users)
    mean = per_brand.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
    std = per_brand.std(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
    per_brand -= mean
    per_brand /= np.where(std > 0, std, 1.0)
    if spec.blend == "any":
        return per_brand.max(axis=0)
    weights = np.asarray(spec.weights if spec.weights else [1.0] * len(idx), dtype=np.float32)
    return (weights / weights.sum()) @ per_brand


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices (int64) of the k largest scores, best first; ties broken by lower index. Only k items get sorted."""
    n = len(scores)
    k = int(min(max(k, 0), n))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    part = np.arange(n) if k == n else np.sort(np.argpartition(scores, n - k)[n - k:])
    # part is in index order, so a stable sort on the negated score breaks ties by lower index
    order = np.argsort(-scores[part], kind="stable")
    return part[order].astype(np.int64)


def exclusion_masks(model: AffinityModel, spec: AudienceSpec, data: AudienceData,
                    recently_contacted: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """One bool (n_users,) mask per active exclusion (True = excluded), in the order they are applied."""
    ex, masks = spec.exclusions, {}
    if ex.suppressed:
        masks["suppressed"] = data.suppressed
    if ex.bought_brand_within_days is not None:
        if data.latest is None:
            raise AtelierError("the interactions have no timestamps, so 'bought in the last N days' cannot be "
                               "applied: untick it or import interactions with timestamps")
        since = data.latest - pd.Timedelta(days=int(ex.bought_brand_within_days))
        o = data.orders
        hit = o[Columns.brand].isin(spec.brands).to_numpy() & (o[Columns.timestamp] >= since).to_numpy()
        mask = np.zeros(model.n_users, dtype=bool)
        mask[o["user_idx"].to_numpy()[hit]] = True
        masks["bought_recently"] = mask
    if ex.frequency_cap_days is not None:
        mask = np.zeros(model.n_users, dtype=bool)
        idx = indexer(model.user_ids, list(recently_contacted))
        mask[idx[idx >= 0]] = True
        masks["frequency_cap"] = mask
    if ex.min_activity > 0:
        masks["low_activity"] = data.activity < ex.min_activity
    return masks


@dataclass(frozen=True)
class Ranked:
    """An audience question before its cut: every score, the exclusions, the eligible users in rank order.

    Depends on the brands, blend, weights and exclusions only, so a page builds it once and cuts it (Top N, Top %,
    minimum score, control group) on every change of those widgets: one argpartition, no scoring, masks or
    histogram. candidates: int64 (n_eligible,) eligible user indices, ascending; candidate_scores: float32
    (n_eligible,); masked_scores: per exclusion, float32 scores of every user it covers (for "above the cut-off").
    """

    candidates: np.ndarray
    candidate_scores: np.ndarray
    n_scored: int
    excluded: dict[str, int]
    masked_scores: dict[str, np.ndarray]
    histogram: tuple[np.ndarray, np.ndarray]
    curve: pd.DataFrame
    score_kind: str

    @property
    def n_eligible(self) -> int:
        return int(len(self.candidates))


def rank_audience(model: AffinityModel, spec: AudienceSpec, data: AudienceData,
                  recently_contacted: Sequence[str] = ()) -> Ranked:
    """Score and exclude for `spec` (its cut is ignored). UnknownIdError for an unknown brand."""
    scores = blended_scores(model, spec)
    masks = exclusion_masks(model, spec, data, recently_contacted)
    eligible = np.ones(model.n_users, dtype=bool)
    excluded: dict[str, int] = {}
    for name, mask in masks.items():
        newly = mask & eligible
        excluded[name] = int(newly.sum())
        eligible &= ~mask
    candidates = np.flatnonzero(eligible) if masks else np.arange(model.n_users)
    cand_scores = scores[candidates] if masks else scores
    hist, curve = _distribution(cand_scores)
    return Ranked(candidates=candidates.astype(np.int64, copy=False), candidate_scores=cand_scores,
                  n_scored=model.n_users, excluded=excluded,
                  masked_scores={name: scores[mask] for name, mask in masks.items()}, histogram=hist, curve=curve,
                  score_kind="model score" if len(spec.brands) == 1 else "standardised score")


def cut_audience(model: AffinityModel, ranked: Ranked, spec: AudienceSpec) -> Audience:
    """The audience of `spec` (rule, value, control group) from its ranked users."""
    positions = _cut(ranked.candidate_scores, spec)
    chosen, chosen_scores = ranked.candidates[positions], ranked.candidate_scores[positions]
    k = len(chosen)
    cutoff = float(chosen_scores[-1]) if k else None
    above = {name: int((s >= cutoff).sum()) if cutoff is not None else 0 for name, s in ranked.masked_scores.items()}
    user_ids = model.user_ids.to_external(chosen)
    return Audience(
        spec=spec, user_ids=user_ids, scores=chosen_scores.astype(np.float32),
        ranks=np.arange(1, k + 1, dtype=np.int64),
        groups=control_groups(user_ids, spec.control_percent, spec.seed),
        cutoff=cutoff, n_scored=ranked.n_scored, n_eligible=ranked.n_eligible, excluded=dict(ranked.excluded),
        excluded_above_cutoff=above, histogram=ranked.histogram, curve=ranked.curve, score_kind=ranked.score_kind,
        user_index=chosen,
    )


def build_audience(model: AffinityModel, spec: AudienceSpec, data: AudienceData,
                   recently_contacted: Sequence[str] = ()) -> Audience:
    """Score, exclude, cut and split: the audience for `spec`. Raises UnknownIdError for an unknown brand."""
    return cut_audience(model, rank_audience(model, spec, data, recently_contacted), spec)


def _cut(scores: np.ndarray, spec: AudienceSpec) -> np.ndarray:
    """Positions into `scores` of the audience, best first."""
    if spec.rule == "top_n":
        return top_k(scores, int(spec.value))
    if spec.rule == "top_percent":
        return top_k(scores, math.ceil(len(scores) * spec.value / 100.0))
    keep = np.flatnonzero(scores >= spec.value)
    return keep[np.argsort(-scores[keep], kind="stable")]


def _distribution(scores: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], pd.DataFrame]:
    """Histogram of eligible scores and the exact audience size at each bin edge (cumulated from the top)."""
    if len(scores) == 0:
        return (np.zeros(0, np.int64), np.zeros(1)), pd.DataFrame({"cutoff": [], "size": []})
    lo, hi = float(scores.min()), float(scores.max())
    if hi <= lo:
        hi = lo + 1e-6
    counts, edges = np.histogram(scores, bins=CURVE_POINTS, range=(lo, hi))
    # size at edge i = users in bins i.. (the last bin is closed, so the top edge holds only the maximum)
    sizes = np.concatenate([np.cumsum(counts[::-1])[::-1], [int((scores >= hi).sum())]])
    return (counts.astype(np.int64), edges), pd.DataFrame({"cutoff": edges, "size": sizes.astype(np.int64)})


def control_groups(user_ids: np.ndarray, percent: float, seed: int) -> np.ndarray:
    """"target"/"control" per user: the round(percent% · n) users with the smallest seeded hash of their id.

    Depends only on (user id, seed, audience), not on order or model version, so the same seed gives the same
    split every day and a person keeps their group while they stay in the audience.
    """
    n = len(user_ids)
    groups = np.full(n, "target", dtype=object)
    n_control = int(round(n * percent / 100.0))
    if n_control == 0:
        return groups
    groups[np.argsort(stable_hash(user_ids, seed), kind="stable")[:n_control]] = "control"
    return groups


def stable_hash(values: Sequence[str] | np.ndarray, seed: int) -> np.ndarray:
    """Seeded 64-bit hash of each string, uint64 (n,): FNV-1a over its code points, then a splitmix64 finaliser.

    Vectorised over the strings (one pass per character position), the same on every machine and run
    (unlike Python's `hash`), and independent of the other strings in the batch.
    """
    text = np.asarray(values, dtype=str)
    n = len(text)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    width = text.dtype.itemsize // 4
    codes = text.view(np.uint32).reshape(n, width).astype(np.uint64)
    lengths = np.char.str_len(text)
    h = np.full(n, _mix(np.uint64(0xCBF29CE484222325) ^ np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)), dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    with np.errstate(over="ignore"):
        for j in range(width):
            stepped = (h ^ codes[:, j]) * prime
            h = np.where(lengths > j, stepped, h)  # padding of shorter strings must not change their hash
        return _mix(h)


def _mix(x: np.ndarray | np.uint64) -> np.ndarray:
    """splitmix64 finaliser: spreads FNV's low-entropy high bits so sorting by hash is a fair shuffle."""
    with np.errstate(over="ignore"):
        x = np.asarray(x, dtype=np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


# --------------------------------------------------------------------------- insight

def overlap(audience_ids: Sequence[str], campaigns: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """One row per saved campaign: campaign, size, overlap (shared users), share_of_audience, jaccard."""
    mine = pd.Index(np.asarray(audience_ids, dtype=object)).unique()
    rows = []
    for name, members in campaigns.items():
        theirs = pd.Index(np.asarray(members, dtype=object)).unique()
        shared = len(mine.intersection(theirs))
        union = len(mine) + len(theirs) - shared
        rows.append({"campaign": name, "size": len(theirs), "overlap": shared,
                     "share_of_audience": shared / len(mine) if len(mine) else 0.0,
                     "jaccard": shared / union if union else 0.0})
    return pd.DataFrame(rows, columns=["campaign", "size", "overlap", "share_of_audience", "jaccard"])


def overlap_matrix(audiences: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Jaccard index between every pair of audiences (square DataFrame, 1.0 on the diagonal).

    One membership matrix (audiences × distinct users) and one product give every pairwise intersection at once.
    """
    names = list(audiences)
    if not names:
        return pd.DataFrame()
    parts = [pd.unique(pd.Series(np.asarray(audiences[n], dtype=object), dtype=object)) for n in names]
    codes, uniques = pd.factorize(np.concatenate(parts) if parts else np.empty(0, dtype=object))
    member = np.zeros((len(names), len(uniques)), dtype=np.float32)
    start = 0
    for row, part in enumerate(parts):
        member[row, codes[start:start + len(part)]] = 1.0
        start += len(part)
    shared = member @ member.T
    sizes = np.diag(shared)
    union = sizes[:, None] + sizes[None, :] - shared
    jaccard = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    np.fill_diagonal(jaccard, 1.0)
    return pd.DataFrame(jaccard.astype(np.float64), index=names, columns=names)


def preview(model: AffinityModel, audience: Audience, interactions: CustomerEvents | pd.DataFrame | None,
            n: int = 20, n_brands: int = 3, n_similar: int = 5) -> pd.DataFrame:
    """The top `n` members: rank, user_id, score, group, their own top brands, and the interactions behind the
    score — their events on the chosen brands and on the brands whose factors are closest to them (only these
    `n` customers' rows are read when `interactions` is the CustomerEvents index)."""
    head = audience.user_index[:n]
    if len(head) == 0:
        return pd.DataFrame(columns=["rank", Columns.user, Columns.score, "group", "brand_place", "top_brands", "why"])
    top_idx, top_scores = model.top_brands_for_users(n_brands, head)
    names = model.brand_ids.external
    own = ["; ".join(f"{names[b]} ({s:.2f})" for b, s in zip(bs, ss)) for bs, ss in zip(top_idx, top_scores)]
    explaining = set(audience.spec.brands) | set(similar_brands(model, audience.spec.brands, n_similar))
    why = explain(interactions, model.user_ids.to_external(head), explaining, set(audience.spec.brands))
    return pd.DataFrame({"rank": audience.ranks[:n], Columns.user: audience.user_ids[:n],
                         Columns.score: audience.scores[:n], "group": audience.groups[:n],
                         "brand_place": brand_places(model, head, audience.spec.brands),
                         "top_brands": own, "why": why})


def brand_places(model: AffinityModel, user_index: np.ndarray, brands: Sequence[str]) -> list[str]:
    """Per user, where each chosen brand sits in their own brand list, e.g. "acme #4 of 60".

    A customer can be near the top of a brand's audience while the brand is not among their own top three
    (they score high on everything); the place says so instead of leaving the preview looking contradictory.
    """
    idx = model.brand_ids.to_index(list(brands), what="brand")
    scores = model.scores_for_users(np.asarray(user_index, dtype=np.int64))
    chosen = scores[:, idx]
    places = 1 + (scores[:, None, :] > chosen[:, :, None]).sum(axis=2)  # ties share the better place
    return [", ".join(f"{b} #{int(p)} of {model.n_brands}" for b, p in zip(brands, row)) for row in places]


def similar_brands(model: AffinityModel, brands: Sequence[str], k: int = 5) -> list[str]:
    """The k brands whose factors have the highest cosine to the chosen brands' mean factor (chosen excluded)."""
    idx = model.brand_ids.to_index(list(brands), what="brand")
    f = model.brand_factors
    norms = np.linalg.norm(f, axis=1) + 1e-12
    centre = (f[idx] / norms[idx, None]).mean(axis=0)
    cos = (f @ centre) / norms
    cos[idx] = -np.inf
    best = top_k(cos, min(k, max(model.n_brands - len(idx), 0)))
    return [str(b) for b in model.brand_ids.to_external(best)]


def explain(interactions: CustomerEvents | pd.DataFrame | None, user_ids: Sequence[str], brands: set[str],
            chosen: set[str]) -> list[str]:
    """Per user, e.g. "order ×2, view ×5 on Acme; click ×1 on Beta (similar)" — events on the explaining brands.

    Reads only these users' rows of the customer index (a DataFrame is indexed first, which scans it: pages pass
    the index they cache per interactions table).
    """
    if interactions is None or not len(user_ids):
        return ["" for _ in user_ids]
    index = interactions if isinstance(interactions, CustomerEvents) else CustomerEvents.build(interactions)
    out = []
    for per_brand in index.event_counts(user_ids, sorted(brands)):
        labels = []
        for brand, counts in per_brand.items():
            # most frequent event first; equal counts in event-name order
            events = ", ".join(f"{e} ×{c}" for e, c in sorted(counts.items(), key=lambda ec: (-ec[1], ec[0])))
            labels.append((0 if brand in chosen else 1, f"{events} on {brand}" + ("" if brand in chosen else
                                                                                 " (similar)")))
        out.append("; ".join(label for _, label in sorted(labels)) or "no events on these brands: similar "
                   "shoppers' taste")
    return out


# --------------------------------------------------------------------------- outcomes

@dataclass(frozen=True)
class Lift:
    """Target vs control for one outcome: rates with 95% Wilson intervals, the absolute difference with a 95% CI,
    the relative lift with a 95% CI (None while a group has no success). All rates and differences are fractions."""

    outcome: str
    n_target: int
    n_control: int
    rate_target: float
    rate_control: float
    difference: float
    difference_ci: tuple[float, float]
    relative_lift: float | None
    relative_lift_ci: tuple[float, float] | None
    rate_target_ci: tuple[float, float] = (0.0, 0.0)
    rate_control_ci: tuple[float, float] = (0.0, 0.0)


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson interval of a rate: unlike Wald it stays inside [0, 1] and is not zero-width at 0 successes."""
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def lift(target: np.ndarray, control: np.ndarray, outcome: str = "bought", z: float = 1.959964) -> Lift:
    """Lift of a bool outcome, target (bool (n_t,)) vs control (bool (n_c,)).

    Difference CI: Wald (normal) interval of p_t − p_c. Relative lift p_t / p_c − 1: CI from the delta method on
    log(p_t / p_c) (undefined, None, while the control or target has no success).
    """
    nt, nc = len(target), len(control)
    if nt == 0 or nc == 0:
        raise AtelierError("lift needs members in both the target and the control group: save the campaign "
                           "with a control percent above 0")
    st, sc = int(np.sum(target)), int(np.sum(control))
    pt, pc = st / nt, sc / nc
    se = math.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
    diff = pt - pc
    rel = rel_ci = None
    if pt > 0 and pc > 0:
        rel = pt / pc - 1.0
        se_log = math.sqrt((1 - pt) / (pt * nt) + (1 - pc) / (pc * nc))
        log_ratio = math.log(pt / pc)
        rel_ci = (math.exp(log_ratio - z * se_log) - 1.0, math.exp(log_ratio + z * se_log) - 1.0)
    return Lift(outcome, nt, nc, pt, pc, diff, (diff - z * se, diff + z * se), rel, rel_ci,
                wilson(st, nt, z), wilson(sc, nc, z))
