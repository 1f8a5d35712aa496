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

from sqlalchemy import Integer, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
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
            for table in (ThrottleRow.__table__, AuditRow.__table__):
                table.create(self.engine, checkfirst=True)
            self._ready = True

    def locked_for(self, keys: list[str], now: datetime) -> int:
        self._tables()
        with Session(self.engine) as s:
            rows = s.scalars(select(ThrottleRow).where(ThrottleRow.key.in_([_hash(k) for k in keys]))).all()
        left = [(r.locked_until - now).total_seconds() for r in rows if r.locked_until and r.locked_until > now]
        return int(max(left)) + 1 if left else 0

    def fail(self, key: str, policy: Policy, now: datetime) -> bool:
        """Count a failure; True when this failure locks the key."""
        self._tables()
        try:
            return self._fail(_hash(key), policy, now)
        except IntegrityError:  # another process inserted the row first: count on its row
            return self._fail(_hash(key), policy, now)

    def _fail(self, h: str, policy: Policy, now: datetime) -> bool:
        with Session(self.engine) as s, s.begin():
            q = select(ThrottleRow).where(ThrottleRow.key == h)
            if self.engine.dialect.name != "sqlite":
                q = q.with_for_update()
            row = s.scalar(q)
            if row is None:
                row = ThrottleRow(key=h, failures=0, window_start=now)
                s.add(row)
            expired_lock = row.locked_until is not None and row.locked_until <= now
            if expired_lock or (row.locked_until is None and (now - row.window_start).total_seconds() > policy.window):
                row.failures, row.window_start, row.locked_until = 0, now, None  # a new window
            row.failures += 1
            if row.failures >= policy.max_failures and not (row.locked_until and row.locked_until > now):
                row.locked_until = now + timedelta(seconds=policy.lock)
                return True
            return False

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

    def locked_for(self, keys: list[str], now: datetime) -> int:
        pipe = self.redis.pipeline()
        for k in keys:
            pipe.pttl(self.prefix + "lock:" + _hash(k))
        left = [ms for ms in pipe.execute() if ms and ms > 0]
        return int(max(left) / 1000) + 1 if left else 0

    def fail(self, key: str, policy: Policy, now: datetime) -> bool:
        h = self.prefix + "n:" + _hash(key)
        pipe = self.redis.pipeline()
        pipe.incr(h)
        pipe.expire(h, policy.window, nx=True)
        n = pipe.execute()[0]
        if n >= policy.max_failures:
            if self.redis.set(self.prefix + "lock:" + _hash(key), "1", ex=policy.lock, nx=True):
                self.redis.delete(h)
                return True
        return False

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

        Refuses with VerificationLocked when the subject or the client is locked; counts a failure when
        the block raises one of `failures`; on success clears the subject's count (not the client's)."""
        return _Attempt(self, subject)

    def _keys(self, subject: str) -> list[str]:
        c = current_client()
        return [subject] + ([f"client:{c}"] if c else [])

    def before(self, subject: str) -> None:
        left = self.backend.locked_for(self._keys(subject), utc_now())
        if left:
            raise VerificationLocked(left)

    def failed(self, subject: str) -> None:
        now = utc_now()
        for key in self._keys(subject):
            policy = self.policy if key == subject else self.client_policy
            if self.backend.fail(key, policy, now):
                log.warning("identity checks locked for %ss: %s (client %s)", policy.lock, masked(key),
                            masked(f"client:{current_client()}") if current_client() else "-")
                try:
                    self.backend.audit("lockout", key, current_client(),
                                       f"{policy.max_failures} failures; locked {policy.lock}s; "
                                       f"subject {masked(subject)}")
                except Exception as exc:  # noqa: BLE001 - the lock holds even if the audit write fails
                    log.error("lockout audit failed: %s", exc)

    def succeeded(self, subject: str) -> None:
        self.backend.reset(subject)


class _Attempt:
    """One identity check; nested checks (a ticket lookup verifying through the policy) count once."""

    def __init__(self, throttle: Throttle, subject: str):
        self.throttle, self.subject, self.token = throttle, subject, None

    def __enter__(self):
        if _inside.get():
            return self
        self.throttle.before(self.subject)
        self.token = _inside.set(True)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.token is None:
            return False
        _inside.reset(self.token)
        if exc_type is None:
            self.throttle.succeeded(self.subject)
        elif _is_failure(exc):
            self.throttle.failed(self.subject)
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
