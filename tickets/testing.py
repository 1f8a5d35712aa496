"""Throw-away databases for tests: a SQLite file or a uniquely named PostgreSQL database,
migrated to head, dropped afterwards."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy.engine import Engine

from core.db import make_engine

PG_ADMIN_DSN = os.environ.get("TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3")


def postgres_reachable() -> str | None:
    """None when reachable, else the reason."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable ({PG_ADMIN_DSN}): {exc.__class__.__name__}: {str(exc).strip()[:120]}"


@contextmanager
def temp_database(kind: str, tmp_dir: Path | None = None, migrate: bool = True) -> Iterator[Engine]:
    """kind: sqlite | postgres. Yields an engine on an empty database (pol_/tkt_ at head when migrate)."""
    from migrations import upgrade_head

    if kind == "sqlite":
        base = Path(tmp_dir or "/tmp")
        path = base / f"tkt_{uuid.uuid4().hex[:12]}.db"
        engine = make_engine(f"sqlite:///{path}")
        try:
            if migrate:
                upgrade_head(engine)
            yield engine
        finally:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if kind != "postgres":
        raise ValueError(kind)
    import psycopg

    name = f"tkt_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        host = admin.info.host
        port = admin.info.port
        user = admin.info.user
    engine = make_engine(f"postgresql+psycopg://{user}@{host}:{port}/{name}")
    try:
        if migrate:
            upgrade_head(engine)
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
