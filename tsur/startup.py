"""The daemon's start: everything it needs is checked before any stage runs; a problem is one line."""
from __future__ import annotations

import os
import socket
from pathlib import Path

from storage.db import check_connection, upgrade
from tsur.pipeline import Pipeline
from tsur.settings import ConfigError, Settings


def check_data_dir(path: Path) -> None:
    """data_dir exists (or is created) as a writable directory. Example: check_data_dir(Path("var"))."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"data_dir {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"data_dir {path}: cannot create it: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"data_dir {path}: not writable by this user")


def check_port(host: str, port: int) -> None:
    """The metrics server can listen on host:port (bound like http.server binds, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:  # gaierror for a bad host, EADDRINUSE, EACCES below 1024 …
            reason = exc.strerror or str(exc)
            raise ConfigError(f"metrics_port {port} on {host}: cannot listen: {reason} "
                              "(another process there? choose another --metrics-port)") from None


def start_pipeline(settings: Settings, *, serve_metrics: bool = False) -> Pipeline:
    """Check the data dir, the metrics port, the database, every config file and the models; then create or
    upgrade the schema.

    Example: pipeline = start_pipeline(load_settings(), serve_metrics=True)
    """
    if settings.database_url is None or settings.pseudonym_key is None:  # SQLite or the local key live there
        check_data_dir(settings.data_dir)
    if serve_metrics and settings.metrics_port is not None:
        check_port(settings.metrics_host, settings.metrics_port)
    pipeline = Pipeline(settings, migrate=False)
    try:
        check_connection(pipeline.engine)
        pipeline.check()
        upgrade(pipeline.engine)
    except BaseException:
        pipeline.close()
        raise
    return pipeline
