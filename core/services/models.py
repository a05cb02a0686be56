"""Model versions: register a trained artifact, activate it, load the active one (or the last good one)."""

from __future__ import annotations

import logging
import warnings
from typing import Any, Mapping

import pandas as pd
import sqlalchemy as sa

from core import auth
from core.artifacts import Artifact, ArtifactStore
from core.data.workspace import Workspace
from core.db import audit
from core.db.models import ModelVersion, utcnow
from core.db.session import insert_ignore, read_session, transaction
from core.errors import ArtifactError, ParamsError, Problem, UnknownIdError
from core.jsonable import to_plain

log = logging.getLogger(__name__)
KIND_NAMES = {"affinity": "affinity", "long_tail": "long-tail", "attributes": "attributes",
              "complementary": "outfit pairs", "affinity_table": "affinity table"}


def version_name(kind: str, number: int, created_at: Any) -> str:
    """What people call a version: "affinity v3 · 5 Dec 19:52" (its number among the kind's versions, oldest v1)."""
    when = pd.Timestamp(created_at)
    return f"{KIND_NAMES.get(kind, kind)} v{number} · {when.day} {when:%b %H:%M}"


def store(ws: Workspace) -> ArtifactStore:
    """The workspace's artifact store."""
    return ArtifactStore(ws.artifacts_path)


def register_version(ws: Workspace, kind: str, version: str, metrics: dict[str, Any], by: str) -> None:
    """Record a saved artifact version with its metrics (idempotent); it is not active until `activate`."""
    store(ws).verify(kind, version)  # refuse to register a version that is missing or broken
    with transaction(ws) as session:
        inserted = insert_ignore(session, ModelVersion, dict(
            workspace=ws.name, kind=kind, version=version, metrics=to_plain(metrics), created_by=by,
        ))
        if inserted:
            audit.record(session, by, "register_model", ws.name, f"{kind}/{version}", {"metrics": metrics})


def activate(ws: Workspace, kind: str, version: str, by: str, figures: Mapping[str, Any] | None = None) -> None:
    """Make `version` the one serving `kind` (its files are verified first; the old one stays as fallback).

    The audit row records who, when, the version it replaced and `figures`: what the decision saw (the promotion
    rule's comparison, or the metrics of both versions when a person activates or rolls back on the page)."""
    auth.require_training(by, kind)
    store(ws).verify(kind, version)
    with transaction(ws) as session:
        row = _row(session, ws, kind, version)
        if row is None:
            raise UnknownIdError(f"{kind} version {version} is not registered in workspace '{ws.name}': "
                                 "register it (training does) before activating it")
        previous = active_version(ws, kind, session=session)
        session.execute(sa.update(ModelVersion)
                        .where(ModelVersion.workspace == ws.name, ModelVersion.kind == kind)
                        .values(active=False))
        row.active, row.activated_at, row.activated_by = True, utcnow(), by
        if figures is None:  # a person's choice: keep what both versions' metrics said when they made it
            before = _row(session, ws, kind, previous) if previous else None
            figures = {"metrics": row.metrics, "previous_metrics": before.metrics if before is not None else None}
        audit.record(session, by, "activate_model", ws.name, f"{kind}/{version}",
                     {"previous": previous, **dict(figures)})


def version_meta(ws: Workspace, kind: str, version: str) -> dict[str, Any]:
    """The meta a version was saved with (read from its manifest, not verified); {} when it is gone."""
    found = [info for info in store(ws).versions(kind) if info.version == version]
    return dict(found[0].meta) if found else {}


def active_version(ws: Workspace, kind: str, session: sa.orm.Session | None = None) -> str | None:
    """The version id serving `kind`, or None when none was activated."""
    query = sa.select(ModelVersion.version).where(
        ModelVersion.workspace == ws.name, ModelVersion.kind == kind, ModelVersion.active.is_(True))
    if session is not None:
        return session.scalar(query)
    with read_session(ws) as reader:
        return reader.scalar(query)


def load_active(ws: Workspace, kind: str) -> Artifact | None:
    """The active version, verified; if it fails its checks, the most recently active good one (with a warning).

    Returns None when no version of `kind` was ever activated; raises ArtifactError when none can be served.
    """
    with read_session(ws) as session:
        rows = session.scalars(
            sa.select(ModelVersion)
            .where(ModelVersion.workspace == ws.name, ModelVersion.kind == kind,
                   ModelVersion.activated_at.is_not(None))
            .order_by(ModelVersion.active.desc(), ModelVersion.activated_at.desc())
        ).all()
    if not rows or not rows[0].active:
        return None
    artifacts, failure = store(ws), None
    for row in rows:
        try:
            artifact = artifacts.load(kind, row.version)
        except ArtifactError as error:
            failure = failure or error
            log.error("model %s version %s refused: %s", kind, row.version, error)
            continue
        if failure is None:
            return artifact
        message = (f"the active {kind} version {rows[0].version} was refused ({failure}); "
                   f"serving the previous good version {row.version} instead")
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return Artifact(artifact.kind, artifact.version, artifact.path, artifact.arrays, artifact.meta,
                        artifact.manifest, warning=message)
    raise ArtifactError(f"no {kind} version can be served: {failure} (and no earlier version passes its checks); "
                        "train a new version")


def list_versions(ws: Workspace, kind: str) -> pd.DataFrame:
    """Versions of `kind`, newest first: version, name (`version_name`), created_at, created_by, active, registered,
    size_mb, one column per metric."""
    with read_session(ws) as session:
        rows = {row.version: row for row in session.scalars(
            sa.select(ModelVersion).where(ModelVersion.workspace == ws.name, ModelVersion.kind == kind))}
    records = []
    for info in store(ws).versions(kind):
        row = rows.pop(info.version, None)
        metrics = row.metrics if row is not None else info.meta.get("metrics", {})
        records.append({
            "version": info.version,
            "created_at": pd.Timestamp(info.created_at),
            "created_by": row.created_by if row is not None else info.meta.get("by", ""),
            "active": bool(row.active) if row is not None else False,
            "registered": row is not None,
            "size_mb": round(info.size_bytes / 1e6, 3),
            **_flatten(metrics),
        })
    for version, row in rows.items():  # registered, but the files are gone
        records.append({"version": version, "created_at": pd.Timestamp(row.created_at), "created_by": row.created_by,
                        "active": bool(row.active), "registered": True, "size_mb": None, "missing_files": True,
                        **_flatten(row.metrics)})
    columns = ["version", "name", "created_at", "created_by", "active", "registered", "size_mb"]
    if not records:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame.from_records(records).sort_values("created_at", ascending=False, ignore_index=True)
    numbers = range(len(frame), 0, -1)
    frame.insert(1, "name", [version_name(kind, n, t) for n, t in zip(numbers, frame["created_at"])])
    return frame


def name_of(ws: Workspace, kind: str, version: str) -> str:
    """The name people say for `version` (`version_name`), or the id itself when it is not listed."""
    frame = list_versions(ws, kind)
    found = frame.loc[frame["version"] == version, "name"] if not frame.empty else frame
    return str(found.iloc[0]) if len(found) else version


def _row(session: sa.orm.Session, ws: Workspace, kind: str, version: str) -> ModelVersion | None:
    return session.scalar(sa.select(ModelVersion).where(
        ModelVersion.workspace == ws.name, ModelVersion.kind == kind, ModelVersion.version == version))


def _flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float, str, bool)) or value is None:
            flat[f"{prefix}{key}"] = value
    return flat


def run_options(values: Mapping[str, Any], defaults: Mapping[str, Any], what: str, params_name: str) -> dict[str, Any]:
    """A training job's run options (how it runs, beside the model's params) over `defaults`; unknown names refused."""
    unknown = sorted(set(values) - set(defaults))
    if unknown:
        raise ParamsError([Problem(what, None, None, f"unknown run option(s) {unknown}; known: {sorted(defaults)} "
                                   f"(model parameters go in {params_name})")])
    return {**defaults, **values}
