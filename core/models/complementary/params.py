"""Hyper-parameters of the complementary-pair model: frozen, typed, validated, a JSON round trip."""

from __future__ import annotations

from dataclasses import dataclass

from core.models.family import FamilyParams, check

KIND = "complementary"  # the job kind and the artifact kind; here so a service can name it without loading torch
FUSIONS = ("concat", "max", "min", "sum", "avg", "mul")


@dataclass(frozen=True)
class ComplementaryParams(FamilyParams):
    """Hyper-parameters; a saved version records them, so it says how it was made."""

    dim: int = 64  # item embedding size
    field_dim: int = 16  # per categorical field
    hidden: int = 128
    epochs: int = 10
    batch_size: int = 1024
    lr: float = 3e-3
    weight_decay: float = 1e-6
    negatives_per_positive: int = 2  # type-aware negatives per co-outfit pair and epoch
    label_weight: float = 3.0  # a stylist label counts this many sampled pairs
    use_image: bool = True  # the workspace's image vectors, when it has them, feed the encoder
    use_item_ids: bool = True  # a learned vector per item seen in training outfits (content still carries new items)
    id_dim: int = 32
    id_dropout: float = 0.25  # share of training rows whose id vectors are hidden so content learns on its own
    fusion: tuple[str, ...] = ("concat", "max", "min", "sum", "avg")
    text_buckets: int = 4096
    max_positive_pairs: int = 400_000  # cap on co-outfit pairs per epoch (large outfit files)
    seed: int = 42
    threads: int = 1  # 2 threads stall 10-20x on a busy shared machine (OpenMP barriers); this model is small

    def __post_init__(self) -> None:
        object.__setattr__(self, "fusion", tuple(self.fusion))  # a list from code compares equal after a round trip
        bad = [f for f in self.fusion if f not in FUSIONS]
        check(self, [f"fusion must be a non-empty subset of {FUSIONS}, got {list(self.fusion)}"] if bad
              or not self.fusion
              else [])
