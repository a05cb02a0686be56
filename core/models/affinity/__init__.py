"""The affinity family (kind "affinity"): bi-directional LightFM WARP brand affinity for users and for brands."""

from core.models.affinity.data import AffinityData
from core.models.affinity.model import AffinityModel, TrainingSummary
from core.models.affinity.params import AffinityParams

__all__ = ["AffinityData", "AffinityModel", "AffinityParams", "TrainingSummary"]
