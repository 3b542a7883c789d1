"""The address a request is counted under: the client (behind trusted proxies), IPv6 grouped by /64, pseudonymised.

An IPv6 client usually holds a whole /64 and can rotate through it freely, so one /64 is one address here.
Behind a reverse proxy every request comes from the proxy; with ``AUSKUNFT_TRUSTED_PROXIES`` the address the
proxy appended to ``X-Forwarded-For`` is used instead (the right-most one that is not a trusted proxy itself).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from typing import List, Optional, Sequence, Union

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


def parse_networks(text: str) -> List[Network]:
    """Comma-separated addresses or networks, e.g. ``127.0.0.1, 10.0.0.0/8, fd00::/8``.

    Raises:
        ValueError: an entry is not an address or network (the message names it).
    """
    networks = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network such as 10.0.0.0/8 or fd00::/8") from None
    return networks


def _address(text: str) -> Optional[Address]:
    try:
        found = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def client_address(peer: Optional[str], forwarded_for: Optional[str], trusted: Sequence[Network]) -> str:
    """The client's address: ``peer`` itself, or behind trusted proxies the last untrusted ``X-Forwarded-For`` hop.

    Args:
        peer: the address the connection came from (``request.client.host``); None in some test clients.
        forwarded_for: the ``X-Forwarded-For`` header, if any (ignored unless ``peer`` is a trusted proxy).
        trusted: the proxies whose ``X-Forwarded-For`` is believed.
    """
    address = _address(peer or "")
    if address is None:
        return peer or "unknown"

    def is_trusted(candidate: Address) -> bool:
        return any(candidate.version == net.version and candidate in net for net in trusted)

    if forwarded_for and is_trusted(address):
        for hop in reversed(forwarded_for.split(",")):
            found = _address(hop)
            if found is None:
                break  # a forged or broken entry: stop at the last hop we can vouch for
            address = found
            if not is_trusted(found):
                break
    return str(address)


def group(address: str) -> str:
    """The address as it is counted: an IPv6 address as its /64 network, anything else as it is."""
    found = _address(address)
    if isinstance(found, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(found) >> 64 << 64, 64)))
    return str(found) if found is not None else address


def pseudonym(grouped: str, secret: str) -> str:
    """A keyed hash of the grouped address, so the counter store never holds a citizen's IP address."""
    return hmac.new(secret.encode(), grouped.encode(), hashlib.sha256).hexdigest()[:24]
