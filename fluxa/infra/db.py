"""Engine and transaction helpers; maps driver errors to Fluxa's error codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, MetaData, create_engine
from sqlalchemy import exc as sa_exc

from fluxa.errors import DBConnectionError

metadata = MetaData()

# SQLSTATEs worth retrying: serialization failure, deadlock, and the classes for
# connection exceptions (08), insufficient resources (53), operator intervention (57).
_TRANSIENT_SQLSTATES = {"40001", "40P01"}
_TRANSIENT_SQLSTATE_CLASSES = {"08", "53", "57"}


def make_engine(
    url: str, *, pool_size: int = 5, connect_timeout: int = 5, pre_ping: bool = True
) -> Engine:
    """An engine whose pool checks connections before use (they die when PostgreSQL restarts).

    The check is a round trip and, with psycopg, a transaction of its own on every
    checkout. Callers that retry `DBConnectionError` anyway (the workers) may go without:
    the first use of a dead connection fails, and SQLAlchemy then drops the whole pool.
    """
    return create_engine(
        url,
        pool_pre_ping=pre_ping,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=connect_timeout,
        connect_args={"connect_timeout": connect_timeout, "application_name": "fluxa"},
    )


def libpq_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (`postgresql+psycopg://…`), for psycopg and psql."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def is_transient(exc: BaseException) -> bool:
    """Whether a SQLAlchemy error is one that a later attempt may not meet."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    return sqlstate in _TRANSIENT_SQLSTATES or sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES


@contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise transient database failures as `DBConnectionError`."""
    try:
        yield
    except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
        if is_transient(exc):
            raise DBConnectionError(f"database unavailable: {type(exc).__name__}") from exc
        raise


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction, committed on success; transient failures become `DBConnectionError`."""
    with translated_errors(), engine.begin() as connection:
        yield connection
