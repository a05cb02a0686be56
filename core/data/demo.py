"""Demo workspace generator: seeded synthetic fashion data whose planted structure tests can check."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from core.columns import DEFAULT_EVENT_WEIGHTS, EVENTS
from core.files import staged_folder
from core.data.workspace import (PLANTED, Workspace, is_workspace, write_image_features, write_manifest,
                                 write_table_files)
from core.errors import ConfigError, WorkspaceError

TEXT = pd.StringDtype(na_value=np.nan)  # pandas' `str` dtype, as the validating readers produce


@dataclass(frozen=True)
class DemoSize:
    users: int
    brands: int
    items: int
    interactions: int
    outfits: int


SIZES: dict[str, DemoSize] = {
    "tiny": DemoSize(users=400, brands=12, items=300, interactions=8_000, outfits=60),
    "small": DemoSize(users=4_000, brands=60, items=2_500, interactions=120_000, outfits=800),
    "large": DemoSize(users=1_000_000, brands=3_000, items=100_000, interactions=5_000_000, outfits=8_000),
}

# ------------------------------------------------------------------------------------------- vocabulary
STYLES: tuple[str, ...] = ("minimal", "romantic", "sporty", "edgy", "classic", "boho", "street", "glam")
K = len(STYLES)
STYLE_WORDS: dict[str, tuple[str, ...]] = {
    "minimal": ("clean-lined", "pared-back", "essential", "understated", "streamlined", "monochrome"),
    "romantic": ("ruffled", "delicate", "lace-trimmed", "feminine", "scalloped", "bow-detail"),
    "sporty": ("performance", "technical", "active", "track", "breathable", "athletic"),
    "edgy": ("studded", "distressed", "zip-detail", "biker", "raw-edge", "grunge"),
    "classic": ("tailored", "timeless", "heritage", "preppy", "crisp", "polished"),
    "boho": ("embroidered", "fringed", "flowing", "crochet", "tiered", "folk"),
    "street": ("graphic", "logo", "cargo", "boxy", "utility", "skate"),
    "glam": ("sequinned", "embellished", "metallic", "statement", "sparkle", "high-shine"),
}
# (product type, category group, base price in EUR, divisions it is sold in)
CATEGORIES: tuple[tuple[str, str, float, str], ...] = (
    ("t-shirt", "tops", 25, "wmk"), ("shirt", "tops", 45, "wm"), ("sweater", "tops", 60, "wmk"),
    ("blouse", "tops", 50, "w"), ("jeans", "bottoms", 60, "wmk"), ("trousers", "bottoms", 55, "wmk"),
    ("skirt", "bottoms", 45, "w"), ("jacket", "outerwear", 110, "wmk"), ("coat", "outerwear", 180, "wm"),
    ("sneakers", "shoes", 80, "wmk"), ("boots", "shoes", 120, "wmk"), ("heels", "shoes", 90, "w"),
    ("tote", "bags", 70, "wm"), ("crossbody", "bags", 85, "w"), ("scarf", "accessories", 30, "wm"),
    ("belt", "accessories", 35, "wm"),
)
CATEGORY_NAMES = tuple(c[0] for c in CATEGORIES)
GROUPS: tuple[str, ...] = ("tops", "bottoms", "outerwear", "shoes", "bags", "accessories")
DIVISIONS: tuple[str, ...] = ("women", "men", "kids")
CATEGORY_STYLE = {  # product types each style over-produces: category carries signal about the latent vector
    "minimal": ("t-shirt", "trousers", "coat", "tote"), "romantic": ("blouse", "skirt", "heels", "scarf"),
    "sporty": ("t-shirt", "sneakers", "jacket", "crossbody"), "edgy": ("boots", "jacket", "jeans", "belt"),
    "classic": ("shirt", "trousers", "coat", "belt"), "boho": ("skirt", "blouse", "scarf", "boots"),
    "street": ("t-shirt", "sneakers", "jeans", "sweater"), "glam": ("heels", "crossbody", "skirt", "blouse"),
}
COLOURS: dict[str, str] = {  # colour -> family; outfits combine one family with neutrals
    "black": "neutral", "white": "neutral", "grey": "neutral", "beige": "neutral", "navy": "neutral",
    "red": "warm", "pink": "warm", "rust": "warm", "mustard": "warm", "gold": "warm",
    "blue": "cool", "green": "cool", "lilac": "cool", "silver": "cool",
    "olive": "earth", "camel": "earth", "khaki": "earth",
}
COLOUR_NAMES = tuple(COLOURS)
FAMILIES: tuple[str, ...] = ("neutral", "warm", "cool", "earth")
COLOUR_STYLE = {
    "minimal": ("black", "white", "grey", "beige"), "romantic": ("pink", "white", "lilac"),
    "sporty": ("navy", "blue", "grey", "white"), "edgy": ("black", "grey", "red", "silver"),
    "classic": ("navy", "camel", "white", "beige"), "boho": ("rust", "olive", "mustard", "camel"),
    "street": ("black", "khaki", "olive", "grey"), "glam": ("red", "black", "gold", "silver"),
}
MATERIALS: tuple[str, ...] = ("cotton", "linen", "silk", "wool", "cashmere", "jersey", "polyester", "denim",
                              "leather", "suede", "canvas", "nylon", "mesh", "satin")
GROUP_MATERIALS = {
    "tops": ("cotton", "linen", "silk", "wool", "cashmere", "jersey", "polyester", "satin"),
    "bottoms": ("denim", "cotton", "wool", "linen", "polyester", "leather", "satin"),
    "outerwear": ("wool", "leather", "nylon", "cotton", "denim", "cashmere", "suede"),
    "shoes": ("leather", "suede", "canvas", "mesh"),
    "bags": ("leather", "canvas", "nylon", "suede", "satin"),
    "accessories": ("silk", "wool", "leather", "cashmere", "cotton"),
}
CATEGORY_MATERIAL = {"jeans": ("denim",), "sweater": ("wool", "cashmere", "cotton"), "belt": ("leather", "suede"),
                     "sneakers": ("canvas", "leather", "mesh"), "t-shirt": ("cotton", "jersey", "linen")}
MATERIAL_STYLE = {
    "minimal": ("cotton", "wool", "linen"), "romantic": ("silk", "satin", "cotton"),
    "sporty": ("nylon", "mesh", "jersey", "polyester"), "edgy": ("leather", "denim"),
    "classic": ("wool", "cashmere", "leather"), "boho": ("linen", "suede", "cotton"),
    "street": ("cotton", "denim", "nylon", "canvas"), "glam": ("silk", "satin", "leather"),
}
TIERS: tuple[str, ...] = ("budget", "mid", "premium", "luxury")
TIER_PRICE = np.array([0.55, 1.0, 1.9, 4.5])

# Attributes: values, the category groups (or types) they apply to, and the style/category preferences.
ATTRIBUTES: dict[str, dict] = {
    "pattern": dict(values=("solid", "striped", "floral", "check", "graphic", "animal"),
                    groups=("tops", "bottoms", "outerwear", "accessories"), base={"solid": 1.5},
                    style={"minimal": ("solid",), "romantic": ("floral",), "sporty": ("striped", "solid"),
                           "edgy": ("animal", "graphic"), "classic": ("check", "striped"), "boho": ("floral",),
                           "street": ("graphic",), "glam": ("animal", "solid")}),
    "sleeve_length": dict(values=("short", "long", "sleeveless", "three-quarter"), groups=("tops", "outerwear"),
                          category={"t-shirt": ("short",), "shirt": ("long",), "sweater": ("long",),
                                    "blouse": ("three-quarter", "sleeveless"), "jacket": ("long",), "coat": ("long",)},
                          style={"sporty": ("short", "sleeveless"), "glam": ("sleeveless",),
                                 "romantic": ("three-quarter",), "classic": ("long",)}),
    "fabric": dict(values=MATERIALS, groups=GROUPS, from_material=True),
    "fit": dict(values=("slim", "regular", "relaxed", "oversized"), groups=("tops", "bottoms", "outerwear"),
                base={"regular": 0.8},
                style={"minimal": ("slim", "regular"), "street": ("oversized",), "boho": ("relaxed",),
                       "classic": ("regular", "slim"), "sporty": ("relaxed", "regular"), "edgy": ("slim",),
                       "glam": ("slim",), "romantic": ("relaxed",)}),
    "neck": dict(values=("crew", "v-neck", "collar", "turtleneck", "hooded"), groups=("tops", "outerwear"),
                 category={"t-shirt": ("crew", "v-neck"), "shirt": ("collar",), "sweater": ("crew", "turtleneck"),
                           "blouse": ("v-neck", "collar"), "jacket": ("collar", "hooded"), "coat": ("collar",)},
                 style={"sporty": ("hooded",), "classic": ("collar",), "minimal": ("turtleneck", "crew"),
                        "glam": ("v-neck",), "street": ("hooded", "crew")}),
    "occasion": dict(values=("casual", "work", "evening", "sport", "party"), groups=GROUPS, base={"casual": 0.8},
                     style={"sporty": ("sport",), "classic": ("work",), "glam": ("evening", "party"),
                            "minimal": ("work", "casual"), "street": ("casual",), "boho": ("casual",),
                            "edgy": ("party", "casual"), "romantic": ("evening",)}),
    "colour": dict(values=COLOUR_NAMES, groups=GROUPS, from_colour=True),
    "season": dict(values=("spring-summer", "autumn-winter", "all-season"), groups=GROUPS, base={"all-season": 0.6},
                   category={"coat": ("autumn-winter",), "boots": ("autumn-winter",), "sweater": ("autumn-winter",),
                             "scarf": ("autumn-winter",), "t-shirt": ("spring-summer",), "skirt": ("spring-summer",)},
                   material={"wool": ("autumn-winter",), "cashmere": ("autumn-winter",), "suede": ("autumn-winter",),
                             "linen": ("spring-summer",), "mesh": ("spring-summer",), "canvas": ("spring-summer",)}),
}
MISSING_RATE_RANGE = (0.30, 0.75)
ERROR_RATE = 0.02
OUTFIT_TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("tops", "bottoms", "shoes"), ("tops", "bottoms", "shoes", "bags"),
    ("outerwear", "tops", "bottoms", "shoes"), ("tops", "bottoms", "shoes", "accessories"),
)
EVENT_BASE = np.array([0.64, 0.20, 0.075, 0.055, 0.03])  # view > click > wishlist > add_to_bag > order
EVENT_INTENT = np.array([0.0, 0.25, 0.5, 0.7, 0.9])  # higher-intent events lean on taste match
START = pd.Timestamp("2025-07-01", tz="UTC")
DAYS = 90
CANDIDATES = 32  # sampling-importance-resampling proposals per interaction
ZIPF_EXPONENT = 0.7  # popularity ∝ rank^-0.7 for the top HEAD_SHARE of items ...
TAIL_EXPONENT = 4.0  # ... and falls as rank^-4 beyond it
HEAD_SHARE = 0.22
IMAGE_DIM = 32


# ----------------------------------------------------------------------------------------------- truth
def make_brands(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Brand factor vectors (one or two styles), heavy-tailed popularity, a price tier leaning on style."""
    style = rng.integers(0, K, n)
    second = np.where(rng.random(n) < 0.3, rng.integers(0, K, n), -1)
    factors = 0.55 * rng.standard_normal((n, K))
    factors[np.arange(n), style] += 1.8
    has2 = second >= 0
    factors[np.flatnonzero(has2), second[has2]] += 0.9
    popularity = rng.lognormal(0.0, 1.0, n)
    tier_logits = np.log([0.3, 0.4, 0.2,
                          0.1]) + np.outer(np.isin(style, [STYLES.index("classic"), STYLES.index("glam")]),
                                                           [-0.5, -0.2, 0.5, 1.0])
    tier = _gumbel_argmax(rng, tier_logits)
    ids = _brand_names(rng, n)
    return dict(ids=ids, factors=factors.astype(np.float32), popularity=popularity / popularity.sum(),
                style=style, tier=tier)


def make_items(rng: np.random.Generator, n: int, brands: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Items belong to brands (vector = brand vector + noise); Zipf-like popularity with a real long tail."""
    n_brands = len(brands["ids"])
    floor = min(5, n // n_brands)
    share = brands["popularity"] ** 0.5
    counts = floor + rng.multinomial(n - floor * n_brands, share / share.sum())
    brand = rng.permutation(np.repeat(np.arange(n_brands), counts))
    factors = brands["factors"][brand] + 0.7 * rng.standard_normal((n, K)).astype(np.float32)
    # Rank items by brand popularity plus noise, then give rank r a Zipf weight r^-s.
    order = np.argsort(-(np.log(brands["popularity"][brand]) + 1.8 * rng.standard_normal(n)))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(1, n + 1)
    # A broken power law: a Zipf-like head and torso, then a steep tail where most items get 0-3 interactions.
    knee = HEAD_SHARE * n
    r = rank.astype(np.float64)
    popularity = np.where(r <= knee, r ** -ZIPF_EXPONENT, knee ** -ZIPF_EXPONENT * (r / knee) ** -TAIL_EXPONENT)
    style = _gumbel_argmax(rng, 1.5 * factors)
    return dict(ids=_ids("I", n), brand=brand, factors=factors.astype(np.float32),
                popularity=popularity / popularity.sum(), style=style)


def make_users(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Taste = a mixture of one or two styles; activity heavy-tailed (log-normal)."""
    primary = rng.integers(0, K, n)
    second = np.where(rng.random(n) < 0.4, (primary + rng.integers(1, K, n)) % K, -1)
    w1 = np.where(second >= 0, rng.uniform(0.55, 0.8, n), 1.0)
    factors = 0.35 * rng.standard_normal((n, K))
    factors[np.arange(n), primary] += 1.6 * w1
    has2 = second >= 0
    factors[np.flatnonzero(has2), second[has2]] += 1.6 * (1 - w1[has2])
    activity = rng.lognormal(0.0, 1.0, n)
    return dict(ids=_ids("U", n), factors=factors.astype(np.float32), activity=activity / activity.sum(),
                styles=np.stack([primary, second], axis=1))


# ----------------------------------------------------------------------------------------------- tables
def make_catalogue(rng: np.random.Generator, items: dict, brands: dict) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Catalogue whose category, colour, material, price and text carry signal about the item's latent vector."""
    n = len(items["ids"])
    f = items["factors"]
    category = _gumbel_argmax(rng, _prefer(f, CATEGORY_STYLE, CATEGORY_NAMES, 1.0))
    cat_group = np.array([GROUPS.index(CATEGORIES[c][1]) for c in range(len(CATEGORIES))])[category]
    division = _divisions(rng, category)
    colour = _gumbel_argmax(rng, _prefer(f, COLOUR_STYLE, COLOUR_NAMES, 1.0))
    material = _materials(rng, f, category)
    tier = brands["tier"][items["brand"]]
    base = np.array([c[2] for c in CATEGORIES])[category]
    price_style = f[:, [STYLES.index("classic"), STYLES.index("glam")]].sum(1) - f[:, STYLES.index("street")]
    price = base * TIER_PRICE[tier] * np.exp(0.08 * price_style + 0.22 * rng.standard_normal(n))
    price = np.maximum(np.round(price) - 0.01, 4.99)
    content = dict(category=category, group=cat_group, division=division, colour=colour, material=material)
    names, descriptions = _texts(rng, items, brands, content)
    frame = pd.DataFrame({
        "item_id": pd.array(items["ids"], dtype=TEXT),
        "name": pd.array(names, dtype=TEXT),
        "description": pd.array(descriptions, dtype=TEXT),
        "brand": pd.array(brands["ids"][items["brand"]], dtype=TEXT),
        "category": pd.array(np.array(CATEGORY_NAMES)[category], dtype=TEXT),
        "category_group": pd.array(np.array(GROUPS)[cat_group], dtype=TEXT),
        "division": pd.array(np.array(DIVISIONS)[division], dtype=TEXT),
        "price": price.astype(np.float64),
        "image_url": pd.array([np.nan] * n, dtype=TEXT),
    })
    return frame, content


def make_attributes(rng: np.random.Generator, items: dict, content: dict) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """attr_* columns: true values from content and style (with noise), 30-75% masked, ~2% planted wrong values."""
    n = len(items["ids"])
    rates = rng.uniform(*MISSING_RATE_RANGE, len(ATTRIBUTES))
    columns: dict[str, pd.Series] = {}
    truth: dict[str, np.ndarray] = {}
    err_item, err_attr, err_true, err_wrong = [], [], [], []
    for (name, spec), rate in zip(ATTRIBUTES.items(), rates):
        values = np.array(spec["values"])
        applicable = np.isin(content["group"], [GROUPS.index(g) for g in spec["groups"]])
        true = values[_attribute_truth(rng, spec, items, content)]
        true = np.where(applicable, true, "")
        missing = applicable & (rng.random(n) < rate)
        shown = np.where(missing, "", true)
        # Planted catalogue errors: a shown value replaced by another value of the same attribute.
        wrong = np.flatnonzero((shown != "") & (rng.random(n) < ERROR_RATE))
        offsets = rng.integers(1, len(values), len(wrong))
        index = {v: j for j, v in enumerate(values.tolist())}
        true_index = np.array([index[v] for v in true[wrong].tolist()], dtype=np.int64)
        replaced = values[(true_index + offsets) % len(values)]
        shown[wrong] = replaced
        err_item += wrong.tolist()
        err_attr += [name] * len(wrong)
        err_true += true[wrong].tolist()
        err_wrong += replaced.tolist()
        columns[f"attr_{name}"] = pd.array(np.where(shown == "", None, shown), dtype=TEXT)
        truth[f"attr_true_{name}"] = true.astype(str)
        truth[f"attr_applicable_{name}"] = applicable
        truth[f"attr_missing_{name}"] = missing
    truth["attr_missing_rate"] = rates
    truth["error_item"] = np.array(err_item, dtype=np.int64)
    truth["error_attribute"] = np.array(err_attr, dtype=str)
    truth["error_true"] = np.array(err_true, dtype=str)
    truth["error_wrong"] = np.array(err_wrong, dtype=str)
    return pd.DataFrame(columns), truth


def make_interactions(rng: np.random.Generator, n: int, users: dict, items: dict, brands: dict,
                      chunk: int = 100_000) -> pd.DataFrame:
    """Interactions sampled ∝ item popularity × exp(taste·item); events lean to higher intent with a better match.

    Every user has at least one interaction. Sampling is importance resampling: CANDIDATES proposals from
    the popularity distribution per interaction, one kept with probability ∝ exp(taste·item) (Gumbel-max).
    """
    n_users = len(users["ids"])
    counts = 1 + rng.multinomial(n - n_users, users["activity"])
    user = np.repeat(np.arange(n_users, dtype=np.int64), counts)
    cdf = np.cumsum(items["popularity"])
    cdf /= cdf[-1]
    item = np.empty(n, np.int64)
    score = np.empty(n, np.float32)
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        cand = np.minimum(np.searchsorted(cdf, rng.random((hi - lo, CANDIDATES))), len(cdf) - 1)
        s = np.einsum("nk,nck->nc", users["factors"][user[lo:hi]], items["factors"][cand])
        pick = np.argmax(s - np.log(-np.log(rng.random(s.shape, dtype=np.float32) + 1e-12)), axis=1)
        item[lo:hi] = cand[np.arange(hi - lo), pick]
        score[lo:hi] = s[np.arange(hi - lo), pick]
    z = (score - score.mean()) / (score.std() + 1e-9)
    event = _gumbel_argmax(rng, np.log(EVENT_BASE) + np.outer(z, EVENT_INTENT))
    seconds = np.sort(rng.random(n) * DAYS * 86_400)
    order = rng.permutation(n)  # interactions of a user spread over the whole period
    when = START + pd.to_timedelta(np.round(seconds * 1e3).astype(np.int64), unit="ms")
    weights = np.array([DEFAULT_EVENT_WEIGHTS[e] for e in EVENTS], dtype=np.float32)
    user, item, event = user[order], item[order], event[order]
    return pd.DataFrame({
        "user_id": pd.array(users["ids"][user], dtype=TEXT),
        "item_id": pd.array(items["ids"][item], dtype=TEXT),
        "brand_id": pd.array(brands["ids"][items["brand"][item]], dtype=TEXT),
        "event": pd.array(np.array(EVENTS)[event], dtype=TEXT),
        "weight": weights[event],
        "timestamp": when,
    })


def make_outfits(rng: np.random.Generator, n: int, items: dict, content: dict) -> tuple[pd.DataFrame, dict]:
    """Outfits of 3-4 items from different category groups that follow the planted compatibility rule.

    Rule: every item has the outfit's style (its content style), the same division (women or men), and
    a colour in the outfit's accent family or a neutral; one item per category group.
    """
    family = np.array([FAMILIES.index(COLOURS[c]) for c in COLOUR_NAMES])[content["colour"]]
    weight = items["popularity"] ** 0.3  # stylists use head and tail items alike
    buckets: dict[tuple[int, int, int], np.ndarray] = {}
    keys = np.stack([items["style"], content["division"], content["group"]], axis=1)
    for key in {tuple(k) for k in keys.tolist()}:
        buckets[key] = np.flatnonzero((keys == key).all(axis=1))
    rows_o, rows_i, styles, accents, divisions = [], [], [], [], []
    attempts = 0
    while len(styles) < n and attempts < 50 * n:
        attempts += 1
        style, division, accent = rng.integers(0, K), rng.integers(0, 2), rng.integers(1, len(FAMILIES))
        template = OUTFIT_TEMPLATES[rng.integers(0, len(OUTFIT_TEMPLATES))]
        picked = []
        for group in template:
            pool = buckets.get((style, division, GROUPS.index(group)), np.array([], np.int64))
            pool = pool[(family[pool] == 0) | (family[pool] == accent)]
            if len(pool) == 0:
                break
            p = weight[pool] / weight[pool].sum()
            picked.append(int(rng.choice(pool, p=p)))
        if len(picked) != len(template):
            continue
        oid = len(styles)
        rows_o += [oid] * len(picked)
        rows_i += picked
        styles.append(style)
        accents.append(accent)
        divisions.append(division)
    outfit_ids = _ids("O", len(styles))
    frame = pd.DataFrame({"outfit_id": pd.array(outfit_ids[rows_o], dtype=TEXT),
                          "item_id": pd.array(items["ids"][rows_i], dtype=TEXT)})
    truth = dict(outfit_style=np.array(styles, np.int64), outfit_accent=np.array(accents, np.int64),
                 outfit_division=np.array(divisions, np.int64), item_colour_family=family,
                 outfit_row_outfit=np.array(rows_o, np.int64), outfit_row_item=np.array(rows_i, np.int64))
    return frame, truth


def make_customers(rng: np.random.Generator, users: dict) -> pd.DataFrame:
    """Every user; ~5% unsubscribed, ~1% bounced, ~0.5% test accounts."""
    n = len(users["ids"])
    return pd.DataFrame({"user_id": pd.array(users["ids"], dtype=TEXT),
                         "unsubscribed": rng.random(n) < 0.05, "bounced": rng.random(n) < 0.01,
                         "test_account": rng.random(n) < 0.005})


def make_image_features(rng: np.random.Generator, items: dict, content: dict) -> tuple[np.ndarray, np.ndarray]:
    """32-d 'image embeddings' (float32, (I, 32)): a linear projection of the latent vector + category + colour +
    noise."""
    n = len(items["ids"])
    projection = rng.standard_normal((K, IMAGE_DIM)) / np.sqrt(K)
    cat_emb = 0.6 * rng.standard_normal((len(CATEGORIES), IMAGE_DIM))
    col_emb = 0.4 * rng.standard_normal((len(COLOUR_NAMES), IMAGE_DIM))
    vectors = (items["factors"] @ projection + cat_emb[content["category"]] + col_emb[content["colour"]]
               + 0.3 * rng.standard_normal((n, IMAGE_DIM)))
    return vectors.astype(np.float32), projection.astype(np.float32)


# ------------------------------------------------------------------------------------------------ entry
def generate_demo(out: Path | str, size: str = "small", seed: int = 42, replace: bool = False,
                  name: str | None = None) -> Workspace:
    """Write a demo workspace to `out` atomically (temp folder, then one rename) and return it.

    Raises WorkspaceError if `out` already holds a workspace and `replace` is False.
    """
    if size not in SIZES:
        raise ConfigError(f"unknown demo size {size!r}: choose one of {', '.join(SIZES)}")
    out = Path(out).resolve()
    if is_workspace(out) and not replace:
        raise WorkspaceError(f"{out} already holds a workspace: pass --force to replace it, or choose another --out")
    if out.exists() and not is_workspace(out) and any(out.iterdir()):
        raise WorkspaceError(f"{out} exists and is not a workspace: choose an empty or new folder")
    spec = SIZES[size]
    started = time.perf_counter()
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)]
    brands = make_brands(rngs[0], spec.brands)
    items = make_items(rngs[1], spec.items, brands)
    users = make_users(rngs[2], spec.users)
    catalogue, content = make_catalogue(rngs[3], items, brands)
    attributes, attr_truth = make_attributes(rngs[4], items, content)
    interactions = make_interactions(rngs[5], spec.interactions, users, items, brands)
    outfits, outfit_truth = make_outfits(rngs[6], spec.outfits, items, content)
    customers = make_customers(rngs[7], users)
    vectors, projection = make_image_features(rngs[8], items, content)
    catalogue = pd.concat([catalogue, attributes], axis=1)

    planted = _planted_arrays(brands, items, users, content, attr_truth, outfit_truth, projection)
    manifest = _manifest(out.name if name is None else name, size, seed, spec, catalogue, interactions, outfits,
                         customers, attr_truth, outfit_truth, time.perf_counter() - started)
    try:
        with staged_folder(out, replace=replace) as staging:
            write_table_files(staging, {"interactions": interactions, "catalogue": catalogue, "outfits": outfits,
                                        "customers": customers})
            write_image_features(staging, items["ids"], vectors)
            np.savez_compressed(staging / PLANTED, **planted)
            write_manifest(staging, manifest)
    except OSError as error:
        if not replace and out.is_dir() and any(out.iterdir()):  # someone else's folder: never overwritten
            raise WorkspaceError(f"{out} was created meanwhile: open it, or pass --force to replace it") from error
        raise
    return Workspace.open(out)


def load_planted(ws: Workspace) -> dict[str, np.ndarray]:
    """The demo's truth arrays (see `_planted_arrays`); raises WorkspaceError for a workspace that is not a demo."""
    path = ws.planted_path
    if not path.is_file():
        raise WorkspaceError(f"workspace '{ws.name}' has no planted truth: only demo workspaces do")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


# ------------------------------------------------------------------------------------------------ helpers
def _gumbel_argmax(rng: np.random.Generator, logits: np.ndarray) -> np.ndarray:
    """One categorical sample per row of `logits` (n, c) -> int64 (n,)."""
    u = rng.random(logits.shape)
    return np.argmax(logits - np.log(-np.log(u + 1e-12) + 1e-12), axis=1).astype(np.int64)


def _prefer(factors: np.ndarray, table: dict[str, tuple[str, ...]], names: tuple[str, ...], scale: float) -> np.ndarray:
    """Logits (n, len(names)): style preferences weighted by the softmax of the latent factors."""
    pref = np.zeros((K, len(names)))
    for s, liked in table.items():
        pref[STYLES.index(s), [names.index(v) for v in liked]] = 1.0
    soft = np.exp(1.5 * (factors - factors.max(axis=1, keepdims=True)))
    soft /= soft.sum(axis=1, keepdims=True)
    return scale * 2.2 * (soft @ pref)


def _divisions(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    allowed = np.array([[d[0] in c[3] for d in DIVISIONS] for c in CATEGORIES])  # (C, 3)
    logits = np.where(allowed[category], np.log([0.55, 0.37, 0.08]), -np.inf)
    return _gumbel_argmax(rng, logits)


def _materials(rng: np.random.Generator, factors: np.ndarray, category: np.ndarray) -> np.ndarray:
    allowed = np.zeros((len(CATEGORIES), len(MATERIALS)), bool)
    for c, (cat, group, _, _) in enumerate(CATEGORIES):
        allowed[c, [MATERIALS.index(m) for m in CATEGORY_MATERIAL.get(cat, GROUP_MATERIALS[group])]] = True
    logits = np.where(allowed[category], _prefer(factors, MATERIAL_STYLE, MATERIALS, 1.0), -np.inf)
    return _gumbel_argmax(rng, logits)


def _attribute_truth(rng: np.random.Generator, spec: dict, items: dict, content: dict) -> np.ndarray:
    """Index into spec['values'] for every item: base + category + material + style preferences, sampled."""
    values = spec["values"]
    n = len(items["ids"])
    if spec.get("from_material"):
        return np.array([values.index(MATERIALS[m]) for m in range(len(MATERIALS))])[content["material"]]
    if spec.get("from_colour"):
        return content["colour"]
    logits = np.zeros((n, len(values)))
    for v, w in spec.get("base", {}).items():
        logits[:, values.index(v)] += w
    for key, table, names in (("category", "category", CATEGORY_NAMES), ("material", "material", MATERIALS)):
        for name, liked in spec.get(table, {}).items():
            rows = content[key] == names.index(name)
            for v in liked:
                logits[rows, values.index(v)] += 2.5
    # Style preferences follow the style the content is written in, so text predicts attributes.
    for s, liked in spec.get("style", {}).items():
        rows = items["style"] == STYLES.index(s)
        for v in liked:
            logits[rows, values.index(v)] += 1.8
    return _gumbel_argmax(rng, logits)


def _texts(rng: np.random.Generator, items: dict, brands: dict, content: dict) -> tuple[list[str], list[str]]:
    """Names and descriptions from per-style vocabularies, category, colour and material words."""
    n = len(items["ids"])
    second = np.argsort(-items["factors"], axis=1)[:, 1]
    second = np.where(second == items["style"], np.argsort(-items["factors"], axis=1)[:, 0], second)
    w1 = rng.integers(0, 6, n)
    w2 = rng.integers(0, 6, n)
    w3 = rng.integers(0, 6, n)
    with_material = rng.random(n) < 0.5
    occasions = ("everyday", "the office", "evenings out", "the weekend", "travel")
    occ = rng.integers(0, len(occasions), n)
    names, descriptions = [], []
    brand_ids = brands["ids"]
    for i in range(n):
        style = STYLES[items["style"][i]]
        words = STYLE_WORDS[style]
        cat = CATEGORY_NAMES[content["category"][i]]
        colour = COLOUR_NAMES[content["colour"][i]]
        material = MATERIALS[content["material"][i]]
        adj = words[w1[i]]
        name = (f"{adj.capitalize()} {colour} {material} {cat}" if with_material[i]
                else f"{adj.capitalize()} {colour} {cat}")
        other = STYLE_WORDS[STYLES[second[i]]][w3[i]]
        desc = (f"A {words[w2[i]]} {cat} by {brand_ids[items['brand'][i]]} in {colour} {material}. "
                f"{style.capitalize()} in spirit with a {other} touch; made for {occasions[occ[i]]}.")
        names.append(name)
        descriptions.append(desc)
    return names, descriptions


_SYLLABLES_A = ("Vel", "Nor", "Ma", "Lu", "Ar", "Sol", "Cor", "Fen", "Is", "Ro", "Ka", "Bel", "Tor", "Ve", "Mi",
                "Sa", "Ob", "El", "Da", "Quin", "Hal", "Or", "Pe", "Ty", "Zan", "Ca", "Lin", "Mar", "Ner", "Au")
_SYLLABLES_B = ("ora", "dis", "lune", "vik", "mont", "ena", "aro", "elle", "ton", "via", "ric", "sen", "ana",
                "bel", "lio", "dor", "ka", "mira", "ssa", "nd", "te", "vo", "rae", "lis", "nova", "ette", "rin",
                "ado", "ume", "ix")
_BRAND_SUFFIX = ("", " Studio", " Paris", " & Co", " Atelier", " Milano")


def _brand_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique, pronounceable brand names (exact strings are the brand ids)."""
    base = [a + b for a in _SYLLABLES_A for b in _SYLLABLES_B]
    pool = [b + s for s in _BRAND_SUFFIX for b in base]
    if n > len(pool):
        raise ConfigError(f"at most {len(pool)} demo brands")
    first = rng.permutation(len(base))  # plain names first, suffixed ones only for large sizes
    order = list(first) + [len(base) + j for j in rng.permutation(len(pool) - len(base))]
    return np.array([pool[j] for j in order[:n]])


def _ids(prefix: str, n: int) -> np.ndarray:
    width = max(5, len(str(n - 1)))
    return np.char.add(prefix, np.char.zfill(np.arange(n).astype(str), width))


def _planted_arrays(brands: dict, items: dict, users: dict, content: dict, attr_truth: dict,
                    outfit_truth: dict, projection: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "styles": np.array(STYLES), "user_ids": users["ids"], "brand_ids": brands["ids"], "item_ids": items["ids"],
        "user_factors": users["factors"], "user_activity": users["activity"], "user_styles": users["styles"],
        "brand_factors": brands["factors"], "brand_popularity": brands["popularity"], "brand_style": brands["style"],
        "brand_tier": brands["tier"], "item_factors": items["factors"], "item_popularity": items["popularity"],
        "item_brand": items["brand"], "item_style": items["style"], "item_category": content["category"],
        "item_colour": content["colour"], "item_material": content["material"], "colours": np.array(COLOUR_NAMES),
        "colour_families": np.array([COLOURS[c] for c in COLOUR_NAMES]), "image_projection": projection,
        **attr_truth, **outfit_truth,
    }


def _manifest(name: str, size: str, seed: int, spec: DemoSize, catalogue: pd.DataFrame, interactions: pd.DataFrame,
              outfits: pd.DataFrame, customers: pd.DataFrame, attr_truth: dict, outfit_truth: dict,
              seconds: float) -> dict:
    events = interactions["event"].value_counts(normalize=True)
    return {
        "name": name,
        "description": f"Synthetic demo ({size}, seed {seed}): fashion shoppers, brands and items with planted "
                       "structure.",
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": "demo",
        "size": size,
        "seed": seed,
        "sizes": {"users": spec.users, "brands": spec.brands, "items": spec.items,
                  "interactions": int(len(interactions)), "outfits": int(outfits["outfit_id"].nunique()),
                  "customers": int(len(customers))},
        "planted": {
            "file": PLANTED,
            "factors": K,
            "styles": list(STYLES),
            "item_popularity": f"rank^-{ZIPF_EXPONENT} for the top {HEAD_SHARE:.0%} of items, rank^-{TAIL_EXPONENT} "
                               "beyond",
            "event_shares": {e: round(float(events.get(e, 0.0)), 4) for e in EVENTS},
            "period": {"start": START.isoformat(), "days": DAYS},
            "attribute_missing_rate": {a: round(float(r), 3) for a,
                                       r in zip(ATTRIBUTES, attr_truth["attr_missing_rate"])},
            "attribute_applies_to": {a: list(s["groups"]) for a, s in ATTRIBUTES.items()},
            "catalogue_errors": int(len(attr_truth["error_item"])),
            "outfit_rule": "one item per category group; all items share the outfit's style and division; "
                           "colours are neutral or in the outfit's accent family",
            "image_features": f"{IMAGE_DIM}-d linear projection of the item factors + category + colour + noise",
            "seconds": round(seconds, 2),
        },
    }
