"""The history's parts: compact in-memory summaries (`blocks`) and its files on disk (`files`)."""
