"""Response and query schemas of the HTTP API (request bodies reuse fluxa's schemas)."""
