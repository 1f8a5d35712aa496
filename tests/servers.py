"""Start the real processes on free ports for end-to-end tests: action server (.venv, rasa_sdk),
Rasa server (.venv-rasa, `rasa run --enable-api`), channels gateway (uvicorn api.app:app), plus a tiny
HTTP proxy that can delay or refuse requests (a slow or dead action server).

Used by test_e2e_dialogue.py, test_scale_out.py and test_faults_dialogue.py. Logs go to var/log/<name>.log.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "assistant.tar.gz"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
PY = ROOT / ".venv" / "bin" / "python"
LOGS = ROOT / "var" / "log"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
PG_ADMIN_DSN = f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname=test connect_timeout=3"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def rasa_missing() -> str | None:
    """None when the trained model and the Rasa environment exist, else why not."""
    if not MODEL.exists():
        return f"no trained model at {MODEL} (bash scripts/train.sh)"
    if not RASA.exists():
        return f"no Rasa environment at {RASA}"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 240, poll: float = 0.25) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(poll)
    raise TimeoutError(url)


def base_env(database_url: str, **extra: str) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, "TF_CPP_MIN_LOG_LEVEL": "2",
            "OMP_NUM_THREADS": "1", **extra}


def _log(name: str, mode: str = "a"):
    LOGS.mkdir(parents=True, exist_ok=True)
    return open(LOGS / f"{name}.log", mode)


def start_actions(env: dict, port: int, log_name: str = "e2e_actions", wait: bool = True,
                  log_mode: str = "w") -> subprocess.Popen:
    proc = subprocess.Popen([str(PY), "-m", "actions", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=_log(log_name, log_mode), stderr=subprocess.STDOUT)
    if wait:
        wait_http(f"http://127.0.0.1:{port}/health", proc)
    return proc


def start_rasa(env: dict, port: int, endpoints: Path, log_name: str = "e2e_rasa",
               wait: bool = True, model: Path = MODEL) -> subprocess.Popen:
    proc = subprocess.Popen([str(RASA), "run", "--enable-api", "--model", str(model), "--port", str(port),
                             "--endpoints", str(endpoints), "--credentials", str(ROOT / "bot" / "credentials.yml"),
                             "-i", "127.0.0.1"],
                            cwd=ROOT, env=env, stdout=_log(log_name), stderr=subprocess.STDOUT)
    if wait:
        wait_rasa(port, proc)
    return proc


def wait_rasa(port: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    wait_http(f"http://127.0.0.1:{port}/status", proc, timeout)


def start_gateway(env: dict, port: int, log_name: str = "e2e_gateway") -> subprocess.Popen:
    """The service API with the channels (widget, IVR, WeChat) on `port`; env carries RASA_URL etc."""
    proc = subprocess.Popen([str(PY), "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=_log(log_name, "w"), stderr=subprocess.STDOUT)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc, 120)
    return proc


def stop_all(procs: list) -> None:
    """Stop several processes this module started: SIGTERM to all first, so that they shut down together."""
    running = [p for p in procs if p is not None and p.poll() is None]
    for proc in running:
        proc.terminate()
    for proc in running:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def stop(proc: subprocess.Popen | None, kill: bool = False) -> None:
    """Stop a process this module started (SIGTERM, or SIGKILL for a crash)."""
    if proc is None or proc.poll() is not None:
        return
    proc.kill() if kill else proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def endpoints_yaml(path: Path, action_url: str, tracker: dict, lock: dict | None = None) -> Path:
    """Write an endpoints file: action endpoint, tracker store and lock store (default in-memory)."""
    import yaml

    data = {"action_endpoint": {"url": action_url}, "tracker_store": tracker,
            "lock_store": lock or {"type": "in_memory"}}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# -- databases -------------------------------------------------------------------------------

def sqlite_app_db(tmp: Path, kb_path: str):
    """Copy of the built knowledge store + migrated + demo policies. Returns (url, engine, creds by number)."""
    from core.db import make_engine
    from migrations import upgrade_head
    from policies.seed import credentials, seed

    app_db = tmp / "app.db"
    with sqlite3.connect(kb_path) as src, sqlite3.connect(app_db) as dst:
        src.backup(dst)
    url = f"sqlite:///{app_db}"
    engine = make_engine(url)
    upgrade_head(engine)
    seed(engine)
    return url, engine, {c["number"]: c for c in credentials(engine)}


def pg_create(prefix: str) -> str:
    """A new, empty PostgreSQL database with a unique name; returns the name."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


def pg_drop(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_url(name: str) -> str:
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def pg_app_db(name: str):
    """Knowledge store built from the manuals + migrated + demo policies in database `name`."""
    from core.db import make_engine
    from knowledge.ingest import build
    from migrations import upgrade_head
    from policies.seed import credentials, seed

    engine = make_engine(pg_url(name))
    build(engine)
    upgrade_head(engine)
    seed(engine)
    return engine, {c["number"]: c for c in credentials(engine)}


def pg_tracker(name: str) -> dict:
    """The project's SQL tracker store (bot/tracker_store.py) on the local PostgreSQL (trust auth)."""
    return {"type": "bot.tracker_store.PrivateSQLTrackerStore", "dialect": "postgresql", "url": PG_HOST, "port": PG_PORT, "username": PG_USER,
            "password": "", "db": name}


def postgres_missing() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN):
            return None
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL not reachable: {exc.__class__.__name__}"


def redis_missing() -> str | None:
    try:
        import redis

        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=2).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"Redis not reachable: {exc.__class__.__name__}"


# -- server sets shared by several test modules (conftest.py starts them early) --------------------

class DialogueStack:
    """Action server -> DelayProxy -> Rasa with the trained model and a SQLite tracker store, on a private app
    database (store copy + migrated + demo policies). test_e2e_dialogue.py and test_faults_dialogue.py use the
    same one (conftest.py `dialogue_stack`); the proxy passes requests through unchanged unless a test sets
    `delay` or `down`. Both processes log to var/log/stack_{rasa,actions}.log, appending across restarts."""

    def __init__(self, tmp: Path, kb_path: str):
        self.tmp = tmp
        self.url, self.engine, self.creds = sqlite_app_db(tmp, kb_path)
        self.env = base_env(self.url)
        self.action_port, self.rasa_port = free_port(), free_port()
        self.proxy = DelayProxy(self.action_port)
        self.endpoints = endpoints_yaml(tmp / "endpoints.yml", f"http://127.0.0.1:{self.proxy.port}/webhook",
                                        {"type": "bot.tracker_store.PrivateSQLTrackerStore", "dialect": "sqlite",
                                         "db": str(tmp / "tracker.db")})
        self.rasa = RasaHttp(self.rasa_port)
        self.logs = {"rasa": LOGS / "stack_rasa.log", "actions": LOGS / "stack_actions.log"}
        self.actions_proc: subprocess.Popen | None = None
        self.rasa_proc: subprocess.Popen | None = None
        self.closed = False

    def start_actions(self, wait: bool = True) -> None:
        self.actions_proc = start_actions(self.env, self.action_port, "stack_actions", wait=wait, log_mode="a")

    def start_rasa(self, wait: bool = True) -> None:
        self.rasa_proc = start_rasa(self.env, self.rasa_port, self.endpoints, "stack_rasa", wait=wait)

    def start(self) -> "DialogueStack":
        """Both processes at once, without waiting (wait() does)."""
        self.start_actions(wait=False)
        self.start_rasa(wait=False)
        return self

    def wait(self) -> None:
        """Block until both answer; a process not started yet, or found dead (a test before crashed it), is
        started now."""
        if self.actions_proc is None or self.actions_proc.poll() is not None:
            self.start_actions(wait=False)
        if self.rasa_proc is None or self.rasa_proc.poll() is not None:
            self.start_rasa(wait=False)
        assert self.actions_proc and self.rasa_proc
        wait_http(f"http://127.0.0.1:{self.action_port}/health", self.actions_proc)
        wait_rasa(self.rasa_port, self.rasa_proc)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        stop_all([self.rasa_proc, self.actions_proc])
        self.proxy.close()
        self.engine.dispose()


class ScaleCluster:
    """Two Rasa servers and two action servers (behind a round-robin DelayProxy, like the nginx upstream)
    sharing a fresh PostgreSQL tracker store, a fresh PostgreSQL app store and one Redis lock store under a
    unique key prefix (test_scale_out.py; conftest.py `scale_cluster`). close() drops the databases and keys."""

    def __init__(self, tmp: Path):
        import redis

        self.prefix = f"scaletest{uuid.uuid4().hex[:8]}"  # Rasa wants an alphanumeric key prefix
        self.redis = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=0)
        self.tmp = tmp
        self.dbs: list[str] = []
        self.procs: list[subprocess.Popen] = []
        self.proxy: DelayProxy | None = None
        self.engine = None
        self.creds: dict = {}
        self.action_ports = [free_port(), free_port()]
        self.rasa_ports = [free_port(), free_port()]
        self.closed = False

    def start(self) -> "ScaleCluster":
        """Databases now; the four processes started without waiting (wait() does)."""
        tracker_db = pg_create("rasa_tracker_test")
        self.dbs.append(tracker_db)
        app_db = pg_create("app_scale_test")
        self.dbs.append(app_db)
        self.engine, self.creds = pg_app_db(app_db)
        env = base_env(pg_url(app_db))
        self.procs += [start_actions(env, p, f"scale_actions_{i}", wait=False) for i, p in enumerate(self.action_ports)]
        self.proxy = DelayProxy(self.action_ports)  # round robin over both action servers, like the nginx upstream
        endpoints = endpoints_yaml(
            self.tmp / "endpoints.yml", f"http://127.0.0.1:{self.proxy.port}/webhook", pg_tracker(tracker_db),
            {"type": "redis", "url": REDIS_HOST, "port": REDIS_PORT, "db": 0, "key_prefix": self.prefix})
        # started together: Rasa 3.6 tolerates two servers creating the tracker tables at once
        self.procs += [start_rasa(env, port, endpoints, f"scale_rasa_{n}", wait=False)
                       for port, n in zip(self.rasa_ports, "ab")]
        return self

    def wait(self) -> None:
        if not self.procs:
            self.start()
        for p, port in zip(self.procs[2:], self.rasa_ports):
            wait_rasa(port, p)
        for p, port in zip(self.procs[:2], self.action_ports):
            wait_http(f"http://127.0.0.1:{port}/health", p)

    def close(self) -> None:
        self.closed = True
        stop_all(list(reversed(self.procs)))
        self.procs = []
        if self.proxy:
            self.proxy.close()
            self.proxy = None
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None
        while self.dbs:
            pg_drop(self.dbs.pop())
        keys = list(self.redis.scan_iter(f"{self.prefix}:*"))
        if keys:
            self.redis.delete(*keys)


# -- talking to Rasa ----------------------------------------------------------------------------

class RasaHttp:
    """Client of one Rasa server: REST channel turns and the tracker API."""

    def __init__(self, port: int):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def raw(self, sender: str, text: str, insurer: str | None = None, timeout: float = 90) -> list[dict]:
        body = {"sender": sender, "message": text, "metadata": {"insurer": insurer} if insurer else {}}
        r = httpx.post(f"{self.base}/webhooks/rest/webhook", json=body, timeout=timeout)
        r.raise_for_status()
        return r.json()

    def say(self, sender: str, text: str, insurer: str | None = None) -> tuple[str, list[dict]]:
        out = self.raw(sender, text, insurer)
        return ("\n".join(m.get("text", "") for m in out if m.get("text")),
                [m["custom"]["answer"] for m in out if isinstance(m.get("custom"), dict) and "answer" in m["custom"]])

    def tracker(self, sender: str) -> dict:
        r = httpx.get(f"{self.base}/conversations/{sender}/tracker", timeout=30)
        r.raise_for_status()
        return r.json()

    def slots(self, sender: str) -> dict:
        return self.tracker(sender)["slots"]


def user_texts(tracker: dict) -> list[str]:
    return [e.get("text") for e in tracker.get("events") or [] if e.get("event") == "user"]


# -- a proxy in front of the action server ------------------------------------------------------

class DelayProxy:
    """HTTP/1.1 proxy on a free port in a background thread, round robin over `targets` (a port or a list, like
    an nginx upstream), one request at a time: kept-alive client connections work as with the real server.
    Each request waits `delay` seconds before it is forwarded; `down=True` closes a connection at its next
    request (and new ones at once), like a dead server; `stale=True` closes a connection that has carried a
    request when the next one arrives, unanswered, like a server that closed an idle kept-alive connection just
    as a request was sent. `requests` keeps each forwarded request (head and body), `connections` counts
    client connections."""

    def __init__(self, targets: int | list[int], delay: float = 0.0):
        self.targets = [targets] if isinstance(targets, int) else list(targets)
        self.delay, self.down, self.stale = delay, False, False
        self.requests: list[bytearray] = []
        self.port = free_port()
        self.connections = 0
        self._open: set = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()

    @staticmethod
    def _length(head: bytes) -> int | None:
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                return int(value.strip())
        return None

    async def _handle(self, reader, writer):
        self.connections += 1
        self._open.add(writer)
        try:
            for served in itertools.count():
                head = await reader.readuntil(b"\r\n\r\n")
                request = head + await reader.readexactly(self._length(head) or 0)
                if self.down or (self.stale and served):
                    break
                if self.delay:
                    await asyncio.sleep(self.delay)
                target = self.targets[len(self.requests) % len(self.targets)]
                self.requests.append(bytearray(request))
                up_r, up_w = await asyncio.open_connection("127.0.0.1", target)
                try:
                    up_w.write(request)
                    await up_w.drain()
                    head = await up_r.readuntil(b"\r\n\r\n")
                    length = self._length(head)
                    body = await (up_r.readexactly(length) if length is not None else up_r.read())
                finally:
                    up_w.close()
                writer.write(head + body)
                await writer.drain()
                if length is None:  # the reply ended with the upstream connection
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError, ValueError):
            pass
        finally:
            self._open.discard(writer)
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass

    def close(self):
        def _stop():
            self._server.close()
            self._loop.stop()
        self._loop.call_soon_threadsafe(_stop)
        self._thread.join(5)
