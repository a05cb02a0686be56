"""The session gate in front of /media: no fresh signed-in cookie, no file; downloads expire; Secure over HTTPS."""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

import pytest
from itsdangerous import URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from ui import server

SECRET = "g" * 48


def signed_cookie(claims: dict[str, Any], secret: str = SECRET) -> str:
    """Streamlit's auth cookie as its login callback writes it (itsdangerous, salted with the cookie name)."""
    return URLSafeTimedSerializer(secret, salt=server.USER_COOKIE).dumps(json.dumps(claims))


EXPORT = b"customer_id\nc1\n"


async def export(request) -> Response:  # what Streamlit's /media route answers for a download
    response = Response(EXPORT, media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="audience.csv"'})
    response.set_cookie("_streamlit_xsrf", "x")
    return response


async def image(request) -> Response:  # a product image: shown inline, not a download
    return Response(b"\x89PNG", media_type="image/png")


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    sections = {"auth": {"cookie_secret": SECRET, "redirect_uri": "x"}, "atelier": {"revalidate_seconds": 60}}
    monkeypatch.setattr(server, "secret", sections.get)
    monkeypatch.setenv("ATELIER_AUTH", "team")
    app = Starlette(routes=[Route("/media/img/{file_id}", image), Route("/media/{file_id}", export),
                            Route("/", export)])
    with TestClient(server.SessionGate(app), base_url="http://127.0.0.1") as test_client:
        yield test_client
    server._GATED.clear()


def fresh_claims(**extra: Any) -> dict[str, Any]:
    return {"is_logged_in": True, "iss": "https://idp.test", "sub": "alice", "exp": time.time() + 300, **extra}


@pytest.fixture(autouse=True)
def alices_export() -> Iterator[None]:
    """The download the fake /media route serves was built by alice's click."""
    server.issue_download(EXPORT, fresh_claims())
    yield
    server._ISSUED.clear()


def test_media_without_a_signed_in_cookie_is_refused(client: TestClient) -> None:
    assert client.get("/media/abc.csv").status_code == 403
    client.cookies.set(server.USER_COOKIE, signed_cookie(fresh_claims(), secret="another secret" + "x" * 40))
    assert client.get("/media/abc.csv").status_code == 403  # forged: signed with another key
    client.cookies.set(server.USER_COOKIE, signed_cookie({"is_logged_in": False}))
    assert client.get("/media/abc.csv").status_code == 403
    assert server.gated()


def test_media_with_a_fresh_sign_in_is_served_and_an_expired_one_is_not(client: TestClient) -> None:
    client.cookies.set(server.USER_COOKIE, signed_cookie(fresh_claims()))
    response = client.get("/media/abc.csv")
    assert response.status_code == 200 and b"c1" in response.content
    client.cookies.set(server.USER_COOKIE, signed_cookie(fresh_claims(exp=time.time() - 1)))
    assert client.get("/media/abc.csv").status_code == 403


def test_a_download_stops_being_served_after_its_lifetime(client: TestClient,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    client.cookies.set(server.USER_COOKIE, signed_cookie(fresh_claims()))
    assert client.get("/media/once.csv").status_code == 200
    monkeypatch.setattr(server, "DOWNLOAD_TTL_S", -1)
    assert client.get("/media/once.csv").status_code == 404
    assert client.get("/media/other.csv").status_code == 200  # each file has its own clock


def test_the_embedded_default_passes_media_through(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_AUTH", "local")
    assert client.get("/media/abc.csv").status_code == 200


def test_cookies_are_secure_over_https_only(client: TestClient) -> None:
    assert "secure" not in client.get("/").headers["set-cookie"].lower()
    https = TestClient(client.app, base_url="https://atelier.example.com")
    assert "; secure" in https.get("/").headers["set-cookie"].lower()


def test_a_deferred_export_is_refused_once_the_sign_in_that_rendered_it_expires(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The websocket outlives the sign-in: a click on an old Export button must not build the file."""
    from core.errors import PermissionDenied
    from ui import auth as ui_auth

    monkeypatch.setattr(ui_auth, "team_mode", lambda: True)
    monkeypatch.setattr(ui_auth, "_atelier_settings", lambda: {"revalidate_seconds": 60})
    from core import auth

    monkeypatch.setattr(ui_auth, "_identity", lambda: ({"exp": time.time() + 300}, time.time()))
    with pytest.raises(PermissionDenied):  # a button rendered for nobody builds nothing
        ui_auth.signed_in_only(lambda: b"ids")()
    crm = auth.Actor(key="crm~1", iss="https://idp.test", sub="crm-1", name="Crm", roles=frozenset({"crm"}))
    with auth.acting_as(crm):
        build = ui_auth.signed_in_only(lambda: auth.current_actor().key.encode())
    assert build() == b"crm~1"  # built later, outside the run, still as the person who saw the button
    monkeypatch.setattr(ui_auth, "_identity", lambda: ({"exp": time.time() - 1}, time.time()))
    with auth.acting_as(crm), pytest.raises(PermissionDenied, match="sign in again"):
        ui_auth.signed_in_only(lambda: b"ids")()
    monkeypatch.setattr(ui_auth, "_identity", lambda: ({"exp": time.time() + 300}, time.time() - 61))
    with auth.acting_as(crm), pytest.raises(PermissionDenied):
        ui_auth.signed_in_only(lambda: b"ids")()


def test_a_download_is_served_only_to_the_person_who_exported_it(client: TestClient) -> None:
    """Another signed-in person with the URL (a stylist it was forwarded to) gets nothing."""
    client.cookies.set(server.USER_COOKIE, signed_cookie(fresh_claims(sub="bob")))
    refused = client.get("/media/abc.csv")
    assert refused.status_code == 403 and b"c1" not in refused.content
    client.cookies.set(server.USER_COOKIE, signed_cookie(fresh_claims(iss="https://other.idp", sub="alice")))
    assert client.get("/media/abc.csv").status_code == 403
    server._ISSUED.clear()  # a file nobody's click built (or one from before a restart)
    client.cookies.set(server.USER_COOKIE, signed_cookie(fresh_claims()))
    assert client.get("/media/abc.csv").status_code == 403


def test_media_that_is_not_a_download_needs_only_a_sign_in(client: TestClient) -> None:
    client.cookies.set(server.USER_COOKIE, signed_cookie(fresh_claims(sub="bob")))
    assert client.get("/media/img/shoe.png").status_code == 200
    client.cookies.clear()
    assert client.get("/media/img/shoe.png").status_code == 403
