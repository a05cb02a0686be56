"""Database of what people decide: model versions, jobs, campaigns, reviews, labels, imports, audit."""
