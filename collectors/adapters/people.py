"""Pseudonymise the people in a raw payload before it is stored (152-ФЗ), with the authors' keyed hash.

VK (API 5.199 wall objects, fields the schema marks as owner/user ids): a positive id is a user and is
pseudonymised; a negative one is a community and stays. The item's own top-level `owner_id` stays: it is
the wall, already part of the item id and URL. Telegram (TL Message): user ids (PeerUser, mention
entities, contacts, via bots, giveaway winners) and the names of signatures, forwards and contacts.
Channel and chat ids stay. A value that already is a pseudonym is kept, so stored payloads replay as
they were collected.
VK texts (every string of the payload): user mentions `[id123|Имя]` become `[<pseudonym>|…]` and
profile links `vk.com/id123` become `vk.com/<pseudonym>`; community mentions and links stay. The
`profiles` of an extended response keep only the pseudonymised id (names, screen names, photos dropped).

Example: people_pseudonymised("vk", {"owner_id": -1, "from_id": 150443210}, p)
         == {"owner_id": -1, "from_id": "vk:e498…"}
"""
from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from tsur.records import RawItem

PEOPLE = {
    "vk": frozenset({"from_id", "owner_id", "signer_id", "created_by", "to_id", "reply_to_user", "user_id",
                     "author_id", "source_id", "copy_owner_id", "reply_owner_id"}),
    "tg": frozenset({"user_id", "via_bot_id", "via_business_bot_id", "winners", "post_author", "from_name",
                     "saved_from_name", "first_name", "last_name", "phone_number", "vcard"}),
}
KEPT_AT_TOP = {"vk": frozenset({"owner_id"}), "tg": frozenset()}
VK_MENTION = re.compile(r"\[id(\d+)\|[^\]\[]*\]")
VK_ID_LINK = re.compile(r"(?i)((?<![\w.])(?:https?://)?(?:www\.|m\.)?(?:vk\.com|vk\.ru|vkontakte\.ru)/)id(\d+)(?!\w)")


def vk_text_pseudonymised(text: str, pseudonymize) -> str:
    """`text` with VK user mentions and profile links pseudonymised.

    Example: vk_text_pseudonymised("[id1|Иван], см. vk.com/id1", p) == "[vk:3f…|…], см. vk.com/vk:3f…"
    """
    if "id" not in text:
        return text
    text = VK_MENTION.sub(lambda m: f"[{pseudonymize('vk', int(m.group(1)))}|…]", text)
    return VK_ID_LINK.sub(lambda m: m.group(1) + pseudonymize("vk", int(m.group(2))), text)


def _profiles(value: Any, pseudonymize) -> Any:
    """An extended response's `profiles`: each user's pseudonymised id only."""
    if not isinstance(value, list):
        return value
    return [{"id": pseudonymize("vk", p.get("id"))} if isinstance(p, dict) else None for p in value]


def is_person(value: Any) -> bool:
    """A user id (positive; negative VK ids are communities) or a name."""
    if isinstance(value, bool):
        return False
    return (isinstance(value, int) and value > 0) or (isinstance(value, str) and value != "")


def _person(value: Any, platform: str, pseudonymize) -> Any:
    if isinstance(value, list):  # e.g. giveaway winners: a list of user ids
        return [_person(v, platform, pseudonymize) for v in value]
    if isinstance(value, dict):
        return _walk(value, platform, pseudonymize)
    return pseudonymize(platform, value) if is_person(value) else value


def _walk(value: Any, platform: str, pseudonymize, keep: frozenset[str] = frozenset()) -> Any:
    if isinstance(value, list):
        return [_walk(v, platform, pseudonymize) for v in value]
    if isinstance(value, str) and platform == "vk":
        return vk_text_pseudonymised(value, pseudonymize)
    if not isinstance(value, dict):
        return value
    people = PEOPLE[platform]
    return {k: _person(v, platform, pseudonymize) if k in people and k not in keep
            else _profiles(v, pseudonymize) if platform == "vk" and k == "profiles"
            else _walk(v, platform, pseudonymize) for k, v in value.items()}


def people_pseudonymised(platform: str, payload: Any, pseudonymize) -> Any:
    """A copy of `payload` with every person's id and name replaced by its pseudonym; others untouched."""
    if platform not in PEOPLE:
        return payload
    return _walk(payload, platform, pseudonymize, KEPT_AT_TOP[platform])


def _platform(platform: Any, source: Any) -> str:
    """The people rules for a raw_item: its platform's, else its source key's ("replay" + "vk:wall:-1" -> "vk")."""
    if platform in PEOPLE:
        return platform
    prefix = str(source or "").split(":", 1)[0]
    return prefix if prefix in PEOPLE else str(platform)


def raw_item_pseudonymised(item: RawItem, pseudonymize) -> RawItem:
    """A replayed raw_item with its author, raw payload and (VK) text pseudonymised like adapted items."""
    platform = _platform(item.platform, item.source)
    text = vk_text_pseudonymised(item.text, pseudonymize) if platform == "vk" and isinstance(item.text, str) else item.text
    return replace(item, author=pseudonymize(platform, item.author), text=text,
                   raw=people_pseudonymised(platform, item.raw, pseudonymize))


def record_pseudonymised(record: Any, pseudonymize) -> Any:
    """A replay record (one parsed JSONL line) with its payload's people pseudonymised, e.g. to quarantine it."""
    if not isinstance(record, dict) or not isinstance(record.get("payload"), dict):
        return people_pseudonymised("vk", record, pseudonymize) if isinstance(record, (dict, list)) else record
    payload = record["payload"]
    if record.get("type") == "raw_item":
        platform = _platform(payload.get("platform"), payload.get("source"))
        payload = {**people_pseudonymised(platform, payload, pseudonymize),
                   "author": pseudonymize(platform, payload.get("author")) if is_person(payload.get("author"))
                   else payload.get("author")}
    else:
        payload = people_pseudonymised(str(record.get("type", "")).split("_", 1)[0], payload, pseudonymize)
    return {**record, "payload": payload}


def line_pseudonymised(line: str, pseudonymize) -> str:
    """A replay line to keep in quarantine: pseudonymised when it parses; as it is otherwise."""
    try:
        return json.dumps(record_pseudonymised(json.loads(line), pseudonymize), ensure_ascii=False)
    except Exception:  # noqa: BLE001 — not JSON, nested too deep, a number too long to read: kept as it is
        return line
