"""Shared helpers for API tests: an app on a temp SQLite store with the demo policies, and error checks.

Use from a test module with `from tests.api_fixtures import api, err  # noqa: F401` (the fixture is
session-scoped: the knowledge store is built once per session by conftest's kb_engine).
"""
from __future__ import annotations

import os
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from policies.seed import credentials, seed

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@contextmanager
def api_client(url: str, raise_server_exceptions: bool = True) -> Iterator[TestClient]:
    """A started app (lifespan run: schema at head) on `url`, seeded with the demo policies;
    client.creds maps policy number -> holder credentials. DATABASE_URL points at `url` meanwhile,
    so code that opens the default engine sees the same database."""
    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        from api.app import create_app

        app = create_app(url)
        with TestClient(app, raise_server_exceptions=raise_server_exceptions) as client:
            seed(app.state.engine)
            with app.state.engine.begin() as conn:  # identity-check lockouts of earlier tests on this database
                conn.execute(text("DELETE FROM sec_throttle"))
            client.creds = {c["number"]: c for c in credentials(app.state.engine)}
            yield client
    finally:
        if old is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = old


def copy_sqlite(engine, dest: Path) -> str:
    """Copy a SQLite store (e.g. conftest's kb_engine) to `dest`; returns its URL. Lets a test damage
    its own database without touching the shared one."""
    src = sqlite3.connect(engine.url.database)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{dest}"


@pytest.fixture(scope="session")
def api(kb_engine):
    """App on a temp SQLite file holding the full knowledge store (built once per session), pol_/tkt_
    tables from the Alembic migration, and the demo policies."""
    with api_client(kb_engine.url.render_as_string(hide_password=False)) as client:
        yield client


def err(r, status: int, code: str | None = None) -> dict:
    """The JSON error body of a response: status, {"error": {"code", "message"}}, Chinese message."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and isinstance(body["error"]["code"], str), body
    if code is not None:
        assert body["error"]["code"] == code, body
    assert CHINESE.search(body["error"]["message"]), body  # Chinese for the customer
    return body["error"]


def assert_json_error(r) -> dict:
    """Any 4xx/5xx: the JSON error format with a Chinese message."""
    return err(r, r.status_code)
