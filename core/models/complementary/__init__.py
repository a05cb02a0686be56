"""The complementary-pair family (kind "complementary"): a Siamese content encoder scoring which items go together."""

# Nothing is imported here: `core.models.complementary.params` must stay importable without torch (the labelling
# page and its workers build params but never a network); the model lives in `core.models.complementary.model`.
