"""Reading, validating and generating data: schemas, readers per source format, id maps, workspaces."""
