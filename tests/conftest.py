"""Shared fixtures: knowledge stores built from the manuals into temporary SQLite files, and the Rasa server
sets several modules use (tests/servers.py), started early in the background."""
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
# Loading the model takes Rasa about half a minute to a minute of one core. When selected tests use the sets
# below, the first set is started (not waited for) at the session's first test, so that loading overlaps with
# the tests that need no Rasa; each set is stopped after the last test that uses it, and the next set is
# started then. One set loads at a time: more at once only take the CPU from the tests running meanwhile.
# The modules' own fixtures wait for the set (and start it if it is not started yet).
_last_user: dict[str, str] = {}
_sets: dict[str, object] = {}
_pending: list[str] = []


@pytest.fixture(scope="session")
def dialogue_stack(kb_engine, tmp_path_factory):
    """S.DialogueStack (action server -> proxy -> Rasa) shared by test_e2e_dialogue and test_faults_dialogue;
    call .wait() before use."""
    if S.rasa_missing():
        pytest.skip(S.rasa_missing() or "")
    stack = S.DialogueStack(tmp_path_factory.mktemp("stack"), kb_engine.url.database)
    _sets["dialogue_stack"] = stack
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="session")
def scale_cluster(tmp_path_factory):
    """S.ScaleCluster (two Rasa, two action servers, PostgreSQL, Redis) for test_scale_out; call .wait()."""
    missing = S.rasa_missing() or S.postgres_missing() or S.redis_missing()
    if missing:
        pytest.skip(missing)
    cluster = S.ScaleCluster(tmp_path_factory.mktemp("scale"))
    _sets["scale_cluster"] = cluster
    try:
        yield cluster
    finally:
        cluster.close()


def _start_next() -> None:
    while _pending:
        name = _pending.pop(0)
        obj = _sets.get(name)
        if obj is None or obj.closed:  # type: ignore[attr-defined]
            continue
        try:
            obj.start()  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001
            pass  # the set's wait() starts it again in the test that needs it and reports the error there
        return


@pytest.fixture(scope="session", autouse=True)
def _start_servers_early(request):
    items = request.session.items
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        for name in ("dialogue_stack", "scale_cluster"):
            if name in getattr(item, "fixturenames", ()):
                first.setdefault(name, i)
                _last_user[name] = item.nodeid
    for name in sorted(first, key=first.get):  # type: ignore[arg-type]
        try:
            request.getfixturevalue(name)
        except (Exception, pytest.skip.Exception):
            continue  # pytest keeps the skip or error and gives it to the tests that use the set
        _pending.append(name)
    _start_next()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """After a set's last test (and that test's own fixtures): stop the set and start the next one."""
    if nextitem is None:
        return  # the session's finalizers stop them
    for name, nodeid in _last_user.items():
        if item.nodeid == nodeid and name in _sets:
            _sets.pop(name).close()  # type: ignore[attr-defined]
            _start_next()
