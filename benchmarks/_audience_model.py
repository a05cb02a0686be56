"""An affinity model for a demo workspace from its planted truth, shaped like a trained one (for page benchmarks)."""

# Training the affinity model on the 1M-customer demo takes tens of minutes (issue 17); a page benchmark needs
# only a model of the real shape: every customer and brand, the default number of factors. The planted factors
# fill the first columns (so audiences and "why" look like the data's), seeded noise the rest.

from __future__ import annotations

import numpy as np

from core.data.idmap import IdMap
from core.data.workspace import Workspace
from core.models.affinity import AffinityModel
from core.models.affinity.params import AffinityParams


def planted_affinity_model(ws: Workspace, seed: int = 0) -> AffinityModel:
    """AffinityModel over the planted users and brands of `ws` (its planted.npz), with AffinityParams' n_factors."""
    d = AffinityParams().n_factors
    with np.load(ws.planted_path, allow_pickle=False) as truth:
        users, brands = truth["user_ids"].astype(object), truth["brand_ids"].astype(object)
        user_truth, brand_truth = truth["user_factors"], truth["brand_factors"]
        popularity = truth["brand_popularity"]
    rng = np.random.default_rng(seed)
    k = min(d, user_truth.shape[1])
    user_factors = (rng.standard_normal((len(users), d), dtype=np.float32) * 0.05)
    brand_factors = (rng.standard_normal((len(brands), d), dtype=np.float32) * 0.05)
    user_factors[:, :k], brand_factors[:, :k] = user_truth[:, :k], brand_truth[:, :k]
    brand_bias = np.log1p(np.asarray(popularity, dtype=np.float64)).astype(np.float32)
    return AffinityModel(IdMap(users), IdMap(brands), user_factors, brand_factors,
                         np.zeros(len(users), np.float32), brand_bias - brand_bias.mean())
