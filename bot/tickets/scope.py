"""Which tickets a member of staff may see: their departments and their agencies, as one query filter.

Every inbox query (queue, live events, analytics, CSV export) narrows its ``select`` with :func:`restrict`,
and every single ticket (by case number) is checked with :meth:`TicketScope.allows`, so the rule lives here only.
A ticket without an agency (widgets without ``data-agency``, older rows) belongs to the deployment's default
agency. ``None`` for either part means "all" (managers see every department; accounts without agencies every
agency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

from sqlalchemy import or_
from sqlalchemy.sql import Select

from bot.tickets.models import Ticket


@dataclass(frozen=True)
class TicketScope:
    """The tickets one member of staff works on.

    Attributes:
        departments: department keys; None = every department (managers).
        agencies: agency keys; None = every agency (single-agency deployments, the deployment's administrators).
        default_agency: the key of the agency that tickets without an agency belong to.
    """

    departments: Optional[Tuple[str, ...]] = None
    agencies: Optional[Tuple[str, ...]] = None
    default_agency: str = "default"

    def narrowed(self, department: str) -> "TicketScope":
        """The same scope for one of its departments only (a queue filter)."""
        return TicketScope((department,), self.agencies, self.default_agency)

    def allows(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` is in this scope (department and agency)."""
        if self.departments is not None and ticket.department not in self.departments:
            return False
        return self.agencies is None or (ticket.agency or self.default_agency) in self.agencies

    def where(self, query: Select) -> Select:
        """``query`` (over :class:`Ticket`) narrowed to this scope."""
        if self.departments is not None:
            query = query.where(Ticket.department.in_(list(self.departments)))
        if self.agencies is not None:
            held = Ticket.agency.in_(list(self.agencies))
            query = query.where(or_(held, Ticket.agency.is_(None)) if self.default_agency in self.agencies else held)
        return query


Scope = Union[TicketScope, Sequence[str], None]
"""What the query functions accept: a :class:`TicketScope`, department keys only, or None (everything)."""


def as_scope(scope: Scope) -> TicketScope:
    """``scope`` as a :class:`TicketScope` (a list of department keys stays a department filter only)."""
    if isinstance(scope, TicketScope):
        return scope
    return TicketScope(None if scope is None else tuple(scope))


def restrict(query: Select, scope: Scope) -> Select:
    """``query`` (over :class:`Ticket`) narrowed to ``scope``."""
    return as_scope(scope).where(query)
