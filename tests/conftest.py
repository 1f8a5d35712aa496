"""Shared fixtures: knowledge stores built from the manuals into temporary SQLite files."""
from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.db import make_engine
from knowledge.ingest import build

_cache: dict = {}


@pytest.fixture(scope="session")
def kb_only(tmp_path_factory):
    """kb_only("000") -> engine of a store holding only that manual (built once per session)."""

    def get(*prefixes: str):
        key = tuple(sorted(prefixes))
        if key not in _cache:
            path = tmp_path_factory.mktemp("kb") / "kb.db"
            engine = make_engine(f"sqlite:///{path}")
            report = build(engine, only=set(prefixes) or None)
            _cache[key] = (engine, report)
        return _cache[key][0]

    return get


@pytest.fixture(scope="session")
def kb_engine(kb_only):
    """Engine of the full store (all manuals)."""
    return kb_only()


@pytest.fixture
def kb_session(kb_engine):
    with Session(kb_engine) as s:
        yield s
