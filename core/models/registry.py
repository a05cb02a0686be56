"""Model families by kind: the one list the jobs, the artifact store, the CLI and the pages read."""

from __future__ import annotations

from core.errors import UnknownIdError
from core.models.affinity import AffinityModel
from core.models.attributes.model import AttributeModel
from core.models.complementary.model import ComplementaryModel
from core.models.family import ModelFamily
from core.models.long_tail import LongTailModel

# Each family's package adds its model class here as it adopts the contract (core/models/<family>/).
FAMILIES: dict[str, type[ModelFamily]] = {
    AffinityModel.kind: AffinityModel,
    LongTailModel.kind: LongTailModel,
    AttributeModel.kind: AttributeModel,
    ComplementaryModel.kind: ComplementaryModel,
}


def family(kind: str) -> type[ModelFamily]:
    """The model class of `kind`; UnknownIdError naming the known kinds otherwise."""
    try:
        return FAMILIES[kind]
    except KeyError:
        raise UnknownIdError(f"no model family '{kind}': known kinds are {sorted(FAMILIES)}") from None


def kinds() -> list[str]:
    """Every registered kind, sorted."""
    return sorted(FAMILIES)
