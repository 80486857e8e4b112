"""A private, throw-away PostgreSQL server for tests that must restart the database.

The machine's shared server is never touched: initdb runs into a fresh temporary folder (as the
`postgres` OS user when we are root), the server listens on a free local port with its socket in
that folder, and `stop()` removes everything.

Example:
    pg = PrivatePostgres.start_new()      # raises Unavailable when initdb is missing
    url = pg.url                          # postgresql+psycopg://postgres@127.0.0.1:<port>/postgres
    pg.restart("immediate"); pg.stop()
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class Unavailable(RuntimeError):
    """No PostgreSQL server binaries here (or no way to run them); tests skip on it."""


def find_bindir() -> Path:
    """The newest /usr/lib/postgresql/*/bin holding initdb and pg_ctl (or the one on PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise Unavailable("initdb not found (install the PostgreSQL server package)")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("running as root but there is no 'postgres' OS user for initdb") from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise Unavailable("running as root and runuser is missing")
    return [runuser, "-u", "postgres", "--"]


@dataclass
class PrivatePostgres:
    """One server in `root` (data in root/data, socket and log in root)."""

    root: Path
    port: int
    bindir: Path
    prefix: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def start_new(cls) -> "PrivatePostgres":
        """initdb a new cluster in a temporary folder and start it."""
        bindir, prefix = find_bindir(), _as_postgres()
        root = Path(tempfile.mkdtemp(prefix="tsur-pg-"))
        if prefix:
            entry = pwd.getpwnam("postgres")
            os.chown(root, entry.pw_uid, entry.pw_gid)
        pg = cls(root, free_port(), bindir, prefix)
        try:
            pg._run("initdb", "-D", str(pg.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
            pg.start()
        except Exception:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return pg

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        cmd = [*self.prefix, str(self.bindir / tool), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise Unavailable(f"{tool} failed ({done.returncode}): {tail[0]}")

    def _options(self) -> str:
        return (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                "-c fsync=off -c max_connections=100 -c shared_buffers=32MB")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", self._options(),
                  "-w", "-t", "60", "start")

    def restart(self, mode: str = "fast") -> None:
        """Restart under load: `fast` rolls back open transactions, `immediate` is a crash (WAL recovery)."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-m", mode,
                  "-o", self._options(), "-w", "-t", "60", "restart")

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
        except Unavailable:
            pass
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
