"""How many requests a poll of N VK communities costs, and how long it takes at VK's 3 requests/second.

Runs the production VK wall collector (vk_api client, execute batching, shared per-token limiter)
against the loopback fake. Simulated mode shares a SimulatedClock between the limiter and the
fake's rate check, so the seconds reported are what the limiter would really wait; a short real run
on the wall clock confirms the figure.

Example: .venv/bin/python benchmarks/bench_vk_poll.py --communities 100 --real 6

Measured 2026-11-23 on the 2-core dev machine (communities with 30-120 posts every 1-4 h, a third of
posts commented, 3-day look-back; responses schema-validated, no error 6 from the fake's 3 req/s check):
  cold (first) poll of 100 communities: 200 requests (2.00/community: wall.get + one execute of comments),
      68.3 s at 3 req/s (the limiter spaces calls 0.343 s apart);
  warm poll 10 min later: 41 requests (0.41/community: 4 executes of 25 wall.get + 37 comment calls),
      13.7 s at 3 req/s; without the cross-community wall.get batching it was 137 requests, 47.0 s;
  real-clock confirmation, 6 communities: 12 requests in 3.79 s cold, 2 requests in 0.36 s warm.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake lives in tests/collectors

from collectors.pseudonym import Pseudonymizer
from collectors.ratelimit import Clock, SimulatedClock
from tests.collectors.fake_vk import FakeVk, FakeVkServer
from tests.collectors.vk_world import populate_wall, vk_collector, wall_config
from tsur.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "data" / "vk_api_schema"
NOW = 1_763_900_000
TOKEN = "bench-token"


def make_world(fake: FakeVk, communities: int, seed: int = 7) -> None:
    """Communities posting every 1–4 h over 5 days; a third of posts commented, some with threads."""
    rng = random.Random(seed)
    for n in range(communities):
        populate_wall(fake, -(n + 1), NOW, posts=rng.randint(30, 120), every_s=rng.choice([3600, 7200, 14400]),
                      comments_per_post=rng.choice([1, 2, 3]))


def add_activity(fake: FakeVk, communities: int, now: int, seed: int = 11) -> None:
    """Ten minutes of life: a fifth of the communities post, a third get a comment on a recent post."""
    rng = random.Random(seed)
    for n in range(communities):
        owner = -(n + 1)
        wall = fake.walls[owner]
        if rng.random() < 0.2:
            fake.add_post(owner, wall[0]["id"] + 1, now - 30, "Новый пост")
        if rng.random() < 0.33:
            post = wall[rng.randrange(min(5, len(wall)))]
            fake.add_comment(owner, post["id"], 900_000 + n, now - 20, "Новый комментарий")


def poll_all(fake, url, settings, clock, communities, now, cursors, ttl_s) -> tuple[int, float, float]:
    """Poll every community once; returns (requests, limiter seconds, real seconds)."""
    pseudonymize = Pseudonymizer(b"b" * 32)
    start_sim, start_real, requests = clock.now(), time.perf_counter(), 0
    for n in range(communities):
        collector = vk_collector(wall_config(-(n + 1), url), settings, pseudonymize, clock, now)
        collector.prefetch.ttl_s = ttl_s
        for page in collector.fetch(cursors.get(n)):
            requests += page.requests
            cursors[n] = page.cursor
    return requests, clock.now() - start_sim, time.perf_counter() - start_real


def run(communities: int, clock: Clock, validate: bool, gap_s: float, ttl_s: float) -> dict:
    """A cold poll (first ever), `gap_s` of activity, then a warm poll; the prefetch keeps pages `ttl_s`."""
    schema = None
    if validate and SCHEMA.is_dir():
        from tests.collectors.vk_schema import VkSchema
        schema = VkSchema(SCHEMA)
    fake = FakeVk(token=TOKEN, schema=schema, clock=clock, rps=3.0)
    make_world(fake, communities)
    settings = Settings(vk_token=TOKEN, vk_requests_per_second=3.0)
    cursors: dict[int, dict] = {}
    with FakeVkServer(fake) as url:
        cold = poll_all(fake, url, settings, clock, communities, NOW, cursors, ttl_s)
        add_activity(fake, communities, NOW + 600)
        clock.sleep(gap_s)
        warm = poll_all(fake, url, settings, clock, communities, NOW + 600, cursors, ttl_s)
    return {"rate_violations": fake.rate_violations, "cold": cold, "warm": warm, "http": len(fake.log), "schema_errors": len(fake.schema_errors),
            "validated": schema is not None}


def report(label: str, communities: int, result: dict) -> None:
    for phase in ("cold", "warm"):
        requests, limited, real = result[phase]
        print(f"{label} {phase:4} poll of {communities:3} communities: {requests:4} requests "
              f"({requests / communities:.2f}/community), {limited:7.1f} s at 3 req/s, {real:6.2f} s real")
    print(f"{label} schema-validated responses: {result['validated']}, schema errors: {result['schema_errors']}, "
          f"refused for exceeding 3 req/s (error 6): {result['rate_violations']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=100)
    parser.add_argument("--real", type=int, default=6, help="communities in the real-clock confirmation run")
    parser.add_argument("--no-validate", action="store_true", help="skip schema validation (faster)")
    args = parser.parse_args()
    report("simulated", args.communities, run(args.communities, SimulatedClock(), not args.no_validate,
                                              gap_s=600.0, ttl_s=120.0))
    if args.real:  # a 3 s gap with a 2 s cache lifetime stands in for the 10 min between real polls
        report("real     ", args.real, run(args.real, Clock(), not args.no_validate, gap_s=3.0, ttl_s=2.0))


if __name__ == "__main__":
    main()
