"""Telegram channels through telethon: posts after the cursor (oldest first) and their discussion comments.

Cursor: {"last_id": int, "recent": {"<post id>": [replies max_id seen, unix date]}} — "recent" holds the
posts inside the look-back window, which every poll re-reads (edits are upserted) and whose comment
threads are re-read when their replies max_id moved. Pages go oldest-first, so "last_id" only grows.
FloodWaits are slept through (counted in Page.waits) while the poll's total stays within
tg_flood_wait_max_s; the FloodWait that would go past it ends the poll with Retriable(retry_after=…),
and the source is not polled again before that pause is over. A 400 about one discussion thread (the post
was deleted between the history read and the replies read) skips that thread with one log line.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from telethon import errors
from telethon.tl import types
from telethon.tl.functions.channels import GetFullChannelRequest

from collectors import hooks
from collectors.adapters import adapt_many
from collectors.base import CallStats, SourceConfig
from collectors.errors import Fatal, NotConfigured, Retriable
from tsur.records import Page
from tsur.settings import Settings

log = logging.getLogger(__name__)

PAGE = 100
# 400/401/403/406 from the calls we make mean this channel or this session needs a human; 5xx, timeouts and
# network errors pass. (FloodWait is handled apart.)
FATAL_ERRORS = (errors.BadRequestError, errors.UnauthorizedError, errors.ForbiddenError, errors.AuthKeyError)
# 400s that concern the channel or its discussion group, not one thread: fatal even while reading replies
CHANNEL_ERRORS = (errors.ChannelPrivateError, errors.ChannelInvalidError, errors.ChannelBannedError,
                  errors.ChatIdInvalidError, errors.PeerIdInvalidError)


def classify(exc: Exception, where: str) -> Exception:
    """The collector error for a telethon failure (never includes the session or api hash)."""
    name = type(exc).__name__
    if isinstance(exc, FATAL_ERRORS):
        return Fatal(f"{where}: Telegram refused access ({name})", code=name)
    if isinstance(exc, ValueError):  # get_entity: no such username
        return Fatal(f"{where}: channel not found ({str(exc).splitlines()[0][:200]})", code="not_found")
    return Retriable(f"{where}: Telegram request failed ({name})", code=name)


def is_thread_error(exc: Exception) -> bool:
    """A 400 about one message (e.g. MsgIdInvalidError for a post deleted meanwhile), not the channel or session."""
    return isinstance(exc, errors.BadRequestError) and not isinstance(exc, CHANNEL_ERRORS)


@dataclass
class TelegramCollector:
    """Messages of one public channel and the comments in its linked discussion group."""

    source: SourceConfig
    make_client: Callable[[], Any]  # called inside the poll's event loop; a TelegramClient or a fake
    pseudonymize: Callable
    flood_wait_max_s: float = 300.0
    lookback_s: int = 3 * 24 * 3600
    max_pages: int = 50
    now: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    stats: CallStats = field(default_factory=CallStats)
    flood_waited: float = 0.0  # seconds of FloodWait slept in this poll

    def fetch(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        """Run the async poll in a private event loop, handing each page out as it is ready."""
        loop = asyncio.new_event_loop()
        pages = self._pages(cursor)
        try:
            while True:
                try:
                    yield loop.run_until_complete(pages.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            loop.run_until_complete(pages.aclose())
            loop.close()

    async def _pages(self, cursor: dict[str, Any] | None):
        self.flood_waited = 0.0
        client = self.make_client()
        try:
            await self._call(client.connect, counted=False)
            if not await self._call(client.is_user_authorized, counted=False):
                raise Fatal(f"{self.source.key}: Telegram session is not authorised (revoked?)", code="unauthorized")
            entity = await self._call(client.get_entity, self.source.handle)
            full = await self._call(client, GetFullChannelRequest(entity))
            linked = getattr(full.full_chat, "linked_chat_id", None)
            async for page in self._walk(client, entity, linked, dict(cursor or {})):
                yield page
        finally:
            await client.disconnect()

    async def _walk(self, client, entity, linked, state: dict):
        horizon = self.now() - self.lookback_s
        last_id = state.get("last_id")
        recent = {k: v for k, v in (state.get("recent") or {}).items() if v[1] >= horizon}
        floor = min([int(k) for k in recent] + [last_id + 1]) - 1 if last_id is not None else None
        for _ in range(self.max_pages):
            window = {"min_id": floor} if floor is not None else {
                "offset_date": datetime.fromtimestamp(horizon, tz=timezone.utc)}
            batch = await self._messages(client, entity, limit=PAGE, reverse=True, **window)
            posts = [m for m in batch if isinstance(m, types.Message)]
            records = [("tg_message", json.loads(m.to_json())) for m in posts]
            if linked:
                records += await self._comments(client, entity, posts, recent)
            else:
                recent.update({str(m.id): [0, m.date.timestamp()] for m in posts})
            if batch:
                floor = max(m.id for m in batch)
                last_id = max(floor, last_id or 0)
            items, bad = adapt_many(records, self.source, self.pseudonymize)
            page_cursor = {"last_id": last_id, "recent": {k: v for k, v in recent.items() if v[1] >= horizon}}
            yield Page(items, page_cursor if last_id is not None else None, bad, *self.stats.take())
            if len(batch) < PAGE:
                return

    async def _comments(self, client, entity, posts: list, recent: dict) -> list[tuple[str, dict]]:
        """Discussion-group replies of posts whose replies moved since the last poll; updates `recent`."""
        records = []
        for post in posts:
            replies, date = post.replies, post.date.timestamp()
            seen = (recent.get(str(post.id)) or [0])[0]
            top = (replies.max_id or 0) if replies is not None and replies.comments else 0
            if top > seen:
                found = await self._thread(client, entity, post.id, seen)
                records += [("tg_message", {**json.loads(m.to_json()), "post_id": post.id})
                            for m in found if isinstance(m, types.Message)]
            recent[str(post.id)] = [max(top, seen), date]
        return records

    async def _thread(self, client, entity, post_id: int, seen: int) -> list:
        """Discussion replies of one post after `seen`; [] when Telegram refuses that one thread."""
        try:
            return await self._messages(client, entity, reply_to=post_id, min_id=seen, reverse=True)
        except errors.BadRequestError as exc:  # only thread errors come through unclassified
            log.warning("%s: comments of post %s skipped: %s", self.source.key, post_id, type(exc).__name__)
            return []

    async def _messages(self, client, entity, **kwargs) -> list:
        """iter_messages as a list; a FloodWait mid-way resumes after the last message received."""
        got: list = []
        while True:
            if got:
                kwargs["min_id"] = got[-1].id
                kwargs.pop("offset_date", None)
                if kwargs.get("limit"):
                    kwargs["limit"] = max(1, kwargs["limit"] - len(got))
            self.stats.requests += 1
            try:
                async for message in client.iter_messages(entity, **kwargs):
                    got.append(message)
                return got
            except errors.FloodWaitError as exc:
                await self._flood_wait(exc)
            except Fatal:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                if kwargs.get("reply_to") is not None and is_thread_error(exc):
                    raise
                raise classify(exc, self.source.key) from None

    async def _call(self, func, *args, counted: bool = True):
        """Await one client call, sleeping through short FloodWaits and classifying other errors."""
        while True:
            self.stats.requests += counted
            try:
                return await func(*args)
            except errors.FloodWaitError as exc:
                await self._flood_wait(exc)
            except (Fatal, Retriable):
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                raise classify(exc, self.source.key) from None

    async def _flood_wait(self, exc: errors.FloodWaitError) -> None:
        """Sleep through a FloodWait while the poll's total stays within the limit; else end the poll."""
        if self.flood_waited + exc.seconds > self.flood_wait_max_s:
            raise Retriable(f"{self.source.key}: Telegram FloodWait of {exc.seconds} s would take this poll's "
                            f"waits past the {self.flood_wait_max_s:.0f} s limit; retrying after it",
                            code="FLOOD_WAIT", retry_after=exc.seconds) from None
        await self.sleep(exc.seconds)
        hooks.retried("FLOOD_WAIT", exc.seconds)
        self.flood_waited += exc.seconds
        self.stats.waits += exc.seconds


def default_client_factory(settings: Settings, where: str) -> Callable[[], Any]:
    """A factory of TelegramClients on the StringSession; NotConfigured when a secret is missing or bad."""
    from telethon import TelegramClient
    from telethon.sessions import StringSession

    api_id, api_hash, session = (settings.secret(n) for n in ("tg_api_id", "tg_api_hash", "tg_session"))
    missing = [n for n, v in (("TSUR_TG_API_ID", api_id), ("TSUR_TG_API_HASH", api_hash),
                              ("TSUR_TG_SESSION", session)) if not v]
    if missing:
        raise NotConfigured(f"{where}: {', '.join(missing)} not set")
    if not api_id.isdigit():
        raise NotConfigured(f"{where}: TSUR_TG_API_ID must be a number")
    try:
        StringSession(session)
    except Exception:  # noqa: BLE001 - any decoding problem means the same thing
        raise NotConfigured(f"{where}: TSUR_TG_SESSION is not a valid telethon StringSession") from None
    return lambda: TelegramClient(StringSession(session), int(api_id), api_hash, flood_sleep_threshold=0,
                                  timeout=int(settings.http_timeout_s), receive_updates=False)


def build(config: SourceConfig, settings: Settings, pseudonymize, *, make_client: Callable[[], Any] | None = None,
          now: Callable[[], float] = time.time, sleep: Callable[[float], Awaitable[None]] = hooks.async_sleep):
    """The collector for a tg_channel source (`make_client`, `now`, `sleep` are for tests)."""
    factory = make_client or default_client_factory(settings, config.key)
    return TelegramCollector(config, factory, pseudonymize, flood_wait_max_s=settings.tg_flood_wait_max_s,
                             lookback_s=settings.vk_lookback_s, max_pages=settings.max_pages_per_poll, now=now,
                             sleep=sleep)
