"""Features: interaction matrices, content features and splits."""
