"""The stores the use cases work on, wired once: knowledge base, policy source, ticket service.

Created lazily on the application database; tests and deployments pass their own engines or sources.
"""
from __future__ import annotations

from typing import Any


class Services:
    def __init__(self, engine=None, kb_engine=None, policies=None, tickets=None, kb=None):
        self._engine, self._kb_engine = engine, kb_engine
        self._policies, self._tickets, self._kb = policies, tickets, kb

    @property
    def engine(self):
        if self._engine is None:
            from core.db import engine_for

            self._engine = engine_for()
        return self._engine

    @property
    def kb(self):
        if self._kb is None:
            from knowledge.query import KnowledgeBase

            self._kb = KnowledgeBase(self._kb_engine or self.engine)
        return self._kb

    @property
    def policies(self):
        """The policy source behind the identity-check throttle (assist.guard)."""
        if self._policies is None:
            from policies.source import DbPolicySource

            self._policies = DbPolicySource(self.engine)
        if not hasattr(self._policies, "throttle"):
            from assist.guard import guarded

            self._policies, _ = guarded(self.engine, self._policies)
        return self._policies

    @property
    def tickets(self):
        """The ticket service (verifying through the throttled policies), itself behind the throttle."""
        if self._tickets is None:
            self._tickets = ticket_service(self.engine, kb=self.kb, policies=self.policies)
        if not hasattr(self._tickets, "throttle"):
            from assist.guard import ThrottledTickets

            self._tickets = ThrottledTickets(self._tickets, self.policies.throttle)
        return self._tickets


def ticket_service(engine, *, kb, policies, **kw: Any):
    """A TicketService reading services and checking coverage with the knowledge base, verifying with the
    policy source and recording consumed uses on the policy."""
    from policies.source import record_usage
    from tickets.catalog import KbServiceCatalog
    from tickets.service import TicketService

    return TicketService(engine, catalog=kw.pop("catalog", None) or KbServiceCatalog(kb),
                         policies=policies, coverage=kb.coverage, usage_writer=record_usage, **kw)


_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        _services = Services()
    return _services


def configure(**kw) -> Services:
    """Replace the services (tests, or a deployment wiring its own policy source)."""
    global _services
    _services = Services(**kw)
    return _services
