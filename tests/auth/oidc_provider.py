"""A loopback OpenID Connect provider for tests: discovery, JWKS, authorize, token and logout, RS256-signed."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

MODES = ("success", "access_denied", "forged_state")


@dataclass
class LoopbackProvider:
    """Serves one identity provider on 127.0.0.1; `mode` and `claims` decide what the next sign-in returns.

    success: the person is authenticated and a code comes back with the right state;
    access_denied: the person refused consent (RFC 6749 error=access_denied);
    forged_state: a valid code comes back with a state the app never issued (a login-CSRF attempt).
    `lifetime_s` sets the ID tokens' lifetime and `set_groups` changes someone's groups mid-test.
    """

    client_id: str = "atelier-test"
    client_secret: str = "test-secret"
    mode: str = "success"
    claims: dict[str, Any] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # "authorize", "token", "logout" in the order they came
    lifetime_s: int = 300  # the ID token's exp - iat
    groups: dict[str, list[str]] = field(default_factory=dict)  # sub -> groups now, overriding claims' groups
    _key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "test-key"}))
    _codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        assert self._server is not None, "start() the provider first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def start(self) -> "LoopbackProvider":
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's naming
                provider._get(self)

            def do_POST(self) -> None:
                provider._post(self)

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ----------------------------------------------------------------------------------------- endpoints
    def _get(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlparse(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            self._json(handler, {
                "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "end_session_endpoint": f"{self.issuer}/logout", "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "email", "profile"]})
        elif url.path == "/jwks":
            self._json(handler, {"keys": [self._key.as_dict(private=False)]})
        elif url.path == "/authorize":
            self.calls.append("authorize")
            self._authorize(handler, query)
        elif url.path == "/logout":
            self.calls.append("logout")
            self._redirect(handler, query["post_logout_redirect_uri"])
        else:
            handler.send_error(404)

    def _authorize(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            handler.send_error(400, "bad client or response_type")
            return
        target = query["redirect_uri"]
        if self.mode == "access_denied":
            self._redirect(handler, f"{target}?{urlencode({'error': 'access_denied', 'state': query['state']})}")
            return
        code = secrets.token_urlsafe(16)
        self._codes[code] = {"nonce": query.get("nonce"), "redirect_uri": target, "claims": dict(self.claims)}
        state = "forged-" + secrets.token_urlsafe(8) if self.mode == "forged_state" else query["state"]
        self._redirect(handler, f"{target}?{urlencode({'code': code, 'state': state})}")

    def _post(self, handler: BaseHTTPRequestHandler) -> None:
        if urlparse(handler.path).path != "/token":
            handler.send_error(404)
            return
        self.calls.append("token")
        length = int(handler.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()}
        if not self._client_ok(handler, form):
            self._json(handler, {"error": "invalid_client"}, status=401)
            return
        grant = self._codes.pop(form.get("code", ""), None)  # single use
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            self._json(handler, {"error": "invalid_grant"}, status=400)
            return
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + self.lifetime_s,
                  "nonce": grant["nonce"], **grant["claims"]}
        if claims.get("sub") in self.groups:  # the directory changed since the code was issued
            claims["groups"] = list(self.groups[claims["sub"]])
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self._key)
        self._json(handler, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                             "expires_in": self.lifetime_s, "id_token": id_token})

    def set_groups(self, sub: str, groups: list[str]) -> None:
        """Change a person's groups at the provider: every ID token issued to `sub` from now on carries them."""
        self.groups[sub] = list(groups)

    def _client_ok(self, handler: BaseHTTPRequestHandler, form: dict[str, str]) -> bool:
        header = handler.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return (user, password) == (self.client_id, self.client_secret)
        return (form.get("client_id"), form.get("client_secret")) == (self.client_id, self.client_secret)

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, payload: dict[str, Any], status: int = 200) -> None:
        body = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    @staticmethod
    def _redirect(handler: BaseHTTPRequestHandler, location: str) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
