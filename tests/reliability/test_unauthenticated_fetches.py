"""Every way to fetch an export's /media URL without being its signed-in maker is refused (team mode)."""

from __future__ import annotations

import time

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.auth.test_session_gate import SECRET, export, fresh_claims, signed_cookie
from ui import server

EXPORT_URL = "/media/0f1e2d3c4b5a69788796a5b4c3d2e1f0.csv"


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch):
    sections = {"auth": {"cookie_secret": SECRET, "redirect_uri": "x"}, "atelier": {"revalidate_seconds": 60}}
    monkeypatch.setattr(server, "secret", sections.get)
    monkeypatch.setenv("ATELIER_AUTH", "team")
    server.issue_download(b"customer_id\nc1\n", fresh_claims())
    app = Starlette(routes=[Route("/media/{file_id}", export)])
    with TestClient(server.SessionGate(app), base_url="http://127.0.0.1") as client:
        yield client
    server._ISSUED.clear()
    server._GATED.clear()


def test_no_request_but_the_makers_gets_the_file(gate: TestClient, report) -> None:
    attempts = {
        "no cookie": {},
        "empty cookie": {"Cookie": f"{server.USER_COOKIE}="},
        "garbage cookie": {"Cookie": f"{server.USER_COOKIE}=not-a-signature"},
        "malformed header": {"Cookie": "\x00;;=;"},
        "forged (other key)": {"Cookie": f"{server.USER_COOKIE}={signed_cookie(fresh_claims(), 'k' * 48)}"},
        "signed out": {"Cookie": f"{server.USER_COOKIE}={signed_cookie({'is_logged_in': False})}"},
        "token expired": {"Cookie": f"{server.USER_COOKIE}={signed_cookie(fresh_claims(exp=time.time() - 1))}"},
        "another person": {"Cookie": f"{server.USER_COOKIE}={signed_cookie(fresh_claims(sub='mallory'))}"},
        "another provider": {"Cookie": f"{server.USER_COOKIE}="
                                       f"{signed_cookie(fresh_claims(iss='https://evil.example'))}"},
        "chunked, chunk missing": {"Cookie": f"{server.USER_COOKIE}={signed_cookie('chunks-2')}"},
    }
    refused = {name: gate.get(EXPORT_URL, headers=headers).status_code for name, headers in attempts.items()}
    served = gate.get(EXPORT_URL, headers={"Cookie": f"{server.USER_COOKIE}={signed_cookie(fresh_claims())}"})
    report("fetches of a CRM export's /media URL", unauthenticated_refused=f"{sum(c == 403 for c in refused.values())}"
           f"/{len(refused)}", maker_served=served.status_code == 200)
    assert all(code == 403 for code in refused.values()), refused
    assert served.status_code == 200 and served.content.startswith(b"customer_id")
