"""The `fluxa` command line: an edge like `api` and `workers`, so it may send tasks."""
