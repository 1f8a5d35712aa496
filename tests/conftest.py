"""Shared fixtures: knowledge stores built from the manuals into temporary SQLite files, and the Rasa server
set several modules use (tests/servers.py)."""
from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.db import make_engine
from knowledge.ingest import build
from tests import servers as S

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


# -- Rasa server sets -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def dialogue_stack(kb_engine, tmp_path_factory):
    """S.DialogueStack (action server -> proxy -> Rasa) shared by test_e2e_dialogue and test_faults_dialogue;
    its .wait() starts it and waits for it."""
    if S.rasa_missing():
        pytest.skip(S.rasa_missing() or "")
    stack = S.DialogueStack(tmp_path_factory.mktemp("stack"), kb_engine.url.database)
    try:
        yield stack
    finally:
        stack.close()
