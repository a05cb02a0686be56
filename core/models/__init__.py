"""Models: affinity, embeddings, attributes and complementary pairs, on arrays and DataFrames."""
