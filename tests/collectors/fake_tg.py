"""A stand-in for TelegramClient serving real telethon Message objects, with scripted FloodWaits and errors."""
from __future__ import annotations

from collections import deque
from datetime import datetime, timezone

from telethon import errors
from telethon.tl import types
from telethon.tl.functions.channels import GetFullChannelRequest
from telethon.tl.types.messages import ChatFull


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


class FakeTelegram:
    """One public channel (and optionally its discussion group) as telethon's client would show it."""

    def __init__(self, username: str = "simf_news", channel_id: int = 1001, linked_chat_id: int | None = 2002):
        self.username, self.channel_id, self.linked_chat_id = username, channel_id, linked_chat_id
        self.posts: dict[int, types.Message] = {}
        self.comments: dict[int, list[types.Message]] = {}  # channel post id -> discussion messages
        self.failures: deque = deque()  # exceptions raised by the next calls, in order
        self.calls: list[tuple[str, dict]] = []
        self.authorized = True
        self.connected = False

    # -- scripting -------------------------------------------------------------------------------
    def post(self, msg_id: int, ts: float, text: str, **extra) -> types.Message:
        """Publish (or edit, when the id exists) a channel post."""
        old = self.posts.get(msg_id)
        replies = old.replies if old else (types.MessageReplies(replies=0, replies_pts=1, comments=True,
                                                                channel_id=self.linked_chat_id)
                                           if self.linked_chat_id else None)
        message = types.Message(id=msg_id, peer_id=types.PeerChannel(self.channel_id), date=utc(ts), message=text,
                                post=True, replies=replies, edit_date=utc(ts + 60) if old else None, **extra)
        self.posts[msg_id] = message
        return message

    def comment(self, post_id: int, msg_id: int, ts: float, text: str, user_id: int = 42) -> types.Message:
        """A reply in the discussion group under a channel post; bumps the post's MessageReplies."""
        message = types.Message(id=msg_id, peer_id=types.PeerChannel(self.linked_chat_id), date=utc(ts), message=text,
                                from_id=types.PeerUser(user_id),
                                reply_to=types.MessageReplyHeader(reply_to_msg_id=post_id + 5000,
                                                                  reply_to_top_id=post_id + 5000))
        self.comments.setdefault(post_id, []).append(message)
        replies = self.posts[post_id].replies
        replies.replies += 1
        replies.max_id = max(replies.max_id or 0, msg_id)
        return message

    def fail_next(self, *exceptions: Exception) -> None:
        self.failures.extend(exceptions)

    def _maybe_fail(self, name: str, **kwargs) -> None:
        self.calls.append((name, kwargs))
        if self.failures:
            raise self.failures.popleft()

    # -- the TelegramClient surface the collector uses -------------------------------------------
    async def connect(self):
        self.connected = True

    async def disconnect(self):
        self.connected = False

    async def is_user_authorized(self):
        return self.authorized

    async def get_entity(self, username: str):
        self._maybe_fail("get_entity", username=username)
        if username.lstrip("@") != self.username:
            raise errors.UsernameNotOccupiedError(request=None)
        return types.Channel(id=self.channel_id, title="Новости", photo=types.ChatPhotoEmpty(), date=utc(0),
                             broadcast=True, username=self.username, access_hash=7)

    async def __call__(self, request):
        self._maybe_fail(type(request).__name__)
        assert isinstance(request, GetFullChannelRequest)
        full = types.ChannelFull(id=self.channel_id, about="", read_inbox_max_id=0, read_outbox_max_id=0,
                                 unread_count=0, chat_photo=types.PhotoEmpty(id=0),
                                 notify_settings=types.PeerNotifySettings(), bot_info=[], pts=1,
                                 linked_chat_id=self.linked_chat_id)
        return ChatFull(full_chat=full, chats=[], users=[])

    async def iter_messages(self, entity, limit=None, *, min_id=0, offset_date=None, reverse=False, reply_to=None):
        """Telethon's semantics for the arguments used: min_id exclusive, reverse=True oldest first and
        offset_date meaning "after" then; reply_to lists a post's discussion thread."""
        self._maybe_fail("iter_messages", min_id=min_id, offset_date=offset_date, reply_to=reply_to, limit=limit)
        pool = self.comments.get(reply_to, []) if reply_to is not None else list(self.posts.values())
        chosen = [m for m in pool if m.id > (min_id or 0) and (offset_date is None or m.date > offset_date)]
        chosen.sort(key=lambda m: m.id, reverse=not reverse)
        for n, message in enumerate(chosen[:limit] if limit else chosen):
            if n and n % 100 == 0:
                self._maybe_fail("iter_messages:next", after=message.id)
            yield message
