"""The help-desk tickets of an account: the sample resource that /api/v2/tickets guards
with scopes (INTERFACE.md section 3). Not part of OAuth; kept apart from model.py, whose
records every layer shares."""

from __future__ import annotations

from dataclasses import dataclass

TICKET_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")


@dataclass(frozen=True, slots=True)
class Ticket:
    """A support ticket: the resource /api/v2/tickets guards with scopes."""

    id: int
    account_id: int
    requester_id: int
    subject: str
    description: str
    status: str  # one of TICKET_STATUSES
    priority: str | None  # one of TICKET_PRIORITIES
    created_at: float
    updated_at: float
