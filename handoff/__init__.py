"""Human handoff: a conversation the assistant hands to an agent, with the conversation so far.

    from handoff import create_handoff, list_handoffs, claim_handoff, close_handoff
    python -m handoff list            # what operators see: open handoffs, oldest first
"""
from handoff.service import (HandoffView, claim_handoff, close_handoff, create_handoff, ensure_schema,
                             get_handoff, list_handoffs)

__all__ = ["HandoffView", "create_handoff", "list_handoffs", "claim_handoff", "close_handoff", "get_handoff",
           "ensure_schema"]
