"""Small planted data for long-tail tests: item content reveals the latent taste factors users act on."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLOURS = ["black", "white", "red", "navy", "green", "beige", "pink", "grey"]
STYLES = ["classic", "sporty", "boho", "minimal", "street", "romantic"]
TYPES = ["dress", "shirt", "jeans", "jacket", "skirt", "sneaker"]


def planted_tables(n_users: int = 600, n_items: int = 400, n_interactions: int = 12000,
                   seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(interactions, catalogue): users pick items by style × type taste, Zipf popularity gives a long tail."""
    rng = np.random.default_rng(seed)
    style = rng.integers(len(STYLES), size=n_items)
    kind = rng.integers(len(TYPES), size=n_items)
    colour = rng.integers(len(COLOURS), size=n_items)
    item_ids = np.array([f"i{i:05d}" for i in range(n_items)])
    catalogue = pd.DataFrame({
        "item_id": item_ids,
        "name": [f"{COLOURS[c]} {STYLES[s]} {TYPES[t]}" for c, s, t in zip(colour, style, kind)],
        "description": [f"a {STYLES[s]} look in {COLOURS[c]}" for c, s in zip(colour, style)],
        "brand": [f"brand{(s * 3 + rng.integers(3))}" for s in style],
        "category": [TYPES[t] for t in kind],
        "price": np.round(rng.lognormal(4 + 0.2 * style, 0.3), 2),
    })
    user_style = rng.dirichlet(np.full(len(STYLES), 0.3), size=n_users)
    user_type = rng.dirichlet(np.full(len(TYPES), 0.5), size=n_users)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 1.1
    popularity = popularity[rng.permutation(n_items)]
    users = rng.integers(n_users, size=n_interactions)
    rows = []
    for u in np.unique(users):
        n = int((users == u).sum())
        p = user_style[u][style] * user_type[u][kind] * popularity
        rows.append(pd.DataFrame({"user_id": f"u{u:05d}",
                                  "item_id": item_ids[rng.choice(n_items, size=n, p=p / p.sum())]}))
    interactions = pd.concat(rows, ignore_index=True)
    interactions["brand_id"] = interactions["item_id"].map(dict(zip(item_ids, catalogue["brand"])))
    interactions["event"] = "view"
    interactions["weight"] = np.float32(1.0)
    interactions["timestamp"] = pd.NaT
    return interactions, catalogue
