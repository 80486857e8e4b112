"""Telegram messages in telethon's JSON form (json.loads(message.to_json())) -> RawItem.

A comment from a channel's discussion group carries "post_id" (the channel post it answers),
added by the collector because the group's own reply ids point at the group's copy of the post.
"""
from __future__ import annotations

from collectors.adapters.common import join_text, require_int, utc_from_iso
from collectors.base import SourceConfig
from collectors.errors import SkipItem
from tsur.records import RawItem


def media_text(media: dict | None) -> str:
    """Text a media attachment carries: web page preview, poll question, document file name."""
    if not isinstance(media, dict):
        return ""
    page = media.get("webpage")
    if isinstance(page, dict):
        return join_text(page.get("title"), page.get("description"), page.get("url"))
    poll = media.get("poll")
    if isinstance(poll, dict):
        question = poll.get("question")
        return question.get("text", "") if isinstance(question, dict) else str(question or "")
    document = media.get("document")
    if isinstance(document, dict):
        names = [a.get("file_name") for a in document.get("attributes") or [] if isinstance(a, dict)]
        return join_text(*names)
    return ""


def hidden_links(payload: dict) -> list[str]:
    """URLs behind text links (MessageEntityTextUrl), which the plain text does not show."""
    return [e["url"] for e in payload.get("entities") or [] if isinstance(e, dict) and e.get("url")]


def peer_id(peer: dict | None) -> int | None:
    """The numeric id of a PeerUser/PeerChannel/PeerChat dict."""
    if not isinstance(peer, dict):
        return None
    return peer.get("user_id") or peer.get("channel_id") or peer.get("chat_id")


def adapt_tg_message(payload: dict, source: SourceConfig, pseudonymize) -> RawItem:
    """A Message dict -> RawItem; kind="comment" when it carries the channel "post_id"."""
    if payload.get("_") != "Message":
        raise SkipItem(f"not a Message: {payload.get('_')!r}")
    msg_id = require_int(payload, "id")
    channel = source.handle.lstrip("@")
    text = join_text(payload.get("message"), media_text(payload.get("media")), *hidden_links(payload))
    author = peer_id(payload.get("from_id")) or payload.get("post_author")
    common = dict(platform="tg", source=source.key, published_at=utc_from_iso(payload.get("date")), text=text,
                  author=pseudonymize("tg", author), raw=payload)
    if "post_id" in payload:
        post_id = require_int(payload, "post_id")
        return RawItem(item_id=f"{post_id}_{msg_id}", parent_id=str(post_id), kind="comment",
                       url=f"https://t.me/{channel}/{post_id}?comment={msg_id}", **common)
    return RawItem(item_id=str(msg_id), kind="post", url=f"https://t.me/{channel}/{msg_id}", **common)
