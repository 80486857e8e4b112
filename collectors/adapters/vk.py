"""VK wall posts and comments (API 5.199 objects) -> RawItem."""
from __future__ import annotations

from collectors.adapters.common import join_text, require_int, utc_from_unix
from collectors.base import SourceConfig
from collectors.errors import SkipItem
from tsur.records import RawItem


def attachment_text(attachment: dict) -> str:
    """Readable text an attachment carries (link title and URL, photo caption, poll question …)."""
    kind = attachment.get("type")
    body = attachment.get(kind) if isinstance(kind, str) else None
    if not isinstance(body, dict):
        return ""
    if kind == "link":
        return join_text(body.get("title"), body.get("description"), body.get("url"))
    if kind == "poll":
        answers = [a.get("text") for a in body.get("answers") or [] if isinstance(a, dict)]
        return join_text(body.get("question"), "; ".join(a for a in answers if a))
    if kind in ("photo", "posted_photo"):
        return body.get("text") or ""
    return join_text(body.get("title"), body.get("description"))


def post_text(post: dict) -> str:
    """A post's text with its attachments' text and the reposted posts' text, in that order."""
    own = [post.get("text")] + [attachment_text(a) for a in post.get("attachments") or [] if isinstance(a, dict)]
    reposts = [post_text(p) for p in post.get("copy_history") or [] if isinstance(p, dict)]
    return join_text(*own, *reposts)


def post_item_id(source: SourceConfig, owner_id: int, post_id: int) -> str:
    """Wall sources key posts by id; search sources span walls, so they key by owner_post."""
    return f"{owner_id}_{post_id}" if source.key.startswith("vk:search:") else str(post_id)


def _owner(payload: dict, source: SourceConfig) -> int:
    owner = payload.get("owner_id")
    if isinstance(owner, int) and not isinstance(owner, bool):
        return owner
    try:
        return int(source.handle)
    except ValueError:
        raise SkipItem("missing 'owner_id'") from None


def adapt_vk_post(payload: dict, source: SourceConfig, pseudonymize) -> RawItem:
    """A wall_wallpost_full object -> RawItem(kind="post")."""
    post_id = require_int(payload, "id")
    owner = _owner(payload, source)
    author = payload.get("signer_id") or payload.get("from_id")
    return RawItem(
        platform="vk", source=source.key, item_id=post_item_id(source, owner, post_id),
        published_at=utc_from_unix(payload.get("date")), text=post_text(payload), kind="post",
        url=f"https://vk.com/wall{owner}_{post_id}", author=pseudonymize("vk", author), raw=payload,
    )


def adapt_vk_comment(payload: dict, source: SourceConfig, pseudonymize) -> RawItem:
    """A wall_wall_comment object (with "post_id") -> RawItem(kind="comment", parent_id=<post item id>)."""
    comment_id = require_int(payload, "id")
    post_id = require_int(payload, "post_id")
    owner = _owner(payload, source)
    if payload.get("deleted"):
        raise SkipItem(f"comment {comment_id} is deleted")
    parent = post_item_id(source, owner, post_id)
    return RawItem(
        platform="vk", source=source.key, item_id=f"{parent}_{comment_id}", parent_id=parent,
        published_at=utc_from_unix(payload.get("date")), text=post_text(payload), kind="comment",
        url=f"https://vk.com/wall{owner}_{post_id}?reply={comment_id}",
        author=pseudonymize("vk", payload.get("from_id")), raw=payload,
    )
