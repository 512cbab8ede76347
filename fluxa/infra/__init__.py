"""The edges: PostgreSQL (engine, transactions, leases), AWS clients, S3 objects, SQS queue
topology and provisioning. Third-party errors become Fluxa's here."""
