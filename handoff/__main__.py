"""Operator listing: python -m handoff list [open|claimed|closed|all] ; python -m handoff show H...; claim H... agent.
python -m handoff redact: mask mobiles, ID numbers and proof answers in handoffs stored before masking existed."""
from __future__ import annotations

import sys

from handoff.service import claim_handoff, close_handoff, get_handoff, list_handoffs, redact_stored


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "list"
    if cmd == "list":
        status = argv[1] if len(argv) > 1 else "open"
        rows = list_handoffs(None if status == "all" else status)
        for h in rows:
            last = next((t["text"] for t in reversed(h.transcript) if t["who"] == "user"), "")
            print(f"{h.number}  {h.status:<7}  {h.created_at:%Y-%m-%d %H:%M}  {h.reason:<16}  "
                  f"{h.insurer or '-'}  {h.conversation_id}  “{last[:40]}”")
        print(f"{len(rows)} handoff(s)")
        return 0
    if cmd == "show" and len(argv) > 1:
        h = get_handoff(argv[1])
        if not h:
            print("not found")
            return 1
        print(f"{h.number} {h.status} {h.reason} {h.insurer or ''} {h.conversation_id}\nslots: {h.slots}")
        for t in h.transcript:
            print(f"  {t['who']:>4}: {t['text']}")
        return 0
    if cmd == "redact":
        print(f"{redact_stored()} handoff(s) masked")
        return 0
    if cmd in ("claim", "close") and len(argv) > 1:
        fn = claim_handoff if cmd == "claim" else close_handoff
        h = fn(argv[1], argv[2] if len(argv) > 2 else "operator")
        print(f"{h.number} -> {h.status}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
