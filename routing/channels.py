"""Senders: signed JSON webhook (requests) and e-mail (smtplib). Secrets come from the environment only.

TSUR_WEBHOOK_SECRET  HMAC-SHA256 key: X-Tsur-Signature = "sha256=" + hex(hmac(secret, f"{timestamp}.{body}"))
TSUR_SMTP_URL        smtp://user@host:port (plain or STARTTLS with ?starttls=1) or smtps://user@host:port
TSUR_SMTP_PASSWORD   SMTP password (or in the URL); TSUR_SMTP_FROM the sender (default tsur-monitor@localhost)
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import smtplib
import time
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from routing.errors import DeliveryConfigError
from routing.targets import TargetError, check_email, check_resolved, check_webhook, checked_session

USER_AGENT = "tsur-monitor-delivery/1"


class SendFailed(Exception):
    """One attempt failed; `permanent` failures are not retried."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a webhook body."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def host(url: str) -> str:
    """Host and port of a URL without any user:password. Example: host("https://u:p@a.ru:8443/x") == "a.ru:8443"."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def send_webhook(url: str, key: str, payload: dict[str, Any], timeout: float, allow_link_local: bool = False) -> None:
    """POST the payload as JSON with the idempotency key and an HMAC signature; redirects are not followed
    (the signed body and its signature go to the configured address only)."""
    try:
        check_webhook(url, allow_link_local)
        check_resolved(url, allow_link_local)
    except TargetError as exc:
        raise SendFailed(f"webhook {host(url)}: {exc}", permanent=True) from None
    secret = os.environ.get("TSUR_WEBHOOK_SECRET")
    if not secret:
        raise DeliveryConfigError("TSUR_WEBHOOK_SECRET is not set: webhooks are signed, set it to the shared secret")
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key, "User-Agent": USER_AGENT,
               "X-Tsur-Timestamp": stamp, "X-Tsur-Signature": sign(secret, stamp, body)}
    try:
        with checked_session(allow_link_local) as session:
            response = session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except TargetError as exc:  # the name resolved to a refused address after check_resolved (DNS rebinding)
        raise SendFailed(f"webhook {host(url)}: {exc}", permanent=True) from None
    except requests.RequestException as exc:
        raise SendFailed(f"webhook {host(url)}: {type(exc).__name__}") from None
    if 300 <= response.status_code < 400:
        raise SendFailed(f"webhook {host(url)}: HTTP {response.status_code}, redirect to another address not followed")
    if response.status_code >= 300:
        permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 409, 425, 429)
        raise SendFailed(f"webhook {host(url)}: HTTP {response.status_code}", permanent)


def smtp_settings() -> dict[str, Any]:
    """Host, port, TLS mode and credentials from TSUR_SMTP_URL / TSUR_SMTP_PASSWORD."""
    url = os.environ.get("TSUR_SMTP_URL")
    if not url:
        raise DeliveryConfigError("TSUR_SMTP_URL is not set: e-mail delivery needs smtp[s]://user@host:port")
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise DeliveryConfigError("TSUR_SMTP_URL must look like smtp://user@host:port or smtps://user@host:port")
    password = os.environ.get("TSUR_SMTP_PASSWORD") or (unquote(parts.password) if parts.password else None)
    return {"host": parts.hostname, "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "ssl": parts.scheme == "smtps", "starttls": parse_qs(parts.query).get("starttls") == ["1"],
            "user": unquote(parts.username) if parts.username else None, "password": password,
            "sender": os.environ.get("TSUR_SMTP_FROM", "tsur-monitor@localhost")}


def render_email(to: str, key: str, payload: dict[str, Any], sender: str) -> EmailMessage:
    """A plain-text message for one outbox row; Message-ID is derived from the idempotency key."""
    ticket = payload.get("ticket", {})
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, to
    msg["Subject"] = (f"[ЦУР] Обращение #{ticket.get('id')}: {ticket.get('topic_group') or 'без темы'}, "
                      f"{ticket.get('municipality') or 'место не указано'}")
    msg["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@tsur-monitor>"
    msg["X-Idempotency-Key"] = key
    lines = [f"{k}: {v}" for k, v in ticket.items() if v is not None]
    for n, item in enumerate(payload.get("items", []), start=1):
        lines += ["", f"Сообщение {n} ({item.get('platform')}, {item.get('published_at')}): {item.get('url') or ''}",
                  item.get("text") or ""]
    msg.set_content("\n".join(lines))
    return msg


def send_email(to: str, key: str, payload: dict[str, Any], timeout: float) -> None:
    """Send one message through the configured SMTP server."""
    try:
        check_email(to)
    except TargetError as exc:
        raise SendFailed(f"e-mail to {to!r}: {exc}", permanent=True) from None
    cfg = smtp_settings()
    cls = smtplib.SMTP_SSL if cfg["ssl"] else smtplib.SMTP
    try:
        with cls(cfg["host"], cfg["port"], timeout=timeout) as smtp:
            if cfg["starttls"]:
                smtp.starttls()
            if cfg["user"]:
                smtp.login(cfg["user"], cfg["password"] or "")
            smtp.send_message(render_email(to, key, payload, cfg["sender"]))
    except smtplib.SMTPRecipientsRefused:
        raise SendFailed(f"e-mail to {to}: recipient refused", permanent=True) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"e-mail via {cfg['host']}:{cfg['port']}: {type(exc).__name__}") from None


def send(channel: str, target: str, key: str, payload: dict[str, Any], timeout: float,
         allow_link_local: bool = False) -> None:
    """Send one outbox row by its channel."""
    if channel == "webhook":
        send_webhook(target, key, payload, timeout, allow_link_local)
    elif channel == "email":
        send_email(target, key, payload, timeout)
    else:
        raise SendFailed(f"unknown channel {channel!r}", permanent=True)
