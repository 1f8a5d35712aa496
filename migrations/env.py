"""Alembic environment: pol_ and tkt_ tables only (kb_ tables belong to `python -m knowledge build`)."""
from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import MetaData

import policies  # noqa: F401  registers pol_ tables
import tickets  # noqa: F401  registers tkt_ tables
import core.throttle  # noqa: F401  registers sec_ tables
from core.config import database_url
from core.db import Base, make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

PREFIXES = ("pol_", "tkt_", "sec_")


def owned_metadata() -> MetaData:
    md = MetaData()
    for name, table in Base.metadata.tables.items():
        if name.startswith(PREFIXES):
            table.to_metadata(md)
    return md


target_metadata = owned_metadata()


def include_name(name, type_, parent_names):
    if type_ == "table":
        return name is None or name.startswith(PREFIXES)
    return True


def _configure(**kw):
    context.configure(target_metadata=target_metadata, include_name=include_name, compare_type=True,
                      render_as_batch=True, **kw)


def run_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url") or database_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or database_url())
    try:
        with engine.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
