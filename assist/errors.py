"""The one error type of the application layer: a stable code, a Chinese message, an HTTP-like status.

The API turns it into its JSON error body; the chat says the message."""
from __future__ import annotations


class AssistError(Exception):
    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
