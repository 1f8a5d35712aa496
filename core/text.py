"""Customer text made safe to store and to look up: no lone surrogates (valid in JSON, refused by UTF-8
encoders and so by every database driver), no control characters but tab and newlines."""
from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def plain(value: object) -> str:
    """str(value) without lone surrogates and control characters."""
    return _UNSAFE.sub("", value if isinstance(value, str) else str(value))


def plain_json(value):
    """The same for every string inside a JSON-like value (dict keys included)."""
    if isinstance(value, str):
        return plain(value)
    if isinstance(value, dict):
        return {plain(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    return value
