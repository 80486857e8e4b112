"""Worker processes of a fault test: start, SIGKILL, restart, stop; wait for quiescence; check invariants."""
from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage.tables import AnalysisRow, Cursor, Decision, Item, Outbox, Source, TicketItem
from tests.support.world import ROOT, World, worker_command, worker_env


@dataclass
class Fleet:
    """Named worker processes over one database; killed ones can be restarted under the same name."""

    world: World
    db_url: str
    mode: str = "loop"
    delay: float = 0.0
    batch: int = 50
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    kills: list[str] = field(default_factory=list)  # names we SIGKILLed
    crashes: list[str] = field(default_factory=list)  # "name:exit code" of workers that died on their own
    armed: dict[str, str] = field(default_factory=dict)  # kill points that have not fired yet

    def spawn(self, name: str, kill_at: str | None = None) -> subprocess.Popen:
        """Start one worker without waiting for it; its kill point stays armed until it fires."""
        kill_at = kill_at or self.armed.get(name)
        if kill_at:
            self.armed[name] = kill_at
        with open(self.log_path(name), "a", encoding="utf-8") as log:  # the child keeps its own copy
            proc = subprocess.Popen(worker_command(self.world, self.db_url, name, mode=self.mode, kill_at=kill_at,
                                                   delay=self.delay, batch=self.batch),
                                    cwd=ROOT, env=worker_env(self.world), stdout=subprocess.PIPE, stderr=log, text=True)
        self.procs[name] = proc
        return proc

    def ready(self, name: str) -> None:
        """Wait for a spawned worker's "ready" line."""
        proc = self.procs[name]
        line = proc.stdout.readline().strip()
        if line != "ready":
            proc.kill()
            raise RuntimeError(f"worker {name} did not start (said {line!r}): {self.log_tail(name)}")

    def log_path(self, name: str):
        return self.world.root / f"{name}.log"

    def log_tail(self, name: str, chars: int = 1500) -> str:
        """The end of a worker's stderr log."""
        path = self.log_path(name)
        return path.read_text(encoding="utf-8", errors="replace")[-chars:] if path.exists() else ""

    def start(self, name: str, kill_at: str | None = None) -> subprocess.Popen:
        """Start one worker and wait until it is ready."""
        proc = self.spawn(name, kill_at)
        self.ready(name)
        return proc

    def start_all(self, plan: dict[str, str | None]) -> None:
        """Start several workers at once ({name: kill_at}), then wait for all of them."""
        for name, kill_at in plan.items():
            self.spawn(name, kill_at)
        for name in plan:
            self.ready(name)

    def kill(self, name: str) -> None:
        """SIGKILL one worker (a crash: no cleanup, no commit)."""
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        self._close(proc)
        self.kills.append(name)

    def revive(self) -> list[str]:
        """Restart every worker that died on its own (its kill point fired: without it); returns their names."""
        dead = [name for name, proc in self.procs.items() if proc.poll() is not None]
        for name in dead:
            self.crashes.append(f"{name}:{self.procs[name].returncode}")
            self.armed.pop(name, None)
            self._close(self.procs[name])
            self.spawn(name)
        return dead

    def watch(self, seconds: float) -> None:
        """Let the workers run for `seconds`, restarting any that die on their own meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.revive()
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    def stop(self, timeout: float = 20) -> dict[str, int]:
        """SIGTERM every worker and wait; returns exit codes by name."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
            self._close(proc)
        return codes

    @staticmethod
    def _close(proc: subprocess.Popen) -> None:
        if proc.stdout and not proc.stdout.closed:
            proc.stdout.close()


def progress(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Counts that tell whether the pipeline is done: items by stage, outbox rows by status."""
    with sessions() as s:
        stages = dict(s.execute(sa.select(Item.stage, sa.func.count()).group_by(Item.stage)).all())
        outbox = dict(s.execute(sa.select(Outbox.status, sa.func.count()).group_by(Outbox.status)).all())
    return {"items": sum(stages.values()), **{f"stage_{k}": v for k, v in stages.items()},
            **{f"outbox_{k}": v for k, v in outbox.items()}}


def is_quiescent(p: dict[str, int], expected_items: int) -> bool:
    """Every item stored and done, no outbox row waiting."""
    return p["items"] == expected_items == p.get("stage_done", 0) and not p.get("outbox_pending", 0)


def wait_quiescent(sessions, expected_items: int, timeout: float, fleet: Fleet | None = None) -> dict[str, int]:
    """Poll until quiescent (reviving dead workers meanwhile); returns the last progress seen."""
    deadline = time.monotonic() + timeout
    while True:
        p = progress(sessions)
        if is_quiescent(p, expected_items) or time.monotonic() > deadline:
            return p
        if fleet is not None:
            fleet.revive()
        time.sleep(0.2)


def check_invariants(sessions: sessionmaker[Session], world: World, receipts: Counter) -> list[str]:
    """Every way the run could have lost or doubled work, as readable problems (empty: all good)."""
    problems = []
    with sessions() as s:
        keys = Counter(tuple(r) for r in s.execute(sa.select(Item.platform, Item.source, Item.item_id)))
        if set(keys) != set(world.item_keys):
            problems.append(f"items: {len(set(world.item_keys) - set(keys))} missing, "
                            f"{len(set(keys) - set(world.item_keys))} unexpected")
        problems += [f"item {k} stored {n} times" for k, n in keys.items() if n > 1][:5]
        per_revision = s.execute(sa.select(AnalysisRow.item_pk, AnalysisRow.revision, sa.func.count())
                                 .group_by(AnalysisRow.item_pk, AnalysisRow.revision)).all()
        problems += [f"item {pk} revision {rev} analysed {n} times" for pk, rev, n in per_revision if n != 1][:5]
        unanalysed = s.scalar(sa.select(sa.func.count()).select_from(Item).where(
            ~sa.exists().where(AnalysisRow.item_pk == Item.id, AnalysisRow.revision == Item.revision)))
        if unanalysed:
            problems.append(f"{unanalysed} items have no analysis of their revision")
        per_analysis = Counter(s.scalars(sa.select(Decision.analysis_id)))
        problems += [f"analysis {a} decided {n} times" for a, n in per_analysis.items() if n > 1][:5]
        undecided = s.scalar(sa.select(sa.func.count()).select_from(AnalysisRow).where(
            ~sa.exists().where(Decision.analysis_id == AnalysisRow.id)))
        if undecided:
            problems.append(f"{undecided} analyses have no decision")
        tickets_per_item = Counter(s.scalars(sa.select(TicketItem.item_pk)))
        problems += [f"item {pk} is in {n} tickets" for pk, n in tickets_per_item.items() if n > 1][:5]
        outbox = s.execute(sa.select(Outbox.key, Outbox.status)).all()
        problems += [f"outbox {k} ended {st!r}" for k, st in outbox if st != "sent"][:5]
        problems += [f"outbox {k} never reached the receiver" for k, _ in outbox if receipts[k] < 1][:5]
        strangers = set(receipts) - {k for k, _ in outbox}
        if strangers:
            problems.append(f"receiver got {len(strangers)} keys the outbox does not hold")
        enabled_replays = s.scalars(sa.select(Source.id).where(Source.platform == "replay")).all()
        cursors = {c.source_id for c in s.scalars(sa.select(Cursor))}
        if set(enabled_replays) - cursors:
            problems.append("a replay source has no cursor")
    return problems
