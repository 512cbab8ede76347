"""Alembic environment: runs migrations online against the configured URL."""

from alembic import context
from sqlalchemy import create_engine, pool, text

# Serializes concurrent `fluxa setup` runs (several containers starting at once).
_MIGRATION_LOCK_ID = 0x466C7578  # "Flux"


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        # The session lock outlives this commit; ending the transaction the lock's SELECT
        # began lets each migration run in its own, and one that builds an index
        # CONCURRENTLY step outside any (alembic's autocommit_block).
        connection.commit()
        try:
            context.configure(connection=connection, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID})
            connection.commit()
    engine.dispose()


run_migrations_online()
