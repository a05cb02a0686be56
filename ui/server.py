"""The team server's session gate: /media only for a fresh sign-in, downloads only to who made them, Secure cookies."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.cookies import CookieError, SimpleCookie
from typing import Any, Awaitable, Callable, Mapping, MutableMapping

import streamlit as st
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.middleware import Middleware

from core import auth
from core.config import REPO_ROOT

SCRIPT = REPO_ROOT / "app.py"
USER_COOKIE = "_streamlit_user"  # streamlit.web.server.starlette.starlette_server_config.USER_COOKIE_NAME
COOKIE_MAX_AGE_S = 30 * 24 * 3600  # what Streamlit gives its auth cookie; older signatures are refused
MEDIA_PREFIX = "/media/"
DOWNLOAD_TTL_S = 120  # a download URL works this long after its first fetch: long enough to retry, not to share

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_GATED = threading.Event()  # set once a SessionGate fronts this process's server (see gated())
# sha256 of an export's bytes -> (iss, sub) of the person whose click built it, and when: the gate hands a
# download only to its maker (Streamlit names /media files by a content hash and serves them to any caller).
_ISSUED: dict[str, tuple[tuple[str, str], float]] = {}
_ISSUED_LOCK = threading.Lock()


def issue_download(data: bytes | str, claims: Mapping[str, Any]) -> None:
    """Record that the signed-in person of `claims` built this download (called by ui.auth.signed_in_only)."""
    body = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    now = time.time()
    with _ISSUED_LOCK:
        _ISSUED[hashlib.sha256(body).hexdigest()] = (_person(claims), now)
        for old in [k for k, (_, t) in _ISSUED.items() if now - t > 24 * 3600]:
            del _ISSUED[old]


def _person(claims: Mapping[str, Any]) -> tuple[str, str]:
    return str(claims.get("iss", "")), str(claims.get("sub", ""))


def gated() -> bool:
    """Whether this process serves through SessionGate (serve.py); team mode refuses to serve without it."""
    return _GATED.is_set()


def secret(name: str) -> Any:
    """A top-level section of st.secrets as a plain value (None when secrets.toml is absent or lacks it)."""
    # A missing or unparsable secrets.toml reads as "no [auth]": set ATELIER_AUTH=team on a team server so
    # that case refuses to serve instead of falling back to the (loopback-only) embedded default.
    if not st.secrets.load_if_toml_exists():
        return None
    value = st.secrets.get(name)
    return value.to_dict() if hasattr(value, "to_dict") else value


def identity_from_cookies(cookies: Mapping[str, str], cookie_secret: str) -> tuple[dict[str, Any], float] | None:
    """The signed-in person's claims in Streamlit's auth cookie and when this server signed it (epoch seconds).

    None when there is no cookie, its signature (or a chunk's) does not verify, or it does not say signed in.
    """
    if not cookie_secret or USER_COOKIE not in cookies:
        return None
    serializer = URLSafeTimedSerializer(cookie_secret, salt=USER_COOKIE)
    try:
        head, signed = serializer.loads(cookies[USER_COOKIE], max_age=COOKIE_MAX_AGE_S, return_timestamp=True)
        body = str(head)
        if body.startswith("chunks-"):  # a large cookie is split: each chunk is signed under its own name
            parts = [URLSafeTimedSerializer(cookie_secret, salt=f"{USER_COOKIE}_{i}").loads(
                cookies[f"{USER_COOKIE}_{i}"], max_age=COOKIE_MAX_AGE_S) for i in range(1, int(body[7:]) + 1)]
            body = "".join(parts)
        claims = json.loads(body)
    except (BadSignature, KeyError, ValueError):
        return None
    if not isinstance(claims, dict) or not claims.get("is_logged_in"):
        return None
    return claims, signed.timestamp()


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers") or []:
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:  # a malformed header counts as no cookie
                continue
    return {key: morsel.value for key, morsel in jar.items()}


class SessionGate:
    """ASGI middleware in front of Streamlit (team mode only; the embedded default passes through untouched).

    Refuses (403) any /media request without a fresh signed-in cookie — Streamlit serves /media to anyone with
    the URL, and exports of customer ids land there — and any download (an attachment) to anyone but the person
    whose click built it; stops serving a download DOWNLOAD_TTL_S after its first fetch (404); marks every cookie
    the server sets Secure when the request came over HTTPS (or `[atelier] secure_cookies = true`), which
    Streamlit's own auth cookie never is.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._first_fetch: dict[str, float] = {}
        self._lock = threading.Lock()
        _GATED.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = dict(secret("atelier") or {})
        if scope.get("scheme") == "https" or settings.get("secure_cookies"):
            send = _with_secure_cookies(send)
        path = str(scope.get("path", ""))
        if MEDIA_PREFIX not in path or not _team():
            await self.app(scope, receive, send)
            return
        claims = self._signed_in(scope, settings)
        if claims is None:
            await _plain(send, 403, b"Sign in to Atelier to download this file.")
            return
        with self._lock:
            first = self._first_fetch.get(path)
        if first is not None and time.time() - first > DOWNLOAD_TTL_S:
            await _plain(send, 404, b"This download has expired: export it again.")
            return
        # The owner check hashes the body as built: ask the inner server for it uncompressed.
        scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers") or [] if k.lower() != b"accept-encoding"]}
        await self.app(scope, receive, _owner_only(_person(claims), self._timing_downloads(path, send)))

    def _signed_in(self, scope: Scope, settings: Mapping[str, Any]) -> dict[str, Any] | None:
        """The claims of a fresh sign-in in the request's cookie, else None."""
        found = identity_from_cookies(_cookies(scope), _cookie_secret())
        if found is None:
            return None
        try:
            revalidate = auth.revalidate_seconds(settings)
        except ValueError:
            return None  # the app refuses to serve with this setting; so does the gate
        return found[0] if auth.freshness(found[0], found[1], revalidate) is auth.Freshness.FRESH else None

    def _timing_downloads(self, path: str, send: Send) -> Send:
        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 200 and _is_attachment(message):
                now = time.time()
                with self._lock:
                    self._first_fetch.setdefault(path, now)
                    for old in [p for p, t in self._first_fetch.items() if now - t > 24 * 3600]:
                        del self._first_fetch[old]  # Streamlit has long dropped those files
            await send(message)
        return timed


def _owner_only(requester: tuple[str, str], send: Send) -> Send:
    """Hold an attachment's response until its body is whole, then send it only if `requester` built it."""
    held: list[Message] = []

    async def checked(message: Message) -> None:
        if message["type"] == "http.response.start" and not _is_attachment(message):
            held.append({"pass": True})
        if held and held[0].get("pass"):
            await send(message)
            return
        held.append(message)
        if message["type"] != "http.response.body" or message.get("more_body"):
            return
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        with _ISSUED_LOCK:
            owner = _ISSUED.get(hashlib.sha256(body).hexdigest())
        if owner is None or owner[0] != requester:
            await _plain(send, 403, b"This download belongs to the person who exported it: export it yourself.")
            return
        for kept in held:
            await send(kept)
    return checked


def _is_attachment(message: Message) -> bool:
    return any(k.lower() == b"content-disposition" and v.startswith(b"attachment")
               for k, v in message.get("headers") or [])


def _team() -> bool:
    try:
        return auth.team_mode({"auth": secret("auth")})
    except ValueError:
        return True  # a bad ATELIER_AUTH stops the app; the gate stays shut meanwhile


def _cookie_secret() -> str:
    return str((secret("auth") or {}).get("cookie_secret") or "")


def _with_secure_cookies(send: Send) -> Send:
    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [(k, v + b"; Secure") if k.lower() == b"set-cookie" and b"secure" not in v.lower()
                                  else (k, v) for k, v in message.get("headers") or []]
        await send(message)
    return secured


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def middleware() -> list[Middleware]:
    """The middleware serve.py hands st.App."""
    return [Middleware(SessionGate)]
