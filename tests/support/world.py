"""A small world for multi-process pipeline tests: replay files, a sources file, a config dir whose
agencies all deliver to one loopback webhook, and the settings/env the workers need."""
from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from routing.policy import CONFIG

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fault-test-webhook-secret"
MUNICIPALITIES = ("городской округ Симферополь", "городской округ Ялта", "городской округ Керчь",
                  "Бахчисарайский район", "городской округ Феодосия")
TEMPLATES = (
    "Уже {n} день нет воды в доме {n} на улице Ленина, сколько можно",
    "На дороге у школы №{n} огромная яма, нет освещения, дети ходят в темноте",
    "Спасибо коммунальщикам за быстрый ремонт крыши дома {n}",
    "Мусор не вывозят с площадки у дома {n}, нет контейнеров уже неделю",
    "Отличная погода сегодня, гуляли в парке с семьёй {n}",
)


@dataclass(frozen=True)
class World:
    """Paths of one test world."""

    root: Path
    config_dir: Path
    sources_file: Path
    data_dir: Path
    item_keys: frozenset  # {(platform, source, item_id)} every item the replays hold


def item_text(n: int) -> str:
    """A deterministic, varied text; about half are complaints for the echo analyzer ('нет')."""
    return TEMPLATES[n % len(TEMPLATES)].format(n=n)


def write_config(target: Path, webhook_url: str, **defaults) -> Path:
    """The repo's routing config with every agency delivering to `webhook_url` (fast retry defaults)."""
    shutil.copytree(CONFIG, target, dirs_exist_ok=True)
    with open(CONFIG / "agencies.csv", newline="", encoding="utf-8") as fh:
        names = [row["name"] for row in csv.DictReader(fh) if row.get("name")]
    cfg = {"max_attempts": 50, "backoff_base_s": 0.2, "backoff_max_s": 1.0, "lease_s": 5.0, "timeout_s": 5.0,
           **defaults}
    lines = ["[defaults]", *(f"{k} = {json.dumps(v)}" for k, v in cfg.items())]
    for name in names:
        lines += ["", "[[channel]]", f"agency = {json.dumps(name, ensure_ascii=False)}",
                  f"webhook = {json.dumps(webhook_url)}"]
    (target / "delivery.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def write_replays(root: Path, sources: int, per_source: int, page_lines: int = 40) -> tuple[Path, frozenset]:
    """One replay file per origin source, and a sources file listing them (plus the origins, disabled)."""
    entries, keys = [], set()
    for s in range(sources):
        origin = f"-{9000 + s}"
        path = root / f"replay_{s}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for i in range(per_source):
                item_id = str(i + 1)
                keys.add(("vk", f"vk:wall:{origin}", item_id))
                fh.write(json.dumps({"type": "raw_item", "source": f"replay:{path}", "payload": {
                    "platform": "vk", "source": f"vk:wall:{origin}", "item_id": item_id,
                    "published_at": "2026-11-20T10:00:00+03:00", "text": item_text(s * per_source + i),
                    "url": f"https://vk.com/wall{origin}_{item_id}"}}, ensure_ascii=False) + "\n")
        entries.append(f'[[source]]\ntype = "replay"\nhandle = "{path}"\ninterval = 10\n'
                       f'options = {{ page_lines = {page_lines} }}\n')
        entries.append(f'[[source]]\ntype = "vk_wall"\nhandle = "{origin}"\nenabled = false\n'
                       f'home_municipality = "{MUNICIPALITIES[s % len(MUNICIPALITIES)]}"\n')
    sources_file = root / "sources.toml"
    sources_file.write_text("\n".join(entries), encoding="utf-8")
    return sources_file, frozenset(keys)


def make_world(root: Path, webhook_url: str, sources: int = 3, per_source: int = 200, **delivery) -> World:
    """Everything the workers read, under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    config_dir = write_config(root / "config", webhook_url, **delivery)
    sources_file, keys = write_replays(root, sources, per_source)
    return World(root, config_dir, sources_file, root / "data", keys)


def worker_env(world: World | None = None) -> dict[str, str]:
    """Environment of a worker process: project on the path, secrets for signing and pseudonyms, and the
    world's folder among the replay directories (its replay files lie beside the data dir, not in it)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TSUR_WEBHOOK_SECRET": SECRET,
           "TSUR_PSEUDONYM_KEY": "fault-test-pseudonym-key-0123456789"}
    return {**env, "TSUR_REPLAY_DIRS": str(world.root)} if world is not None else env


def worker_command(world: World, db_url: str, name: str, *, mode: str = "loop", kill_at: str | None = None,
                   delay: float = 0.0, batch: int = 50) -> list[str]:
    """The argv of one worker process (see tests/support/worker.py)."""
    cmd = [sys.executable, "-m", "tests.support.worker", db_url, name, "--config-dir", str(world.config_dir),
           "--sources", str(world.sources_file), "--data-dir", str(world.data_dir), "--mode", mode,
           "--delay", str(delay), "--batch", str(batch)]
    return cmd + (["--kill-at", kill_at] if kill_at else [])
