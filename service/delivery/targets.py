"""Where a webhook may point: the public internet, not the service's own neighbourhood.

An admin who subscribes ``http://127.0.0.1:5432/`` or ``http://169.254.169.254/`` would
have the worker post events into the database port or the cloud's metadata service
(issue 14, item 6). :func:`check_webhook_target` refuses, by the address the URL leads
to, loopback, private, link-local (cloud metadata included), multicast, unspecified and
reserved addresses, and anything else that is not globally routable (shared address
space, documentation ranges…). A literal IP is checked as written; a name is resolved
and *every* address it resolves to must pass, so a name that points inside is caught, at
subscription and again at delivery time (a name may be changed to point inside after
it was accepted). IPv4 addresses written as IPv6 (``::ffff:127.0.0.1``) are checked as
the IPv4 address they carry.

``allow_private=True`` (``SRS_WEBHOOK_ALLOW_PRIVATE=true``) skips the address checks, for
receivers on a private network and for tests; the scheme and the host are still checked.

What this cannot close alone: a name that resolves to a public address when checked and
to a private one a moment later, when the HTTP client resolves it again (DNS rebinding).
The addresses returned are the ones checked, so a caller that connects to one of them
(sending the name as the ``Host`` header) closes that gap too.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, ...]]]

SCHEMES = ("http", "https")
# Why an address is refused, in the order they are tested (the first that applies).
REASONS = (
    ("unspecified", "is_unspecified", "the unspecified address"),
    ("loopback", "is_loopback", "a loopback address"),
    ("link_local", "is_link_local", "a link-local address"),
    ("multicast", "is_multicast", "a multicast address"),
    ("reserved", "is_reserved", "a reserved address"),  # before private, which includes it
    ("private", "is_private", "a private address"),
)


ALLOW_PRIVATE_VARIABLE = "SRS_WEBHOOK_ALLOW_PRIVATE"


def allow_private_from_environment() -> bool:
    """``SRS_WEBHOOK_ALLOW_PRIVATE=true`` lets webhooks point at private addresses."""
    value = os.environ.get(ALLOW_PRIVATE_VARIABLE, "").strip().lower()
    return value in {"1", "true", "yes", "on"}


class WebhookTargetRefused(ValueError):
    """A webhook URL the service will not post to.

    ``reason`` is a code (``scheme``, ``no_host``, ``unresolvable``, ``unspecified``,
    ``loopback``, ``link_local``, ``multicast``, ``private``, ``reserved``,
    ``not_global``); ``address`` the offending address, when there is one; the message
    says it in words.
    """

    def __init__(self, url: str, reason: str, message: str, address: str | None = None):
        self.url = url
        self.reason = reason
        self.address = address
        super().__init__(message)


def _refusal(address: Address) -> tuple[str, str] | None:
    """(reason code, words) if ``address`` may not be posted to, else None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for code, attribute, words in REASONS:
        if getattr(address, attribute):
            return code, words
    if not address.is_global:
        return "not_global", "not a globally routable address"
    return None


def _literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def check_address(url: str, address: Address) -> None:
    """Raise :class:`WebhookTargetRefused` if ``address`` may not be posted to."""
    refused = _refusal(address)
    if refused is not None:
        code, words = refused
        raise WebhookTargetRefused(
            url, code, f"The webhook URL leads to {address}, {words}.", address=str(address)
        )


def check_webhook_target(
    url: str,
    resolve: Resolver = socket.getaddrinfo,
    allow_private: bool = False,
) -> list[Address]:
    """Check a webhook URL; return the addresses checked (empty with ``allow_private``).

    Parameters
    ----------
    url:
        The subscription's URL.
    resolve:
        ``socket.getaddrinfo`` or a stand-in with its signature and answers.
    allow_private:
        Skip the address checks (``SRS_WEBHOOK_ALLOW_PRIVATE=true``).

    Raises
    ------
    WebhookTargetRefused
        If the scheme is not http(s), there is no host, the name does not resolve, or
        an address it leads to is not a public one.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError as error:
        message = f"The webhook URL is malformed: {error}."
        raise WebhookTargetRefused(url, "no_host", message) from None
    if parts.scheme.lower() not in SCHEMES:
        raise WebhookTargetRefused(url, "scheme", "A webhook URL must be http or https.")
    if not host:
        raise WebhookTargetRefused(url, "no_host", "The webhook URL names no host.")
    if allow_private:
        return []
    literal = _literal_address(host)
    if literal is not None:
        check_address(url, literal)
        return [literal]
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    try:
        answers = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise WebhookTargetRefused(
            url, "unresolvable", f"The webhook host {host!r} does not resolve ({error})."
        ) from None
    addresses: list[Address] = []
    for answer in answers:
        address = _literal_address(str(answer[4][0]))
        if address is not None and address not in addresses:
            addresses.append(address)
    if not addresses:
        raise WebhookTargetRefused(
            url, "unresolvable", f"The webhook host {host!r} resolves to no address."
        )
    for address in addresses:
        check_address(url, address)
    return addresses
