"""Learning from handoffs: agents link a ticket to the FAQ entry that answers it; editors accept the phrasing."""
