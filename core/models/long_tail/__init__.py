"""The long-tail family (kind "long_tail"): ALS item vectors, content-predicted ones for the tail, and their blend."""

from core.models.long_tail.data import LongTailData
from core.models.long_tail.model import MAP_SPACES, LongTailModel
from core.models.long_tail.params import EvalParams, LongTailParams

__all__ = ["EvalParams", "LongTailData", "LongTailModel", "LongTailParams", "MAP_SPACES"]
