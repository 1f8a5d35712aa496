"""Log lines never carry a mobile number or an ID number: every record's message is masked (core.ids.redact)
when it is made, whichever logger or handler writes it. Installed by the gateway and the action server."""
from __future__ import annotations

import logging

from core.ids import redact

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's own problem to report
            return record
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
