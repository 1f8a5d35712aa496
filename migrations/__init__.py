"""Schema migrations for pol_ and tkt_ tables; `upgrade_head()` is what `make run` and tests call.

    python -m migrations            # upgrade the application database (DATABASE_URL or var/app.db)
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(HERE.parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["configure_logging"] = False
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_head(target: Engine | str | None = None) -> None:
    """Create or upgrade the pol_/tkt_ tables to the newest revision (idempotent)."""
    if isinstance(target, Engine):
        cfg = alembic_config()
        with target.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    else:
        command.upgrade(alembic_config(target), "head")
