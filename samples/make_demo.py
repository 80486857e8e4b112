"""Build samples/demo.jsonl from samples/texts.tsv: VK API 5.199 objects and telethon Messages.

Run from the project root:  .venv/bin/python samples/make_demo.py
The output is deterministic: counters and tokens come from random.Random seeded by the item's key.
"""
from __future__ import annotations

import csv
import json
import random
import re
import string
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from telethon.tl.types import (Message, MessageEntityMention, MessageEntityUrl, MessageFwdHeader, MessageReplies,
                               MessageReplyHeader, PeerChannel, PeerUser)

HERE = Path(__file__).resolve().parent
VK_WALLS = {"vk1": -100001, "vk2": -100002, "vk3": -100003, "vk4": -100004, "vk5": -100005, "vk6": -100006}
# alias -> (username, channel id, linked discussion group id, first message id in the group)
TG_CHANNELS = {
    "tg1": ("narod_krym", 1800000101, 1800000201, 31001),
    "tg2": ("sevas_live", 1800000102, 1800000202, 52001),
    "tg3": ("sever_kryma", 1800000103, 1800000203, 17001),
}
GOV_WALLS = {-100001, -100003}  # госпаблики post through their SMM tool (post_source "api")
PHOTO_SIZES = (("s", 100, 75), ("m", 130, 97), ("x", 604, 453), ("y", 807, 605), ("z", 1280, 960))


@dataclass(frozen=True)
class Row:
    """One line of texts.tsv."""

    kind: str  # post | comment
    src: str  # alias from VK_WALLS / TG_CHANNELS
    id: int | None  # VK post/comment id, TG channel post id; None for TG comments (numbered here)
    parent: str | None  # "post" or "post/comment" (VK thread reply)
    when: datetime
    author: int | None  # user id; None = the community / channel itself
    extra: dict[str, str]
    label: str  # topic group of a complaint ("!" = high importance) or "-"
    text: str


def read_rows(path: Path) -> list[Row]:
    """Parse texts.tsv into Rows (dates are November 2026, UTC)."""
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            day, hm = rec["when"].split()
            hour, minute = map(int, hm.split(":"))
            rows.append(Row(
                kind=rec["kind"], src=rec["src"], id=None if rec["id"] == "-" else int(rec["id"]),
                parent=None if rec["parent"] == "-" else rec["parent"],
                when=datetime(2026, 11, int(day), hour, minute, tzinfo=timezone.utc),
                author=None if rec["author"] == "-" else int(rec["author"]),
                extra=parse_extra(rec["extra"]), label=rec["label"], text=rec["text"].replace("\\n", "\n"),
            ))
    return rows


def parse_extra(value: str) -> dict[str, str]:
    """Flags like "photo;link=url^title;copy=vk3:3301" -> {"photo": "", "link": "url^title", ...}."""
    if value == "-":
        return {}
    return dict((part.split("=", 1) + [""])[:2] for part in value.split(";"))


def token(rnd: random.Random, size: int, alphabet: str = string.hexdigits[:16]) -> str:
    """A deterministic pseudo-random token."""
    return "".join(rnd.choice(alphabet) for _ in range(size))


def unix(dt: datetime) -> int:
    """Unix seconds of an aware datetime."""
    return int(dt.timestamp())


def vk_photo(owner_id: int, post_id: int, date: int, rnd: random.Random) -> dict[str, Any]:
    """A wall photo attachment as wall.get returns it."""
    path = f"{token(rnd, 2)}/{token(rnd, 12, string.ascii_letters + string.digits)}"
    sizes = [{"height": h, "type": t, "width": w,
              "url": f"https://sun9-{rnd.randint(10, 80)}.userapi.com/impg/{path}.jpg?size={w}x{h}&quality=95"
                     f"&sign={token(rnd, 32)}&type=album"} for t, w, h in PHOTO_SIZES]
    photo = {"album_id": -7, "date": date, "id": 457239000 + post_id, "owner_id": owner_id,
             "access_key": token(rnd, 18), "post_id": post_id, "sizes": sizes, "text": "", "user_id": 100,
             "has_tags": False}
    return {"type": "photo", "photo": photo}


def vk_link(value: str) -> dict[str, Any]:
    """A link attachment from "url^title"."""
    url, title = value.split("^", 1)
    host = url.split("/")[2]
    return {"type": "link", "link": {"url": url, "title": title, "caption": host, "description": "",
                                     "is_favorite": False}}


def vk_attachments(row: Row, owner_id: int, rnd: random.Random) -> list[dict[str, Any]]:
    """Attachments a row asks for (photo, link)."""
    out = []
    if "photo" in row.extra:
        out.append(vk_photo(owner_id, row.id, unix(row.when), rnd))
    if "link" in row.extra:
        out.append(vk_link(row.extra["link"]))
    return out


def vk_copy(orig: Row) -> dict[str, Any]:
    """The reposted post inside copy_history (no counters, as VK returns it)."""
    owner = VK_WALLS[orig.src]
    rnd = random.Random(f"{orig.src}:{orig.id}")
    return {"inner_type": "wall_wallpost", "type": "post", "attachments": vk_attachments(orig, owner, rnd),
            "date": unix(orig.when), "from_id": owner, "id": orig.id, "owner_id": owner,
            "post_source": {"type": "api" if owner in GOV_WALLS else "vk"}, "post_type": "post", "text": orig.text}


def vk_post(row: Row, n_comments: int, index: dict[tuple[str, int], Row]) -> dict[str, Any]:
    """A wall_wallpost_full object."""
    owner = VK_WALLS[row.src]
    rnd = random.Random(f"{row.src}:{row.id}")
    views = rnd.randint(300, 9000)
    likes = rnd.randint(0, views // 40)
    reposts = rnd.randint(0, likes // 3 + 1)
    post = {"inner_type": "wall_wallpost", "donut": {"is_donut": False},
            "comments": {"can_post": 1, "count": n_comments, "groups_can_post": True},
            "marked_as_ads": 0, "hash": token(rnd, 18, string.ascii_letters + string.digits), "type": "post",
            "attachments": vk_attachments(row, owner, rnd), "date": unix(row.when),
            "from_id": owner if row.author is None else row.author, "id": row.id, "is_favorite": False,
            "likes": {"can_like": 1, "count": likes, "user_likes": 0, "can_publish": 1, "repost_disabled": False},
            "owner_id": owner, "post_source": {"type": "api" if owner in GOV_WALLS else "vk"}, "post_type": "post",
            "reposts": {"count": reposts, "wall_count": reposts, "mail_count": 0, "user_reposted": 0},
            "text": row.text, "views": {"count": views}}
    if "copy" in row.extra:
        src, post_id = row.extra["copy"].split(":")
        post["copy_history"] = [vk_copy(index[(src, int(post_id))])]
    return post


def vk_comment(row: Row, index: dict[tuple[str, int], Row], tops: dict[int, int],
               n_replies: Counter) -> dict[str, Any]:
    """A wall_wall_comment object; thread replies carry reply_to_comment and parents_stack [top]."""
    owner = VK_WALLS[row.src]
    rnd = random.Random(f"{row.src}:{row.id}")
    post_id, _, reply_to = row.parent.partition("/")
    comment = {"id": row.id, "from_id": owner if row.author is None else row.author, "date": unix(row.when),
               "text": row.text, "post_id": int(post_id), "owner_id": owner, "parents_stack": [],
               "likes": {"can_like": 1, "count": rnd.randint(0, 12), "user_likes": 0, "can_publish": 1}}
    if reply_to:
        replied = index[(row.src, int(reply_to))]
        comment.update(parents_stack=[tops[row.id]], reply_to_comment=replied.id,
                       reply_to_user=owner if replied.author is None else replied.author)
    else:
        comment["thread"] = {"count": n_replies[row.id], "items": [], "can_post": True, "show_reply_button": True,
                             "groups_can_post": True}
    return comment


def tg_entities(text: str) -> list:
    """Mention and URL entities with UTF-16 offsets, as Telegram reports them."""
    def u16(s: str) -> int:
        return len(s.encode("utf-16-le")) // 2

    out = []
    for m in re.finditer(r"@\w{4,}|https?://\S+", text):
        cls = MessageEntityUrl if m.group().startswith("http") else MessageEntityMention
        out.append(cls(offset=u16(text[:m.start()]), length=u16(m.group())))
    return out


def tg_post(row: Row, comment_ids: list[int], index: dict[tuple[str, int], Row]) -> dict[str, Any]:
    """A channel post as json.loads(Message.to_json())."""
    _, channel, group, _ = TG_CHANNELS[row.src]
    rnd = random.Random(f"{row.src}:{row.id}")
    text, fwd = row.text, None
    if "fwd" in row.extra:
        src, post_id = row.extra["fwd"].split(":")
        orig = index[(src, int(post_id))]
        text = orig.text
        fwd = MessageFwdHeader(date=orig.when, from_id=PeerChannel(channel_id=TG_CHANNELS[src][1]),
                               channel_post=orig.id)
    replies = MessageReplies(replies=len(comment_ids), replies_pts=rnd.randint(20000, 90000), comments=True,
                             channel_id=group, max_id=max(comment_ids) if comment_ids else None)
    message = Message(id=row.id, peer_id=PeerChannel(channel_id=channel), date=row.when, message=text, post=True,
                      fwd_from=fwd, entities=tg_entities(text), views=rnd.randint(800, 25000),
                      forwards=rnd.randint(0, 60), replies=replies)
    return json.loads(message.to_json())


def tg_comment(row: Row, msg_id: int, copy_id: int) -> dict[str, Any]:
    """A discussion-group comment; "post_id" (the channel post) is what the collector adds."""
    _, _, group, _ = TG_CHANNELS[row.src]
    message = Message(id=msg_id, peer_id=PeerChannel(channel_id=group), date=row.when, message=row.text,
                      from_id=PeerUser(user_id=row.author), reply_to=MessageReplyHeader(reply_to_msg_id=copy_id),
                      entities=tg_entities(row.text))
    return {**json.loads(message.to_json()), "post_id": int(row.parent)}


def number_group(rows: list[Row], alias: str) -> tuple[dict[int, int], dict[int, int]]:
    """Message ids in a discussion group: each post's automatic copy, then comments, in time order."""
    first = TG_CHANNELS[alias][3]
    events = sorted(((r.when, 0 if r.kind == "post" else 1, i) for i, r in enumerate(rows) if r.src == alias))
    copies, comments = {}, {}
    for n, (_, is_comment, i) in enumerate(events):
        (comments if is_comment else copies)[i if is_comment else rows[i].id] = first + n
    return copies, comments


def vk_threads(rows: list[Row], index: dict[tuple[str, int], Row]) -> tuple[dict[int, int], Counter]:
    """For each VK thread reply its top comment id, and the number of replies per top comment."""
    tops, counts = {}, Counter()
    for row in sorted((r for r in rows if r.kind == "comment" and r.src in VK_WALLS), key=lambda r: r.when):
        reply_to = row.parent.partition("/")[2]
        if reply_to:
            parent = int(reply_to)
            tops[row.id] = tops.get(parent, parent)
            counts[tops[row.id]] += 1
    return tops, counts


def build_items(rows: list[Row]) -> list[dict[str, Any]]:
    """Every row as a replay record {"type", "source", "payload"}, in publication order."""
    index = {(r.src, r.id): r for r in rows if r.id is not None}
    tops, n_replies = vk_threads(rows, index)
    per_post = Counter((r.src, int(r.parent.split("/")[0])) for r in rows if r.kind == "comment")
    groups = {alias: number_group(rows, alias) for alias in TG_CHANNELS}
    comment_ids: dict[tuple[str, int], list[int]] = {}
    for i, r in enumerate(rows):
        if r.kind == "comment" and r.src in TG_CHANNELS:
            comment_ids.setdefault((r.src, int(r.parent)), []).append(groups[r.src][1][i])
    items = []
    for i, r in enumerate(rows):
        if r.src in VK_WALLS:
            source = f"vk:wall:{VK_WALLS[r.src]}"
            if r.kind == "post":
                items.append(("vk_post", source, vk_post(r, per_post[(r.src, r.id)], index), r.when))
            else:
                items.append(("vk_comment", source, vk_comment(r, index, tops, n_replies), r.when))
        else:
            source = f"tg:channel:{TG_CHANNELS[r.src][0]}"
            copies, comments = groups[r.src]
            payload = (tg_post(r, comment_ids.get((r.src, r.id), []), index) if r.kind == "post"
                       else tg_comment(r, comments[i], copies[int(r.parent)]))
            items.append(("tg_message", source, payload, r.when))
    items.sort(key=lambda it: (it[3], it[1], it[2]["id"]))
    return [{"type": t, "source": s, "payload": p} for t, s, p, _ in items]


def summarize(rows: list[Row]) -> str:
    """Counts by record kind and by label, for the README."""
    kinds = Counter(f"{'vk' if r.src in VK_WALLS else 'tg'}_{r.kind}" for r in rows)
    labels = Counter(r.label.rstrip("!") for r in rows)
    high = sum(r.label.endswith("!") for r in rows)
    return (f"{len(rows)} items: {dict(sorted(kinds.items()))}\ncomplaints {len(rows) - labels['-']}, "
            f"high importance {high}, non-complaints {labels['-']}\n"
            + "\n".join(f"  {k}: {v}" for k, v in labels.most_common() if k != "-"))


def main(argv: list[str]) -> int:
    """Write demo.jsonl next to texts.tsv (or to argv[0])."""
    rows = read_rows(HERE / "texts.tsv")
    out = Path(argv[0]) if argv else HERE / "demo.jsonl"
    with open(out, "w", encoding="utf-8", newline="\n") as fh:
        for item in build_items(rows):
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"wrote {out}\n{summarize(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
