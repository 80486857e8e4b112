"""Alembic environment: runs against the engine handed in by storage.db.upgrade."""
from alembic import context

from storage.tables import Base

config = context.config


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


if config.attributes.get("connection") is not None:  # storage.db.upgrade: the connection holding the lock
    run(config.attributes["connection"])
else:
    engine = config.attributes.get("engine")
    if engine is None:  # plain `alembic` CLI use: -x url=...
        from storage.db import make_engine

        engine = make_engine(context.get_x_argument(as_dictionary=True)["url"])
    with engine.connect() as connection:
        run(connection)
