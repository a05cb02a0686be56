"""People and roles: record who signed in, resolve their roles (claims + admin grants), let an admin edit grants."""

# People and grants are team-wide, not per workspace: they live in DATABASE_URL when set (the shared
# PostgreSQL), else in <ATELIER_HOME>/atelier.db, next to the workspaces folder.

from __future__ import annotations

import hashlib
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import auth
from core.config import get_settings
from core.db import audit, migrate
from core.db.engine import get_engine, sqlite_url
from core.db.session import check_schema
from core.db.models import AuditLog, Person, RoleGrant, utcnow
from core.errors import AtelierError, UnknownIdError

DIRECTORY = "*"  # the `workspace` of audit rows about people and roles (they belong to no workspace)
_MIGRATED: set[str] = set()
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Identity:
    """What the identity provider says about a person (from st.user): (iss, sub) identify them."""

    iss: str
    sub: str
    name: str = ""
    email: str = ""
    claim_roles: frozenset[str] = frozenset()

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], group_roles: Mapping[str, str] | None = None,
                    groups_claim: str = auth.DEFAULT_GROUPS_CLAIM) -> "Identity":
        iss, sub = str(claims.get("iss") or "").strip(), str(claims.get("sub") or "").strip()
        if not iss or not sub:
            raise AtelierError("the identity provider sent no 'iss'/'sub' claims: configure it to issue "
                               "OpenID Connect ID tokens (scope 'openid')")
        name = str(claims.get("name") or claims.get("preferred_username") or claims.get("email") or sub)
        return cls(iss=iss, sub=sub, name=name[:200], email=str(claims.get("email") or "")[:320],
                   claim_roles=auth.roles_from_claims(claims, group_roles, groups_claim))


def directory_url() -> str:
    settings = get_settings()
    return settings.database_url or sqlite_url(settings.home / "atelier.db")


def directory_engine() -> Engine:
    """The engine of the people/roles database, its schema checked once per process.

    The app's own <home>/atelier.db is migrated to head (nobody else writes it); a shared DATABASE_URL is only
    checked: a brand-new one gets its tables, an outdated one refuses sign-in until `python -m core db upgrade`.
    """
    engine = get_engine(directory_url())
    key = str(engine.url)
    if key not in _MIGRATED:
        with _LOCK:
            if key not in _MIGRATED:
                if get_settings().database_url:
                    check_schema(engine)
                else:
                    Path(str(engine.url.database)).parent.mkdir(parents=True, exist_ok=True)
                    migrate.upgrade(engine)
                _MIGRATED.add(key)
    return engine


@contextmanager
def _session() -> Iterator[Session]:
    session = Session(directory_engine(), expire_on_commit=False)
    try:
        with session.begin():
            yield session
    finally:
        session.close()


def person_key(identity: Identity) -> str:
    """A stable, readable key for rows people write: name-ish slug + a hash of (iss, sub)."""
    digest = hashlib.sha256(f"{identity.iss}\n{identity.sub}".encode()).hexdigest()[:10]
    slug = re.sub(r"[^a-z0-9]+", "-", (identity.name or "person").lower()).strip("-")[:40] or "person"
    return f"{slug}~{digest}"


def sign_in(identity: Identity, bootstrap_admins: Iterable[str] = ()) -> auth.Actor:
    """Record the person (first sign-in creates them) and return them with their effective roles.

    Roles = groups claim ∪ roles an admin granted ∪ admin for an "iss sub" listed in bootstrap_admins.
    Called on every run: it reads, and writes only on a first sign-in or a changed name/email.
    """
    found = _lookup(identity)
    if found is None or found[1] != (identity.name, identity.email):
        with _session() as session:
            person = session.scalar(sa.select(Person).where(Person.iss == identity.iss, Person.sub == identity.sub))
            if person is None:
                person = Person(iss=identity.iss, sub=identity.sub, key=person_key(identity), name=identity.name,
                                email=identity.email)
                session.add(person)
                session.flush()
                audit.record(session, person.key, "person.first_sign_in", DIRECTORY, person.key,
                             {"iss": identity.iss, "claim_roles": sorted(identity.claim_roles)})
            else:
                person.name, person.email, person.last_seen = identity.name, identity.email, utcnow()
        found = _lookup(identity)
        assert found is not None  # written just above
    key, _, granted = found
    roles = set(identity.claim_roles) | granted
    if f"{identity.iss} {identity.sub}" in set(bootstrap_admins):
        roles.add("admin")
    actor = auth.Actor(key=key, iss=identity.iss, sub=identity.sub, name=identity.name,
                       roles=frozenset(roles), email=identity.email)
    auth.remember(actor)
    return actor


def _lookup(identity: Identity) -> tuple[str, tuple[str, str], frozenset[str]] | None:
    """(key, (name, email), granted roles) of a known person, read without taking SQLite's write lock."""
    engine = directory_engine().execution_options(atelier_read_only=True)
    with Session(engine) as session, session.begin():
        person = session.scalar(sa.select(Person).where(Person.iss == identity.iss, Person.sub == identity.sub))
        if person is None:
            return None
        granted = frozenset(session.scalars(sa.select(RoleGrant.role).where(RoleGrant.person_id == person.id)))
        return person.key, (person.name, person.email), granted


def people() -> pd.DataFrame:
    """Everyone who signed in: key, name, email, iss, sub, granted roles (sorted list), first/last seen."""
    with _session() as session:
        rows = session.scalars(sa.select(Person).order_by(Person.name, Person.id)).all()
        grants = session.execute(sa.select(RoleGrant.person_id, RoleGrant.role)).all()
    by_person: dict[int, list[str]] = {}
    for person_id, role in grants:
        by_person.setdefault(person_id, []).append(role)
    return pd.DataFrame([{"key": p.key, "name": p.name, "email": p.email, "iss": p.iss, "sub": p.sub,
                          "roles": sorted(by_person.get(p.id, [])), "first_seen": p.first_seen,
                          "last_seen": p.last_seen} for p in rows],
                        columns=["key", "name", "email", "iss", "sub", "roles", "first_seen", "last_seen"])


def granted_roles(key: str) -> frozenset[str]:
    with _session() as session:
        person = _person(session, key)
        return frozenset(g.role for g in person.grants)


def set_roles(by: str, key: str, roles: Iterable[str]) -> tuple[list[str], list[str]]:
    """Replace the granted roles of person `key` (admin only); returns (added, removed). Audited.

    An admin cannot take the admin role from themselves (another admin must), so a team never locks itself out.
    """
    caller = auth.require_action(by, "roles.edit")
    wanted = set(roles)
    unknown = wanted - set(auth.ROLES)
    if unknown:
        raise AtelierError(f"unknown role(s) {', '.join(sorted(unknown))}: choose from {', '.join(auth.ROLES)}")
    with _session() as session:
        person = _person(session, key)
        held = {g.role for g in person.grants}
        if person.key == caller.key and "admin" in held and "admin" not in wanted:
            raise AtelierError("you cannot remove your own admin role: ask another admin (nothing was changed)")
        added, removed = sorted(wanted - held), sorted(held - wanted)
        for grant in [g for g in person.grants if g.role in removed]:
            person.grants.remove(grant)
        for role in added:
            person.grants.append(RoleGrant(role=role, granted_by=caller.key))
        if added or removed:
            audit.record(session, caller.key, "roles.set", DIRECTORY, person.key,
                         {"added": added, "removed": removed, "iss": person.iss, "sub": person.sub})
    auth.forget(key)  # their next run re-resolves roles; a check before that must not use the old ones
    return added, removed


def role_audit(limit: int = 50) -> pd.DataFrame:
    """The latest people/roles audit rows (who, action, target, details)."""
    with _session() as session:
        rows = session.scalars(sa.select(AuditLog).where(AuditLog.workspace == DIRECTORY)
                               .order_by(AuditLog.id.desc()).limit(limit)).all()
    return pd.DataFrame([{"at": r.at, "who": r.who, "action": r.action, "target": r.target, "details": r.details}
                         for r in rows], columns=["at", "who", "action", "target", "details"])


def _person(session: Session, key: str) -> Person:
    person = session.scalar(sa.select(Person).where(Person.key == key))
    if person is None:
        raise UnknownIdError(f"nobody with key {key!r} has signed in yet: they must sign in once before "
                             "an admin can grant them roles")
    return person
