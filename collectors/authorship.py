"""Who wrote a stored item: the source itself (a госпаблик's own post, a channel's post, a site's article) or a
visitor. The analysis reads it as AnalysisInput.by_source; None when the stored payload cannot tell.

Rules (on the raw payload as stored, people already pseudonymised, community and channel ids kept):
- comments never (even a community's own answer under a post);
- VK post: from_id == owner_id is the community's own post; signer_id marks a suggested post signed by its
  visitor author (still published by the community): not by the source; a person's wall cannot tell (from_id
  is a pseudonym, owner_id is not);
- Telegram post: the Message's `post` flag (a broadcast channel's post), else a PeerUser sender is a visitor;
- web: an article of a site is the site's.
Replayed items carry the platform and raw payload they replay: the same rules, None when the fields are missing.

Example: written_by_source("vk", "post", "vk:wall:-1", {"owner_id": -1, "from_id": -1}) is True
"""
from __future__ import annotations

from typing import Any

PLATFORMS = ("vk", "tg", "web")


def platform_of(platform: str | None, source: str | None) -> str | None:
    """The platform whose rules apply: the item's own, else its source key's prefix (replay:… gives None)."""
    if platform in PLATFORMS:
        return platform
    prefix = (source or "").split(":", 1)[0]
    return prefix if prefix in PLATFORMS else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _wall_of(source: str | None) -> int | None:
    """The owner id of a `vk:wall:<id>` source key."""
    if not source or not source.startswith("vk:wall:"):
        return None
    try:
        return int(source[len("vk:wall:"):])
    except ValueError:
        return None


def vk_post_by_owner(raw: dict[str, Any], source: str | None) -> bool | None:
    """A VK wall post written by the wall's owner (from_id == owner_id, not signed by a visitor)."""
    if raw.get("signer_id") is not None:
        return False
    owner = _int(raw.get("owner_id"))
    owner = owner if owner is not None else _wall_of(source)
    author = raw.get("from_id")
    if owner is None or author is None:
        return None
    if _int(author) is not None:
        return author == owner
    return False if owner < 0 else None  # a pseudonymised person: a visitor of a community; on a person's wall?


def tg_post_by_channel(raw: dict[str, Any]) -> bool | None:
    """A Telegram message posted by the channel itself (Message.post), not by a member of a group."""
    if raw.get("post") is True:  # telethon writes the flag as true or null
        return True
    sender = raw.get("from_id")
    if isinstance(sender, dict) and sender.get("_") == "PeerUser":
        return False
    return None


def written_by_source(platform: str | None, kind: str | None, source: str | None,
                      raw: dict[str, Any] | None) -> bool | None:
    """True when the item was written by its page/channel/site itself, False by a visitor, None when unknown."""
    if kind == "comment":
        return False
    rules = platform_of(platform, source)
    if rules == "web":
        return True
    if not isinstance(raw, dict):
        return None
    if rules == "vk":
        return vk_post_by_owner(raw, source)
    if rules == "tg":
        return tg_post_by_channel(raw)
    return None
