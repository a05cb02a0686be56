"""Column names of Atelier's generic schemas, declared once."""

from __future__ import annotations


class Columns:
    """Names shared by every reader, model and service (external ids are always strings)."""

    user = "user_id"
    item = "item_id"
    brand = "brand_id"
    event = "event"
    weight = "weight"
    timestamp = "timestamp"

    name = "name"
    description = "description"
    brand_name = "brand"
    category = "category"
    price = "price"
    gender = "gender"
    image_url = "image_url"

    outfit = "outfit_id"

    score = "score"
    rank = "rank"


ATTRIBUTE_PREFIX = "attr_"

# Event types in increasing order of intent; the affinity model weights them (configurable).
EVENTS: tuple[str, ...] = ("view", "click", "wishlist", "add_to_bag", "order")
DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    "view": 1.0,
    "click": 1.5,
    "wishlist": 3.0,
    "add_to_bag": 4.0,
    "order": 8.0,
}

# Consent / suppression flags in the customers file; a true value removes the customer from exports.
SUPPRESSION_FLAGS: tuple[str, ...] = ("unsubscribed", "bounced", "test_account")


def attribute_columns(columns: list[str] | tuple[str, ...]) -> list[str]:
    """The `attr_<name>` columns of a catalogue, in their original order."""
    return [c for c in columns if c.startswith(ATTRIBUTE_PREFIX)]


def attribute_name(column: str) -> str:
    """`attr_sleeve_length` -> `sleeve_length`."""
    return column[len(ATTRIBUTE_PREFIX):] if column.startswith(ATTRIBUTE_PREFIX) else column
