"""Pseudonymise the people in a raw payload before it is stored (152-ФЗ), with the authors' keyed hash.

VK (API 5.199 wall objects, fields the schema marks as owner/user ids): a positive id is a user and is
pseudonymised; a negative one is a community and stays. The item's own top-level `owner_id` stays: it is
the wall, already part of the item id and URL. Telegram (TL Message): user ids (PeerUser, mention
entities, contacts, via bots, giveaway winners) and the names of signatures, forwards and contacts.
Channel and chat ids stay. A value that already is a pseudonym is kept, so stored payloads replay as
they were collected.

Example: people_pseudonymised("vk", {"owner_id": -1, "from_id": 150443210}, p)
         == {"owner_id": -1, "from_id": "vk:e498…"}
"""
from __future__ import annotations

from typing import Any

PEOPLE = {
    "vk": frozenset({"from_id", "owner_id", "signer_id", "created_by", "to_id", "reply_to_user", "user_id",
                     "author_id", "source_id", "copy_owner_id", "reply_owner_id"}),
    "tg": frozenset({"user_id", "via_bot_id", "via_business_bot_id", "winners", "post_author", "from_name",
                     "saved_from_name", "first_name", "last_name", "phone_number", "vcard"}),
}
KEPT_AT_TOP = {"vk": frozenset({"owner_id"}), "tg": frozenset()}


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
    if not isinstance(value, dict):
        return value
    people = PEOPLE[platform]
    return {k: _person(v, platform, pseudonymize) if k in people and k not in keep
            else _walk(v, platform, pseudonymize) for k, v in value.items()}


def people_pseudonymised(platform: str, payload: Any, pseudonymize) -> Any:
    """A copy of `payload` with every person's id and name replaced by its pseudonym; others untouched."""
    if platform not in PEOPLE:
        return payload
    return _walk(payload, platform, pseudonymize, KEPT_AT_TOP[platform])
