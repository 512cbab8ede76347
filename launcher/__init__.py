"""Everything on one machine: embedded PostgreSQL, the SQS/S3 emulator, API, worker, beat."""
