"""The states an issue moves through, and the moves allowed between them.

    draft ──approve──> approved ──send──> sending ──> sent
      ^  <──edit────────┘  │                 │
      └─────────── cancel / expire ──────────┴──> cancelled | expired

A base module: the store checks a move inside the transaction that makes it (its UPDATE
is guarded by the state it read), and the issue stage plans with the same table.
"""

from __future__ import annotations

from briefing.errors import IssueStateError
from briefing.models import IssueState

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"approved", "cancelled", "expired"}),
    "approved": frozenset({"draft", "sending", "cancelled", "expired"}),
    "sending": frozenset({"sent", "approved"}),
    "sent": frozenset(),
    "cancelled": frozenset(),
    "expired": frozenset(),
}
OPEN_STATES = ("draft", "approved")


def check_transition(issue_id: int, current: str, target: IssueState) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise IssueStateError(issue_id, current, target)
