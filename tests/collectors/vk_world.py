"""Builders of VK test worlds and collectors wired to the fake (shared by the VK, contract and bench code)."""
from __future__ import annotations

from collectors.base import SourceConfig
from collectors.vk import build, make_client

DAY = 24 * 3600


def wall_config(owner_id: int, url: str) -> SourceConfig:
    return SourceConfig(key=f"vk:wall:{owner_id}", platform="vk", handle=str(owner_id),
                        options={"type": "vk_wall", "api_base": url})


def search_config(name: str, query: str, url: str) -> SourceConfig:
    return SourceConfig(key=f"vk:search:{name}", platform="vk", handle=name,
                        options={"type": "vk_search", "query": query, "api_base": url})


def vk_collector(config: SourceConfig, settings, pseudonymize, clock, now: float):
    """The production collector, pointed at the fake, on a simulated clock."""
    return build(config, settings, pseudonymize, client=make_client(config, settings, clock), now=lambda: now)


def populate_wall(fake, owner_id: int, now: int, posts: int = 30, every_s: int = 3 * 3600,
                  comments_per_post: int = 2, first_id: int = 1) -> None:
    """`posts` posts, newest at `now - 60`, `every_s` apart; some with comments and a reply thread."""
    for n in range(posts):
        post_id = first_id + n
        date = now - 60 - (posts - 1 - n) * every_s
        fake.add_post(owner_id, post_id, date, f"Пост {post_id}: нет воды на ул. Ленина 🚰 https://vk.cc/x{post_id}")
        for c in range(comments_per_post if n % 3 == 0 else 0):
            comment = fake.add_comment(owner_id, post_id, post_id * 100 + c, date + 60 * (c + 1),
                                       f"Коммент {c} к {post_id}", from_id=1000 + c)
            if c == 0:
                fake.add_comment(owner_id, post_id, post_id * 100 + 50, date + 600, "Ответ в ветке",
                                 from_id=2000, reply_to=comment["id"])
