"""Identity checks behind the throttle (core.throttle): the policy source and the ticket service as the
API and the chat see them. Wrong proofs count against the policy or ticket number and the client; a locked
key is refused with VerificationLocked (a PolicyError, and for tickets a TicketError too, so existing
error handling in the API and the chat shows its message)."""
from __future__ import annotations

from typing import Any

from core.identity import Verifier
from core.ids import ValidationError, normalize_policy_number
from core.throttle import Throttle, VerificationLocked
from tickets.service import TicketError, normalize_ticket_number


class TicketVerificationLocked(VerificationLocked, TicketError):
    """The lockout as the ticket side raises it (caught where TicketError is)."""


class ThrottledPolicies:
    def __init__(self, source, throttle: Throttle):
        self.source, self.throttle = source, throttle

    def get(self, policy_number: str, verifier: Verifier | None):
        try:
            subject = "policy:" + normalize_policy_number(policy_number)
        except ValidationError:
            return self.source.get(policy_number, verifier)  # malformed: refused without a lookup
        with self.throttle.check(subject):
            return self.source.get(policy_number, verifier)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)


class ThrottledTickets:
    def __init__(self, service, throttle: Throttle):
        self.service, self.throttle = service, throttle

    def _check(self, number: str):
        try:
            subject = "ticket:" + normalize_ticket_number(number)
        except (ValidationError, TicketError):
            subject = None
        return subject

    def _run(self, number: str, call):
        subject = self._check(number)
        if subject is None:
            return call()
        try:
            with self.throttle.check(subject):
                return call()
        except VerificationLocked as e:
            if isinstance(e, TicketError):
                raise
            raise TicketVerificationLocked(e.retry_after) from None

    def get_ticket(self, number: str, verifier: Verifier | None):
        return self._run(number, lambda: self.service.get_ticket(number, verifier))

    def cancel_ticket(self, number: str, verifier: Verifier | None, reason: str | None = None):
        return self._run(number, lambda: self.service.cancel_ticket(number, verifier, reason))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.service, name)


def guarded(engine, policies, tickets=None, throttle: Throttle | None = None):
    """(policies, tickets) behind one throttle on `engine` (or Redis when configured)."""
    from core.throttle import make_throttle

    throttle = throttle or make_throttle(engine)
    return ThrottledPolicies(policies, throttle), (ThrottledTickets(tickets, throttle) if tickets is not None
                                                   else None)
