"""SMS sender used by the IVR to send a full list the phone call only summarised."""
from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    async def send(self, to: str, text: str) -> None: ...


class LoggingSms:
    """Default: logs the message (wire a real SMS gateway in production, see docs/channels.md)."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, text: str) -> None:
        self.sent.append((to, text))
        log.info("sms to %s (%d chars): %s", to, len(text), text[:200])
