"""Throttling and lockout of identity checks, shared by the service API and the chat.

Every check of a proof of identity (policy number + holder's mobile / ID last four, ticket number + mobile)
is counted against keys: the subject (`policy:<number>`, `ticket:<number>`) and the client (the API caller's
address, the chat conversation). MAX_FAILURES failures of a key inside WINDOW lock that key for LOCK; while
it is locked every check is refused, the right answer too, so guessing the 10,000 ID endings is pointless.

State lives in Redis when THROTTLE_REDIS_URL (or CHANNELS_REDIS_URL) is set, else in the sec_throttle table of
the application database. Keys are stored hashed (no policy number or address in clear); every lockout is
written to sec_audit with a masked subject.

The client of the current request is a context variable: the API sets it per request (api.app), the action
server per action call (actions), so the stores need no new parameter.
"""
from __future__ import annotations

import hashlib
import logging
import os
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator, Optional

from sqlalchemy import Integer, String, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UtcDateTime, utc_now
from core.identity import PolicyError

log = logging.getLogger(__name__)


def _int_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name) or default)
    except ValueError:
        return default


@dataclass(frozen=True)
class Policy:
    max_failures: int = 5
    window: int = 15 * 60   # seconds in which failures add up
    lock: int = 15 * 60     # seconds a key stays locked

    @classmethod
    def from_env(cls, max_name: str = "THROTTLE_MAX_FAILURES", default_max: int = 5) -> "Policy":
        return cls(_int_env(max_name, default_max), _int_env("THROTTLE_WINDOW_SECONDS", 900),
                   _int_env("THROTTLE_LOCK_SECONDS", 900))


class VerificationLocked(PolicyError):
    code = "verification_locked"
    message = "核实失败次数过多，为保护您的信息，身份核实已暂停 {minutes} 分钟。请稍后再试，或转人工客服为您处理。"

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(self.message.format(minutes=max(1, -(-self.retry_after // 60))))


# -- the client of the current call ----------------------------------------------------------
_client: ContextVar[Optional[str]] = ContextVar("throttle_client", default=None)
_inside: ContextVar[bool] = ContextVar("throttle_inside", default=False)


@contextmanager
def client(key: str | None) -> Iterator[None]:
    """Count the checks made inside the block against this client too (`ip:1.2.3.4`, `chat:<sender>`)."""
    token = _client.set(key[:200] if key else None)
    try:
        yield
    finally:
        _client.reset(token)


def current_client() -> Optional[str]:
    return _client.get()


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def masked(key: str) -> str:
    """A key for the audit log: kind and the last four characters only."""
    kind, _, value = key.partition(":")
    return f"{kind}:…{value[-4:]}" if value else kind


# -- database backend ---------------------------------------------------------------------------
class ThrottleRow(Base):
    __tablename__ = "sec_throttle"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)   # sha256 of the key, truncated
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UtcDateTime, nullable=True)


class AuditRow(Base):
    __tablename__ = "sec_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    event: Mapped[str] = mapped_column(String(32))          # lockout
    subject: Mapped[str] = mapped_column(String(64))        # masked key
    client: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)  # masked client
    detail: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)


class DbBackend:
    def __init__(self, engine: Engine):
        self.engine, self._ready = engine, False

    def _tables(self) -> None:
        """Alembic 0002 creates the tables; a database not migrated yet (an action server started first)
        gets them on first use, so identity checks never break on a missing table."""
        if not self._ready:
            for model in (ThrottleRow, AuditRow):
                model.metadata.tables[model.__tablename__].create(self.engine, checkfirst=True)
            self._ready = True

    def reserve(self, key: str, policy: Policy, now: datetime) -> tuple[int, int]:
        """Count one attempt before it is checked: (attempts in this window, seconds still locked)."""
        self._tables()
        h = _hash(key)
        ins = (sqlite_insert if self.engine.dialect.name == "sqlite" else pg_insert)(ThrottleRow.metadata.tables[ThrottleRow.__tablename__])
        with Session(self.engine) as s, s.begin():
            s.execute(ins.values(key=h, failures=0, window_start=now).on_conflict_do_nothing())
            # a write first: it takes SQLite's write lock / PostgreSQL's row lock, so parallel requests queue
            s.execute(update(ThrottleRow).where(ThrottleRow.key == h).values(failures=ThrottleRow.failures))
            row = s.get(ThrottleRow, h, populate_existing=True)
            assert row is not None  # inserted above when missing
            if row.locked_until is not None and row.locked_until > now:
                return row.failures, int((row.locked_until - now).total_seconds()) + 1
            if row.locked_until is not None or (now - row.window_start).total_seconds() > policy.window:
                row.failures, row.window_start, row.locked_until = 0, now, None  # a new window
            row.failures += 1
            return row.failures, 0

    def release(self, key: str) -> None:
        """Take back a reservation (the attempt succeeded, or failed for another reason)."""
        with Session(self.engine) as s, s.begin():
            s.execute(update(ThrottleRow).where(ThrottleRow.key == _hash(key), ThrottleRow.failures > 0)
                      .values(failures=ThrottleRow.failures - 1))

    def lock(self, key: str, policy: Policy, now: datetime) -> bool:
        """Lock the key; True when it was not locked already."""
        with Session(self.engine) as s, s.begin():
            res = s.execute(update(ThrottleRow).where(
                ThrottleRow.key == _hash(key),
                (ThrottleRow.locked_until.is_(None)) | (ThrottleRow.locked_until <= now))
                .values(locked_until=now + timedelta(seconds=policy.lock)))
            return getattr(res, "rowcount", 0) > 0

    def reset(self, key: str) -> None:
        with Session(self.engine) as s, s.begin():
            row = s.get(ThrottleRow, _hash(key))
            if row is not None and not (row.locked_until and row.locked_until > utc_now()):
                s.delete(row)

    def audit(self, event: str, subject: str, client_key: str | None, detail: str) -> None:
        with Session(self.engine) as s, s.begin():
            s.add(AuditRow(event=event, subject=masked(subject), client=masked(client_key) if client_key else None,
                           detail=detail[:255]))


# -- Redis backend --------------------------------------------------------------------------------
class RedisBackend:
    def __init__(self, url: str, engine: Engine | None = None, prefix: str = "throttle:"):
        import redis

        self.redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
        self.prefix, self.engine = prefix, engine

    # lock still running -> {0, ms left}; else count the attempt (the window starts with the first)
    _RESERVE = """
    local left = redis.call('PTTL', KEYS[1])
    if left > 0 then return {0, left} end
    local n = redis.call('INCR', KEYS[2])
    if n == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
    return {n, 0}
    """

    def reserve(self, key: str, policy: Policy, now: datetime) -> tuple[int, int]:
        h = _hash(key)
        n, left = self.redis.eval(self._RESERVE, 2, self.prefix + "lock:" + h, self.prefix + "n:" + h, policy.window)
        return int(n), (int(left) // 1000 + 1 if int(left) > 0 else 0)

    def release(self, key: str) -> None:
        n = self.prefix + "n:" + _hash(key)
        if self.redis.decr(n) < 0:
            self.redis.delete(n)

    def lock(self, key: str, policy: Policy, now: datetime) -> bool:
        h = _hash(key)
        fresh = bool(self.redis.set(self.prefix + "lock:" + h, "1", ex=policy.lock, nx=True))
        if fresh:  # the count ends just before the lock does: counting starts again after it
            self.redis.pexpire(self.prefix + "n:" + h, max(1, policy.lock * 1000 - 50))
        return fresh

    def reset(self, key: str) -> None:
        self.redis.delete(self.prefix + "n:" + _hash(key))

    def audit(self, event: str, subject: str, client_key: str | None, detail: str) -> None:
        if self.engine is not None:  # the audit trail stays in the database
            DbBackend(self.engine).audit(event, subject, client_key, detail)


# -- the throttle ----------------------------------------------------------------------------------
class Throttle:
    """policy: for subjects (a policy or ticket number). client_policy: for clients, more lenient by default
    because several customers may share one address (an office, a mobile carrier's NAT)."""

    def __init__(self, backend, policy: Policy | None = None, client_policy: Policy | None = None):
        self.backend, self.policy = backend, policy or Policy.from_env()
        self.client_policy = client_policy or Policy.from_env("THROTTLE_CLIENT_MAX_FAILURES", 20)

    def check(self, subject: str) -> "_Attempt":
        """Context manager around one identity check of `subject` (e.g. `policy:P2024…`).

        The attempt is counted before the check runs (so a burst of parallel guesses cannot all slip in
        before the first failure is recorded), refused with VerificationLocked when the subject or the
        client is locked or has used its attempts; a wrong proof keeps the count and locks at the limit;
        a success clears the subject's count and gives the client its attempt back."""
        return _Attempt(self, subject)

    def _keys(self, subject: str) -> list[tuple[str, Policy]]:
        c = current_client()
        return [(subject, self.policy)] + ([(f"client:{c}", self.client_policy)] if c else [])

    def reserve(self, subject: str) -> list[tuple[str, Policy, int]]:
        now, left = utc_now(), 0
        held: list[tuple[str, Policy, int]] = []
        for key, policy in self._keys(subject):
            count, locked = self.backend.reserve(key, policy, now)
            if locked:
                left = locked
                break
            held.append((key, policy, count))
            if count > policy.max_failures:  # more attempts at once than allowed: lock now
                self._lock(key, policy, subject, now)
                left = policy.lock
                break
        if left:
            for key, _, _ in held:
                self.backend.release(key)
            raise VerificationLocked(left)
        return held

    def failed(self, subject: str, held) -> None:
        now = utc_now()
        for key, policy, count in held:
            if count >= policy.max_failures:
                self._lock(key, policy, subject, now)

    def _lock(self, key: str, policy: Policy, subject: str, now: datetime) -> None:
        if not self.backend.lock(key, policy, now):
            return
        log.warning("identity checks locked for %ss: %s (client %s)", policy.lock, masked(key),
                    masked(f"client:{current_client()}") if current_client() else "-")
        try:
            self.backend.audit("lockout", key, current_client(),
                               f"{policy.max_failures} failures; locked {policy.lock}s; subject {masked(subject)}")
        except Exception as exc:  # noqa: BLE001 - the lock holds even if the audit write fails
            log.error("lockout audit failed: %s", exc)

    def succeeded(self, subject: str, held) -> None:
        for key, _, _ in held:
            if key == subject:
                self.backend.reset(key)
            else:
                self.backend.release(key)

    def aborted(self, held) -> None:
        """The check failed for another reason (malformed input, database down): not a guess."""
        for key, _, _ in held:
            self.backend.release(key)


class _Attempt:
    """One identity check; nested checks (a ticket lookup verifying through the policy) count once."""

    def __init__(self, throttle: Throttle, subject: str):
        self.throttle, self.subject, self.token = throttle, subject, None
        self.held: list[tuple[str, Policy, int]] = []

    def __enter__(self):
        if _inside.get():
            return self
        self.held = self.throttle.reserve(self.subject)
        self.token = _inside.set(True)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.token is None:
            return False
        _inside.reset(self.token)
        if exc_type is None:
            self.throttle.succeeded(self.subject, self.held)
        elif _is_failure(exc):
            self.throttle.failed(self.subject, self.held)
        else:
            self.throttle.aborted(self.held)
        return False


def _is_failure(exc: BaseException | None) -> bool:
    """A wrong proof: the one refusal policies and tickets give for "not found or not yours"."""
    from core.identity import PolicyNotVerified

    if isinstance(exc, PolicyNotVerified):
        return True
    return getattr(exc, "code", None) == "ticket_not_found"


def make_throttle(engine: Engine, url: str | None = None) -> Throttle:
    url = url if url is not None else (os.environ.get("THROTTLE_REDIS_URL") or os.environ.get("CHANNELS_REDIS_URL"))
    return Throttle(RedisBackend(url, engine) if url else DbBackend(engine))
