"""Errors the library raises on purpose, and their one-line form: shared by the `tsur` CLI and the daemon."""
from __future__ import annotations

import sys

EXIT_ERROR = 2


def known_errors() -> tuple[type[BaseException], ...]:
    """Errors the library raises on purpose (bad input, config, database); anything else is a bug."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import DatabaseUnavailable
    from tsur.settings import ConfigError

    found: list[type[BaseException]] = [ConfigError, DatabaseUnavailable, KeyError, ValueError, LookupError,
                                        OSError, SQLAlchemyError]
    for module, name in (("routing.errors", "RoutingError"), ("nlp.artifacts", "ArtifactError"),
                         ("nlp.geo.errors", "GeoError"), ("collectors.errors", "Fatal")):
        # a module never imported raised nothing: skip it rather than import (nlp.artifacts pulls in sklearn)
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None:
            found.append(cls)
    return tuple(found)


def one_line(exc: BaseException) -> str:
    """The first line of an error's message (KeyError without its quotes), secrets masked."""
    from tsur.masking import mask

    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return mask(lines[0]) if lines else exc.__class__.__name__
