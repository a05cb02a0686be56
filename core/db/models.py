"""SQLAlchemy 2.0 models of what people decide and what must be remembered."""

# Rows that belong to a workspace carry a `workspace` column (one PostgreSQL may serve many workspaces);
# child rows (campaign members/outcomes, pair labels) are scoped through their parent's foreign key.
# Adding a column: edit here, then `python -m core db revision -m "why"` (autogenerate) and review it.

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Names every constraint, so migrations can drop/alter them by name on both dialects.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")
REVIEW_DECISIONS = ("accept", "correct", "skip", "undo", "confirm")  # confirm: the catalogue value is right
PAIR_LABELS = ("yes", "no", "unsure")
PAIR_STATUSES = ("open", "claimed", "done", "skipped")
CAMPAIGN_GROUPS = ("target", "control")


def utcnow() -> datetime:
    """Timezone-aware UTC now (the default of every timestamp column)."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        # SQLite stores text without a zone: keep it naive-UTC so comparisons sort correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: sa.JSON(), list[Any]: sa.JSON()}


class ModelVersion(Base):
    """A trained model version (its files live in the ArtifactStore); `active` marks the one serving."""

    __tablename__ = "model_version"
    __table_args__ = (sa.UniqueConstraint("workspace", "kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace: Mapped[str] = mapped_column(sa.String(200), index=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[str] = mapped_column(sa.String(100))
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    activated_by: Mapped[str | None] = mapped_column(sa.String(200))


class Job(Base):
    """Long work run out of the web process: queued -> running -> done | failed | cancelled."""

    __tablename__ = "job"
    __table_args__ = (
        sa.CheckConstraint(_in("status", JOB_STATUSES), name="status"),
        sa.Index("ix_job_workspace_kind_status", "workspace", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace: Mapped[str] = mapped_column(sa.String(200))
    workspace_path: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(64))
    target: Mapped[str] = mapped_column(sa.String(300))  # "module:function"
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    progress: Mapped[float] = mapped_column(default=0.0)  # 0..1
    message: Mapped[str] = mapped_column(sa.Text, default="")
    metrics: Mapped[list[Any]] = mapped_column(default=list)  # [{"step", "fraction", "at", <name>: value}]
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(sa.String(255))  # where pid lives (a shared PostgreSQL has many)
    submitted_by: Mapped[str] = mapped_column(sa.String(200))
    # A form's idempotency key: a double click or a resubmit of the same form finds this job instead of a new one.
    request_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]


class Campaign(Base):
    """A CRM campaign: an audience built from brand affinity, edited by several people (optimistic lock)."""

    __tablename__ = "campaign"
    __table_args__ = (sa.UniqueConstraint("workspace", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace: Mapped[str] = mapped_column(sa.String(200), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(32), default="draft")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)  # brands, size, holdout, model version ...
    model_version: Mapped[str | None] = mapped_column(sa.String(100))
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    members: Mapped[list[CampaignMember]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", passive_deletes=True
    )
    __mapper_args__ = {"version_id_col": version_id}


class CampaignMember(Base):
    """One user of a campaign's audience, in the target or the hold-out control group."""

    __tablename__ = "campaign_member"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "user_id"),
        sa.CheckConstraint(_in('"group"', CAMPAIGN_GROUPS), name="group"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(200))
    group: Mapped[str] = mapped_column(sa.String(16))
    score: Mapped[float | None]
    rank: Mapped[int | None]

    campaign: Mapped[Campaign] = relationship(back_populates="members")


class CampaignOutcome(Base):
    """What a campaign member did afterwards (imported), to measure uplift against the control group."""

    __tablename__ = "campaign_outcome"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(200))
    opened: Mapped[bool] = mapped_column(default=False)
    clicked: Mapped[bool] = mapped_column(default=False)
    bought: Mapped[bool] = mapped_column(default=False)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttributeReview(Base):
    """One merchandiser decision on a predicted attribute; request_id makes a double submit harmless."""

    __tablename__ = "attribute_review"
    __table_args__ = (
        sa.CheckConstraint(_in("decision", REVIEW_DECISIONS), name="decision"),
        sa.Index("ix_attribute_review_workspace_item_attribute", "workspace", "item_id", "attribute"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace: Mapped[str] = mapped_column(sa.String(200))
    item_id: Mapped[str] = mapped_column(sa.String(200))
    attribute: Mapped[str] = mapped_column(sa.String(100))
    decision: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[str | None] = mapped_column(sa.Text)
    predicted: Mapped[str | None] = mapped_column(sa.Text)
    probability: Mapped[float | None]
    model_version: Mapped[str | None] = mapped_column(sa.String(100))
    reviewer: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    request_id: Mapped[str] = mapped_column(sa.String(64), unique=True)


class CatalogueValue(Base):
    """The current decided value of one item attribute (overrides the imported catalogue)."""

    __tablename__ = "catalogue_value"
    __table_args__ = (sa.UniqueConstraint("workspace", "item_id", "attribute"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace: Mapped[str] = mapped_column(sa.String(200))
    item_id: Mapped[str] = mapped_column(sa.String(200))
    attribute: Mapped[str] = mapped_column(sa.String(100))
    value: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.String(32))  # import | review | model
    updated_by: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class PairCandidate(Base):
    """An (item_a, item_b) pair waiting for stylists' labels; claimed by one labeller at a time."""

    __tablename__ = "pair_candidate"
    __table_args__ = (
        sa.UniqueConstraint("workspace", "item_a", "item_b"),
        sa.CheckConstraint(_in("status", PAIR_STATUSES), name="status"),
        sa.Index("ix_pair_candidate_workspace_status", "workspace", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace: Mapped[str] = mapped_column(sa.String(200))
    item_a: Mapped[str] = mapped_column(sa.String(200))
    item_b: Mapped[str] = mapped_column(sa.String(200))
    score: Mapped[float | None]
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    labels_needed: Mapped[int] = mapped_column(default=1)
    labels_count: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(200))
    claim_expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    labels: Mapped[list[PairLabel]] = relationship(back_populates="pair", passive_deletes=True)


class PairLabel(Base):
    """One stylist's verdict on a pair: one per (pair, labeller); request_id makes a resubmit harmless."""

    __tablename__ = "pair_label"
    __table_args__ = (
        sa.UniqueConstraint("pair_id", "labeller"),
        sa.CheckConstraint(_in("label", PAIR_LABELS), name="label"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(sa.ForeignKey("pair_candidate.id", ondelete="CASCADE"), index=True)
    labeller: Mapped[str] = mapped_column(sa.String(200))
    label: Mapped[str] = mapped_column(sa.String(16))
    request_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    pair: Mapped[PairCandidate] = relationship(back_populates="labels")


class ImportRun(Base):
    """One attempt to import a file: what, by whom, how many rows, and why it was rejected."""

    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace: Mapped[str] = mapped_column(sa.String(200), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))  # interactions | catalogue | outfits | customers
    source: Mapped[str] = mapped_column(sa.Text)  # file name or path
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16))  # committed | rejected | failed
    rows: Mapped[int] = mapped_column(default=0)
    problems: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class AuditLog(Base):
    """Append-only record of who did what, when (the migration adds triggers refusing UPDATE/DELETE)."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_workspace_at", "workspace", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    who: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(100))
    workspace: Mapped[str] = mapped_column(sa.String(200))
    target: Mapped[str] = mapped_column(sa.Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Person(Base):
    """Someone who signed in, keyed by the identity provider's (iss, sub) — never by email, which can change hands."""

    __tablename__ = "person"
    __table_args__ = (sa.UniqueConstraint("iss", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    iss: Mapped[str] = mapped_column(sa.String(500))
    sub: Mapped[str] = mapped_column(sa.String(255))
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)  # what `created_by`/`who` columns record
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    email: Mapped[str] = mapped_column(sa.String(320), default="")  # shown only, never used to identify
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)

    grants: Mapped[list[RoleGrant]] = relationship(back_populates="person", cascade="all, delete-orphan",
                                                   passive_deletes=True)


class RoleGrant(Base):
    """A role an admin granted to a person on the Admin page (roles from the groups claim are not stored)."""

    __tablename__ = "role_grant"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "role"),
        sa.CheckConstraint("role IN ('crm', 'merchandiser', 'stylist', 'analyst', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(32))
    granted_by: Mapped[str] = mapped_column(sa.String(200))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="grants")
