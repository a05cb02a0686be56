"""The attribute family (kind "attributes"): multi-task attribute prediction from product text, type and price."""

# Nothing is imported here, as in core/models/complementary: import from the modules (params, model, evaluate ...).
