"""People keyed by (iss, sub), admin-granted roles with an audit trail, and the Admin page that edits them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import auth
from core.config import REPO_ROOT
from core.errors import AtelierError, PermissionDenied, UnknownIdError
from core.services import roles
from tests.auth.conftest import ISSUER, SECRETS, claims


def identity(sub: str, email: str = "same@example.com", name: str = "Pat",
             groups: tuple[str, ...] = ()) -> roles.Identity:
    return roles.Identity.from_claims({"iss": ISSUER, "sub": sub, "email": email, "name": name,
                                       "groups": list(groups)})


def test_people_are_keyed_by_iss_and_sub_never_email(home: Path) -> None:
    first = roles.sign_in(identity("s-1"))
    again = roles.sign_in(identity("s-1", email="new@example.com", name="Pat Renamed"))
    other = roles.sign_in(identity("s-2"))  # same email, another subject: another person
    elsewhere = roles.sign_in(roles.Identity(iss="https://other-idp.test", sub="s-1", name="Pat"))
    assert first.key == again.key and len({first.key, other.key, elsewhere.key}) == 3
    people = roles.people()
    assert len(people) == 3
    assert people.set_index("key").loc[first.key, "email"] == "new@example.com"


def test_claims_without_iss_or_sub_are_refused() -> None:
    with pytest.raises(AtelierError, match="'iss'/'sub'"):
        roles.Identity.from_claims({"email": "a@b.c", "sub": ""})


def test_roles_are_claims_plus_grants_plus_bootstrap_admins(home: Path) -> None:
    pat = roles.sign_in(identity("s-1", groups=("atelier-stylist",)))
    assert pat.roles == {"stylist"}
    boss = roles.sign_in(identity("boss"), bootstrap_admins=[f"{ISSUER} boss"])
    assert boss.roles == {"admin"}
    auth.serve_team()
    with auth.acting_as(boss):
        assert roles.set_roles(boss.key, pat.key, ["crm", "analyst"]) == (["analyst", "crm"], [])
        assert roles.set_roles(boss.key, pat.key, ["crm"]) == ([], ["analyst"])
    assert roles.sign_in(identity("s-1", groups=("atelier-stylist",))).roles == {"stylist", "crm"}
    audit = roles.role_audit()
    assert list(audit["action"][:2]) == ["roles.set", "roles.set"] and set(audit["who"][:2]) == {boss.key}


def test_only_admins_edit_roles_and_nobody_removes_their_own_admin(home: Path) -> None:
    pat = roles.sign_in(identity("s-1", groups=("atelier-crm",)))
    boss = roles.sign_in(identity("boss", groups=("atelier-admin",)))
    auth.serve_team()
    with auth.acting_as(pat), pytest.raises(PermissionDenied):
        roles.set_roles(pat.key, pat.key, ["admin"])
    with auth.acting_as(boss):
        roles.set_roles(boss.key, boss.key, ["admin"])
        with pytest.raises(AtelierError, match="own admin"):
            roles.set_roles(boss.key, boss.key, [])
        with pytest.raises(UnknownIdError, match="sign in once"):
            roles.set_roles(boss.key, "nobody~0", ["crm"])
        with pytest.raises(AtelierError, match="unknown role"):
            roles.set_roles(boss.key, pat.key, ["root"])
    assert roles.granted_roles(pat.key) == frozenset() and roles.granted_roles(boss.key) == {"admin"}


def test_admin_page_grants_a_role_that_takes_effect_on_the_next_click(home: Path, team_options: dict) -> None:
    newcomer = claims(None, sub="new-1")
    first = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    first.secrets, first.user = SECRETS, newcomer
    first.run()
    assert "hold no role" in first.warning[0].value

    admin = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    admin.secrets, admin.user = SECRETS, claims("admin")
    admin.run()
    admin.switch_page("pages/admin.py").run()
    people = roles.people()
    key = people.loc[people["sub"] == "new-1", "key"].iloc[0]  # the newcomer is listed after one sign-in
    admin.selectbox(key="admin_person").set_value(key).run()
    admin.multiselect[0].set_value(["merchandiser"])
    submit = [b for b in admin.button if b.label == "Save roles"]
    submit[0].click().run()
    assert "added merchandiser" in admin.success[0].value

    first.run()
    assert not first.warning and "pages/attribute_review.py" in {
        Path(i["script_path"]).relative_to(REPO_ROOT).as_posix() for i in first._registered_pages.values()
        if i.get("script_path")}


@pytest.mark.postgres
def test_people_and_grants_on_postgresql(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same rules on the team's shared PostgreSQL (migration 0003 applied there by the first sign-in)."""
    import sqlalchemy as sa

    url = os.environ.get("ATELIER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        sa.create_engine(url).connect().close()
    except Exception as error:  # noqa: BLE001 — any connection failure means no server here
        pytest.skip(f"no PostgreSQL at {url}: {error}")
    engine = sa.create_engine(url)
    schema = f"auth_{os.getpid()}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        monkeypatch.setenv("DATABASE_URL", f"{url}?options=-csearch_path%3D{schema}")
        boss = roles.sign_in(identity("boss"), bootstrap_admins=[f"{ISSUER} boss"])
        pat = roles.sign_in(identity("s-1"))
        auth.serve_team()
        with auth.acting_as(boss):
            roles.set_roles(boss.key, pat.key, ["stylist"])
        assert roles.sign_in(identity("s-1")).roles == {"stylist"}
        assert len(roles.people()) == 2
    finally:
        from core.db.engine import dispose_engines

        dispose_engines()
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def test_an_outdated_shared_database_refuses_sign_in_instead_of_migrating(home: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """People decide when a shared database is upgraded: sign-in says how, and the schema stays at 0002."""
    from core.db import migrate
    from core.db.engine import get_engine
    from core.db.session import forget_schema_checks
    from core.errors import SchemaOutdatedError

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    migrate.upgrade(get_engine(url), "0002")
    monkeypatch.setenv("DATABASE_URL", url)
    forget_schema_checks()
    with pytest.raises(SchemaOutdatedError, match="python -m core db upgrade"):
        roles.sign_in(identity("s-1"))
    assert migrate.current_revision(get_engine(url)) == "0002"
