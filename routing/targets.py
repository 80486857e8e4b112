"""Delivery targets: a webhook URL or an e-mail address is checked when delivery.toml is loaded and again
before each send (an outbox row keeps the target it was queued with).

Webhooks: http or https only, a host, no credentials-free surprises (spaces, control characters); the host
must not be a link-local or cloud metadata address (169.254.0.0/16, fe80::/10, 169.254.169.254,
metadata.google.internal …) unless `allow_link_local_targets = true` — at send time the resolved
addresses are checked too, and the connected peer again before a byte is sent (checked_session). Private and loopback addresses are allowed: agencies may sit on the same
network, and tests use local receivers.
E-mail: one plain address (local@domain), nothing else in the header.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from email.headerregistry import Address
from urllib.parse import urlsplit

SCHEMES = ("http", "https")
METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                            "instance-data.ec2.internal"})
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16"))
UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")


class TargetError(ValueError):
    """A delivery target that must not be used; the message says why in a few words."""


def forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address may not receive deliveries (None: it may). Example: forbidden_address(ip("169.254.1.1"))."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified or address.is_multicast:
        return "not a unicast address"
    return None


def check_webhook(url: object, allow_link_local: bool = False) -> str:
    """The URL if a webhook may post to it, else TargetError. Example: check_webhook("https://a.ru/hook")."""
    if not isinstance(url, str) or not url:
        raise TargetError("not a URL (a non-empty string)")
    if UNSAFE_CHARS.search(url):
        raise TargetError("spaces or control characters in the URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetError(f"not a URL ({exc})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise TargetError(f"scheme {parts.scheme + ':' if parts.scheme else 'missing'}; only http and https")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetError("no host in the URL")
    if port == 0:
        raise TargetError("port 0")
    if not allow_link_local:
        reason = forbidden_host(host)
        if reason:
            raise TargetError(f"host {host} is {reason} (allow_link_local_targets = true in [defaults] allows it)")
    return url


def forbidden_host(host: str) -> str | None:
    """Why a host name or literal address may not receive deliveries, without resolving it (None: it may)."""
    if host.lower() in METADATA_HOSTS:
        return "a cloud metadata host"
    try:
        return forbidden_address(ipaddress.ip_address(host))
    except ValueError:
        return None


def check_resolved(url: str, allow_link_local: bool = False) -> None:
    """At send time: every address the webhook's host resolves to is allowed, else TargetError.

    A name that does not resolve passes here; the POST then fails and is retried.
    """
    if allow_link_local:
        return
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return
    for info in infos:
        reason = forbidden_address(ipaddress.ip_address(info[4][0].split("%")[0]))
        if reason:
            raise TargetError(f"host {parts.hostname} resolves to {reason}")


def check_email(address: object) -> str:
    """The address if mail may go to it: one local@domain, no display name, no line breaks; else TargetError.

    Example: check_email("dispatch@example.org")
    """
    if not isinstance(address, str) or not address:
        raise TargetError("not an e-mail address (a non-empty string)")
    if UNSAFE_CHARS.search(address):
        raise TargetError("spaces or control characters in the e-mail address")
    if address.count("@") != 1:
        raise TargetError("an e-mail address has exactly one @")
    local, domain = address.split("@")
    try:
        parsed = Address(username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise TargetError(f"not an e-mail address ({exc})") from None
    if not local or "." not in domain or domain.startswith(".") or ".." in domain or parsed.addr_spec != address:
        raise TargetError("not a plain e-mail address local@domain.tld")
    return address


def checked_session(allow_link_local: bool = False):
    """A requests session that refuses, after connecting and before sending a byte, a peer address that
    forbidden_address refuses: a name re-resolved between check_resolved and the POST (DNS rebinding) is
    caught too."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def checked(cls):
        class Checked(cls):
            def connect(self):
                super().connect()
                peer = self.sock.getpeername()[0] if self.sock is not None else None
                reason = peer and not allow_link_local and forbidden_address(ipaddress.ip_address(peer.split("%")[0]))
                if reason:
                    self.close()
                    raise TargetError(f"host {self.host} connected to {reason}")
        return Checked

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {
                "http": type("Pool", (HTTPConnectionPool,), {"ConnectionCls": checked(HTTPConnection)}),
                "https": type("Pools", (HTTPSConnectionPool,), {"ConnectionCls": checked(HTTPSConnection)})}

    session = requests.Session()
    session.mount("http://", Adapter())
    session.mount("https://", Adapter())
    return session
