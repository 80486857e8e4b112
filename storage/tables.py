"""SQLAlchemy 2 typed tables: the database is the hand-off between the stages."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite (naive storage) and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass timezone-aware UTC")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(512), unique=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    handle: Mapped[str] = mapped_column(sa.String(512))
    kind: Mapped[str] = mapped_column(sa.String(32), default="community")
    home_municipality: Mapped[str | None] = mapped_column(sa.String(128))
    interval_s: Mapped[int] = mapped_column(default=600)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.Text)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(128))
    lease_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    not_before: Mapped[datetime | None]  # a FloodWait / Retry-After: not polled again before this
    last_success_at: Mapped[datetime | None]
    last_new_item_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_error_at: Mapped[datetime | None]
    consecutive_errors: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Cursor(Base):
    __tablename__ = "cursors"

    source_id: Mapped[int] = mapped_column(sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        sa.UniqueConstraint("platform", "source", "item_id", name="uq_items_platform_source_item"),
        sa.Index("ix_items_stage", "stage", "id"),
        sa.Index("ix_items_parent", "source", "parent_id"),
        sa.Index("ix_items_text_hash", "text_hash"),  # reposts: routing.incidents.by_hash
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    source: Mapped[str] = mapped_column(sa.String(512))
    item_id: Mapped[str] = mapped_column(sa.String(128))
    parent_id: Mapped[str | None] = mapped_column(sa.String(128))
    kind: Mapped[str] = mapped_column(sa.String(16), default="post")
    published_at: Mapped[datetime]
    text: Mapped[str | None] = mapped_column(sa.Text)  # NULL once retention has purged it
    text_hash: Mapped[str] = mapped_column(sa.String(64))
    url: Mapped[str | None] = mapped_column(sa.Text)
    author: Mapped[str | None] = mapped_column(sa.String(128))
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    revision: Mapped[int] = mapped_column(default=1)
    stage: Mapped[str] = mapped_column(sa.String(16), default="analyse")  # analyse | route | done | failed
    error: Mapped[str | None] = mapped_column(sa.Text)  # why a stage parked the item (stage "failed")
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    purged_at: Mapped[datetime | None]


class QuarantineRecord(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(512), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(16), default="open", server_default="open")  # open|retried|dropped
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(sa.String(128))  # the operator who retried or dropped it
    resolution: Mapped[str | None] = mapped_column(sa.Text)  # the item it became, or why it was dropped


class AnalysisRow(Base):
    __tablename__ = "analyses"
    __table_args__ = (
        sa.UniqueConstraint("item_pk", "revision", "model_version", name="uq_analyses_item_rev_model"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_pk: Mapped[int] = mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int]
    model_version: Mapped[str] = mapped_column(sa.String(64))
    is_complaint: Mapped[bool]
    complaint_proba: Mapped[float]
    genre: Mapped[str | None] = mapped_column(sa.String(16))  # complaint | notice | other; NULL: made before genres
    topic_group: Mapped[str | None] = mapped_column(sa.String(128))
    topic: Mapped[str | None] = mapped_column(sa.String(256))
    topic_proba: Mapped[float] = mapped_column(default=0.0)
    municipality: Mapped[str | None] = mapped_column(sa.String(128))
    settlement: Mapped[str | None] = mapped_column(sa.String(128))
    geo_evidence: Mapped[str | None] = mapped_column(sa.Text)
    geo_confidence: Mapped[float] = mapped_column(default=0.0)
    importance: Mapped[str] = mapped_column(sa.String(16), default="normal")
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    worker: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ticket(Base):
    """A ticket is an incident: one problem at one place, with one or more items."""

    __tablename__ = "tickets"
    __table_args__ = (sa.Index("ix_tickets_open", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency: Mapped[str | None] = mapped_column(sa.String(256), index=True)
    topic_group: Mapped[str | None] = mapped_column(sa.String(128))
    topic: Mapped[str | None] = mapped_column(sa.String(256))
    municipality: Mapped[str | None] = mapped_column(sa.String(128))
    settlement: Mapped[str | None] = mapped_column(sa.String(128))
    importance: Mapped[str] = mapped_column(sa.String(16), default="normal")
    status: Mapped[str] = mapped_column(sa.String(16), default="new")
    closing_reason: Mapped[str | None] = mapped_column(sa.String(32))
    summary: Mapped[str | None] = mapped_column(sa.Text)
    sample_texts: Mapped[list[Any]] = mapped_column(default=list)  # texts of the first items: incident matching
    rule: Mapped[str | None] = mapped_column(sa.String(128))
    rules_version: Mapped[str | None] = mapped_column(sa.String(64))
    sla_state: Mapped[str] = mapped_column(sa.String(16), default="ok")  # ok | warning | overdue
    merged_into: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (sa.Index("ix_decisions_outcome", "outcome", "reviewed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_pk: Mapped[int] = mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"), index=True)
    analysis_id: Mapped[int] = mapped_column(sa.ForeignKey("analyses.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    rule: Mapped[str] = mapped_column(sa.String(128))
    reason: Mapped[str] = mapped_column(sa.Text)
    agency: Mapped[str | None] = mapped_column(sa.String(256))
    route_rule: Mapped[str | None] = mapped_column(sa.String(128))  # the routing rule behind the agency, also for reviews
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rules_version: Mapped[str | None] = mapped_column(sa.String(64))
    reviewed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketItem(Base):
    __tablename__ = "ticket_items"

    item_pk: Mapped[int] = mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    via: Mapped[str] = mapped_column(sa.String(64))  # create | attach:<rule> | merge | ops
    added_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the incident window


class TicketEvent(Base):
    """Audit of every change to a ticket: who, what, from, to, why."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(128))
    kind: Mapped[str] = mapped_column(sa.String(32))
    old_value: Mapped[str | None] = mapped_column(sa.Text)
    new_value: Mapped[str | None] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Label(Base):
    """A human correction or confirmation of one field of one item: training data."""

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_pk: Mapped[int | None] = mapped_column(sa.ForeignKey("items.id", ondelete="SET NULL"), index=True)
    field: Mapped[str] = mapped_column(sa.String(32))  # is_complaint|topic_group|topic|municipality|...
    value: Mapped[str | None] = mapped_column(sa.Text)
    previous: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(128))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    origin: Mapped[str] = mapped_column(sa.String(32), default="ops")  # ops | import | agency
    text: Mapped[str | None] = mapped_column(sa.Text)  # for imported rows without an item
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Outbox(Base):
    """Deliveries waiting to be sent; the key makes a message go out at most once."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(256), unique=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))  # webhook | email
    target: Mapped[str] = mapped_column(sa.Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Run(Base):
    """One pass of one stage (or one source's collection), with its counts."""

    __tablename__ = "runs"
    __table_args__ = (sa.Index("ix_runs_stage_started", "stage", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    stage: Mapped[str] = mapped_column(sa.String(32))
    source: Mapped[str | None] = mapped_column(sa.String(512))
    worker: Mapped[str | None] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(16), default="running")  # running|ok|error|skipped|abandoned
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
