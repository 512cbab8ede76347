"""Events: validation, hashing, ingest (API side), processing (worker side), storage."""
