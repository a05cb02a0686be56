"""core.auth: the caller check, roles from claims, team mode and the start-up settings check."""

from __future__ import annotations

import pytest

from core import auth
from core.errors import PermissionDenied

GOOD_TEAM = {"server.address": "0.0.0.0", "server.enableXsrfProtection": True, "server.enableCORS": True,
             "server.allowedHosts": ["atelier.example.com"], "client.showErrorDetails": "none",
             "server.enableAgentApi": False, "server.maxUploadSize": 1024}
GOOD_AUTH = {"redirect_uri": "https://atelier.example.com/oauth2callback", "cookie_secret": "k" * 48,
             "client_id": "atelier", "client_secret": "s", "server_metadata_url": "https://idp/.well-known/x"}


def person(*roles: str, key: str = "p~1") -> auth.Actor:
    return auth.Actor(key=key, iss="https://idp.test", sub=key, name=f"P {key}", roles=frozenset(roles))


def test_unbound_caller_is_the_local_operator_until_the_process_serves_a_team() -> None:
    assert auth.require_role("anyone", "crm") is auth.LOCAL
    auth.serve_team()
    with pytest.raises(PermissionDenied, match="sign in"):
        auth.require_role("anyone", "crm")


def test_bound_person_needs_the_role_and_cannot_act_for_someone_else() -> None:
    auth.serve_team()
    with auth.acting_as(person("stylist")):
        assert auth.require_role("p~1", "stylist").key == "p~1"
        with pytest.raises(PermissionDenied, match="'crm' role"):
            auth.require_role("p~1", "crm")
        with pytest.raises(PermissionDenied, match="made for 'p~2'"):
            auth.require_role("p~2", "stylist")


def test_a_callback_before_binding_uses_the_remembered_roles_and_admin_edits_forget_them() -> None:
    auth.serve_team()
    auth.remember(person("crm", key="p~9"))
    assert auth.require_role("p~9", "crm").key == "p~9"
    auth.forget("p~9")
    with pytest.raises(PermissionDenied):
        auth.require_role("p~9", "crm")


def test_training_roles_by_kind() -> None:
    auth.serve_team()
    with auth.acting_as(person("merchandiser")):
        auth.require_training("p~1", "attributes")
        with pytest.raises(PermissionDenied):
            auth.require_training("p~1", "train_affinity")
    with auth.acting_as(person("analyst")):
        for kind in auth.KIND_ROLES:
            auth.require_training("p~1", kind)


@pytest.mark.parametrize(("groups", "mapping", "expected"), [
    (["atelier-crm", "staff", "/atelier-admin"], None, {"crm", "admin"}),
    ("atelier-crm, atelier-stylist", None, {"crm", "stylist"}),
    ([" atelier-analyst "], None, {"analyst"}),
    (["Marketing"], {"Marketing": "crm"}, {"crm"}),
    (["atelier-crm"], {"Marketing": "crm"}, set()),  # an explicit mapping is the only source of truth
    (["atelier-root"], None, set()),
    (["Marketing"], {"Marketing": "root"}, set()),  # a role Atelier does not know is no role
])
def test_roles_from_groups_claim(groups, mapping, expected) -> None:
    assert auth.roles_from_claims({"groups": groups}, mapping) == frozenset(expected)


@pytest.mark.parametrize("groups", [
    ["/contractors/admin"], "everyone admin", ["everyone admin"], ["my-own-group/atelier-admin"], ["admin"],
    ["Atelier-Admin"], ["atelier-administrators"], ["x-atelier-admin"], ["/contractors/atelier-admin"], "admin,crm",
])
def test_near_misses_of_a_group_name_grant_nothing(groups) -> None:
    """Regression: roles were granted by suffix ("/contractors/admin", "everyone admin" became admin)."""
    assert auth.roles_from_claims({"groups": groups}) == frozenset()
    assert auth.roles_from_claims({"groups": groups}, {"atelier-admins": "admin", "Marketing": "crm"}) == frozenset()


def test_each_default_group_maps_exactly_its_role() -> None:
    for role in auth.ROLES:
        assert auth.roles_from_claims({"groups": [f"atelier-{role}"]}) == {role}
        assert auth.roles_from_claims({"groups": [f"/atelier-{role}"]}) == {role}
    assert auth.roles_from_claims({"groups": ["atelier-admins"]}, {"atelier-admins": "admin"}) == {"admin"}


def test_an_identity_past_exp_is_expired_and_an_old_sign_in_is_due_for_a_check() -> None:
    claims = {"iat": 1000, "exp": 1020}
    assert auth.freshness(claims, signed_at=1001, revalidate_s=600, now=1010) is auth.Freshness.FRESH
    assert auth.freshness(claims, signed_at=1001, revalidate_s=600, now=1020) is auth.Freshness.EXPIRED
    long_lived = {"iat": 1000, "exp": 99_999}
    assert auth.freshness(long_lived, signed_at=1001, revalidate_s=60, now=1060) is auth.Freshness.FRESH
    assert auth.freshness(long_lived, signed_at=1001, revalidate_s=60, now=1061) is auth.Freshness.STALE
    assert auth.freshness(long_lived, signed_at=None, revalidate_s=60, now=1060) is auth.Freshness.STALE  # iat
    assert auth.freshness({}, signed_at=None, revalidate_s=60, now=10**9) is auth.Freshness.FRESH


def test_revalidation_interval_defaults_to_at_most_15_minutes_and_is_bounded() -> None:
    assert auth.revalidate_seconds(None) == auth.REVALIDATE_DEFAULT_S <= 15 * 60
    assert auth.revalidate_seconds({"revalidate_seconds": "30"}) == 30
    for bad in (0, 901, "soon"):
        with pytest.raises(ValueError, match="revalidate_seconds"):
            auth.revalidate_seconds({"revalidate_seconds": bad})
    findings = auth.check_settings(GOOD_TEAM, team=True, auth_section=GOOD_AUTH, atelier={"revalidate_seconds": 3600})
    assert [f.option for f in findings] == ["atelier.revalidate_seconds"]


def test_team_mode_without_the_session_gate_refuses_to_serve() -> None:
    findings = auth.check_settings(GOOD_TEAM, team=True, auth_section=GOOD_AUTH, gated=False)
    assert [(f.option, f.refuse) for f in findings] == [("serve.py", True)]


def test_team_mode_from_env_or_secrets(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.toml"
    monkeypatch.delenv(auth.AUTH_ENV, raising=False)
    assert not auth.team_mode(secrets)
    secrets.write_text('[auth]\nredirect_uri = "x"\n')
    assert auth.team_mode(secrets)
    monkeypatch.setenv(auth.AUTH_ENV, "local")
    assert not auth.team_mode(secrets)
    monkeypatch.setenv(auth.AUTH_ENV, "team")
    assert auth.team_mode(tmp_path / "absent.toml")
    monkeypatch.setenv(auth.AUTH_ENV, "maybe")
    with pytest.raises(ValueError, match="team"):
        auth.team_mode(secrets)


def test_settings_check_accepts_a_good_team_server() -> None:
    assert auth.check_settings(GOOD_TEAM, team=True, auth_section=GOOD_AUTH) == []


@pytest.mark.parametrize(("option", "value"), [
    ("server.enableXsrfProtection", False), ("server.enableCORS", False), ("server.allowedHosts", []),
    ("server.allowedHosts", ["*"]), ("client.showErrorDetails", "full"), ("server.enableAgentApi", True),
])
def test_settings_check_refuses_each_unsafe_team_setting(option: str, value: object) -> None:
    findings = auth.check_settings({**GOOD_TEAM, option: value}, team=True, auth_section=GOOD_AUTH)
    assert [f.option for f in findings] == [option] and findings[0].refuse


def test_settings_check_names_missing_auth_keys_weak_secret_and_small_uploads() -> None:
    missing = auth.check_settings(GOOD_TEAM, team=True, auth_section={"redirect_uri": "x"})
    assert "cookie_secret, client_id, client_secret, server_metadata_url" in missing[0].message
    weak = auth.check_settings(GOOD_TEAM, team=True, auth_section={**GOOD_AUTH, "cookie_secret": "short"})
    assert weak[0].option == "auth.cookie_secret"
    small = auth.check_settings({**GOOD_TEAM, "server.maxUploadSize": 10}, team=True, auth_section=GOOD_AUTH)
    assert [(f.option, f.refuse) for f in small] == [("server.maxUploadSize", False)]
    named = {**GOOD_AUTH, "client_id": None, "okta": {"client_id": "a", "client_secret": "b",
                                                      "server_metadata_url": "c"}}
    assert auth.check_settings(GOOD_TEAM, team=True, auth_section=named) == []


def test_without_sign_in_the_server_must_stay_on_loopback() -> None:
    assert auth.check_settings({"server.address": "127.0.0.1"}, team=False) == []
    refused = auth.check_settings({"server.address": "0.0.0.0"}, team=False)
    assert refused and refused[0].refuse and "127.0.0.1" in refused[0].message
    unset = auth.check_settings({"server.address": ""}, team=False)
    assert [(f.option, f.refuse) for f in unset] == [("server.address", False)]  # warned, not refused


def test_every_page_file_has_a_role_rule_and_a_guard() -> None:
    from core.config import REPO_ROOT

    from ui.pages import PAGES

    pages = sorted(p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "pages").glob("*.py"))
    assert pages == sorted(page.path for page in PAGES)
    for page in pages:
        assert "guard(__file__)" in (REPO_ROOT / page).read_text(), f"{page} does not guard itself"


def test_the_documented_secrets_example_passes_the_check_and_maps_groups() -> None:
    from core.config import REPO_ROOT

    example = auth.read_secrets(REPO_ROOT / ".streamlit" / "secrets.toml.example")
    assert auth.check_settings(GOOD_TEAM, team=True, auth_section=example["auth"]) == []
    mapping = example["atelier"]["group_roles"]
    assert set(mapping.values()) == set(auth.ROLES)
    assert auth.roles_from_claims({"groups": ["styling", "crm"]}, mapping) == {"stylist"}
    assert ".streamlit/secrets.toml" in (REPO_ROOT / ".gitignore").read_text().splitlines()
