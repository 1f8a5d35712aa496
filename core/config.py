"""Runtime configuration, read from the environment with embedded defaults."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("APP_VAR_DIR", ROOT / "var"))


def database_url() -> str:
    """SQLAlchemy URL of the application database (SQLite file by default)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{VAR_DIR / 'app.db'}"


MANUALS_DIR = ROOT / "knowledge" / "manuals"
MANIFEST = MANUALS_DIR / "manifest.yaml"
