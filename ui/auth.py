"""Sign-in for pages: the team-mode gate (st.login), the acting person, page guards and the settings check."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, TypeVar

import streamlit as st
from streamlit.auth_util import is_authlib_installed
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import auth
from core.auth import ROLE_HELP, ROLES  # noqa: F401 — re-exported: pages read role names through ui
from core.config import REPO_ROOT
from core.errors import AtelierError, PermissionDenied
from core.services import roles
from ui import pages, server

USER_KEY = "atelier_user"  # ui.context.current_user() reads the acting person's key from here
OPTIONS = ("server.address", "server.enableXsrfProtection", "server.enableCORS", "server.allowedHosts",
           "client.showErrorDetails", "server.enableAgentApi", "server.maxUploadSize")
_LOG = logging.getLogger("atelier.auth")
_WARNED: set[str] = set()
T = TypeVar("T")


def team_mode() -> bool:
    """core.auth.team_mode over the app's secrets (st.secrets); a bad ATELIER_AUTH reads as an AtelierError."""
    try:
        return auth.team_mode({"auth": _secret("auth")})
    except ValueError as error:
        raise AtelierError(str(error)) from error


def sign_in_gate() -> auth.Actor:
    """Run first on every rerun: check settings, sign the person in (team mode), bind them for services.

    Stops the run (sign-in screen or settings error) when nobody may act yet; returns the acting person.
    """
    team = team_mode()
    _check_settings(team)
    if not team:
        return _bind(auth.LOCAL)
    auth.serve_team()
    actor = _signed_in()
    if actor is None:
        _only(_sign_in_screen, "Sign in")
    _user_box(actor)
    if not actor.roles:
        _only(lambda: _no_role(actor), "No role yet")
    return _bind(actor)


def acting() -> auth.Actor | None:
    """The person acting in this run (resolved again if the gate has not run, e.g. a page opened alone)."""
    actor = auth.current_actor()
    if actor is not None:
        return actor
    if not team_mode():
        return _bind(auth.LOCAL)
    auth.serve_team()
    actor = _signed_in()
    return _bind(actor) if actor is not None else None


def allowed(page: str) -> bool:
    """Whether the acting person may open `page` ("pages/x.py"); used to build st.navigation.

    The embedded default keeps its navigation as it was: nobody signs in there, so there is no one to administer.
    """
    actor = acting()
    entry = pages.BY_PATH.get(page)
    if actor is auth.LOCAL and entry is not None and entry.team_only:
        return False
    return actor is not None and may_open(actor, page)


def may_open(actor: auth.Actor, page: str) -> bool:
    """Whether `actor` holds a role of the page table that opens `page` ("pages/x.py")."""
    return bool(actor.roles & pages.roles_for(page))


def guard(page_file: str) -> auth.Actor:
    """One line at the top of every page: stop with a message unless the acting person may open it."""
    pages.reroute_through_app(page_file)
    page = _page_path(page_file)
    actor = acting()
    if actor is None:
        st.info("Sign in to use Atelier.", icon=":material/login:")
        st.stop()
    if not may_open(actor, page):
        needed = " or ".join(sorted(pages.roles_for(page)))
        st.error(f"{actor.name} may not open this page: it needs the {needed} role. Ask an admin to grant it on "
                 "the Admin page.", icon=":material/block:")
        st.stop()
    return actor


def fragment_rerun() -> bool:
    """True while only fragments run (a widget inside one was used), not the whole app."""
    context = get_script_run_ctx()
    return context is not None and bool(context.fragment_ids_this_run)


def fragment_gate(page: str) -> auth.Actor | None:
    """First call in a fragment that writes (a decision card), with its page ("pages/x.py").

    A fragment rerun runs neither app.py's sign-in gate nor the page's guard, so the acting person is bound again
    here, with the same checks; anything those would stop on (signed out, a sign-in expired or due for its check,
    the page's role taken away) reruns the whole app instead, whose gate and guard show it. In a full run they have
    just run: the person they bound is returned as is.
    """
    if not fragment_rerun():
        return auth.current_actor() or acting()
    if not team_mode():
        return _bind(auth.LOCAL)
    if not st.user.get("is_logged_in") or _freshness() is not auth.Freshness.FRESH:
        st.rerun()
    try:
        actor = _record_sign_in()
    except AtelierError:
        st.rerun()
    if not actor.roles or not may_open(actor, page):
        st.rerun()
    return _bind(actor)


def _page_path(page_file: str) -> str:
    path = Path(page_file).resolve()
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return f"pages/{path.name}"


def _bind(actor: auth.Actor) -> auth.Actor:
    auth.bind(actor)
    st.session_state[USER_KEY] = actor.key
    return actor


def _signed_in() -> auth.Actor | None:
    """The signed-in person with their roles (None when nobody is signed in); a sign-in that cannot be
    recorded (no iss/sub claims, an outdated shared database) stops the run with its message.

    An identity past its ID token's `exp` gets the sign-in screen again; one older than
    `[atelier] revalidate_seconds` is sent through the provider again, which re-issues the groups claim.
    """
    if not st.user.get("is_logged_in"):
        return None
    state = _freshness()
    if state is auth.Freshness.EXPIRED:
        _only(lambda: _sign_in_screen("Your sign-in has expired: sign in again to continue."), "Sign in")
    if state is auth.Freshness.STALE:
        _login()
        st.stop()
    try:
        return _record_sign_in()
    except AtelierError as error:
        message = str(error)
        _only(lambda: st.error(f"Signed in, but Atelier cannot record it: {message}", icon=":material/error:"),
              "Sign-in problem")
        return None


def _freshness() -> auth.Freshness:
    claims, signed_at = _identity()
    try:
        revalidate = auth.revalidate_seconds(_atelier_settings())
    except ValueError:
        return auth.Freshness.EXPIRED  # the settings check refuses to serve; nobody acts meanwhile
    return auth.freshness(claims, signed_at, revalidate)


def _identity() -> tuple[dict[str, Any], float | None]:
    """st.user's claims and when this server signed the identity cookie (None without the cookie, e.g. AppTest)."""
    secret = str((_secret("auth") or {}).get("cookie_secret") or "")
    found = server.identity_from_cookies(dict(st.context.cookies or {}), secret)
    return st.user.to_dict(), (found[1] if found is not None else None)


def signed_in_only(build: Callable[[], T]) -> Callable[[], T]:
    """Wrap st.download_button's deferred `data`: in team mode the click is refused once the sign-in that
    rendered the button has expired or is due for its check (the websocket outlives both), and the file built is
    recorded as this person's, the only one the session gate serves it to."""
    if not team_mode():
        return build
    claims, signed_at = _identity()
    revalidate = auth.revalidate_seconds(_atelier_settings())
    actor = auth.current_actor()  # Streamlit may build the file outside this run, where nobody is bound

    def guarded() -> T:
        if auth.freshness(claims, signed_at, revalidate) is not auth.Freshness.FRESH or actor is None:
            raise PermissionDenied("your sign-in has expired: reload the page and sign in again (nothing was exported)")
        with auth.acting_as(actor):
            data = build()
        server.issue_download(data, claims)  # the gate serves this file to this person only
        return data
    return guarded


def _login() -> None:
    provider = _atelier_settings().get("provider")
    st.login(str(provider)) if provider else st.login()


def _record_sign_in() -> auth.Actor:
    settings = _atelier_settings()
    identity = roles.Identity.from_claims(st.user.to_dict(), settings.get("group_roles") or None,
                                          str(settings.get("groups_claim") or auth.DEFAULT_GROUPS_CLAIM))
    return roles.sign_in(identity, bootstrap_admins=[str(a) for a in settings.get("admins", [])])


def _only(screen: Any, title: str) -> None:
    """Show one screen and stop: registering it as the whole navigation keeps Streamlit from listing pages/."""
    st.navigation([st.Page(screen, title=title, url_path="signin")], position="hidden").run()
    st.stop()


def _no_role(actor: auth.Actor) -> None:
    st.warning(f"You are signed in as **{actor.name}** but hold no role in Atelier yet. Ask an admin to grant "
               f"you one on the Admin page (your key: `{actor.key}`).", icon=":material/lock:")


def _sign_in_screen(note: str = "") -> None:
    st.title("Atelier")
    st.markdown("This Atelier is shared by a team: sign in with your company account to continue.")
    if note:
        st.info(note, icon=":material/schedule:")
    if st.button("Sign in", type="primary", icon=":material/login:", key="atelier_sign_in"):
        _login()


def _user_box(actor: auth.Actor) -> None:
    with st.sidebar:
        roles = ", ".join(sorted(actor.roles)) or "no role yet"
        st.caption(f"Signed in as **{actor.name}** · {roles}")
        if st.button("Sign out", icon=":material/logout:", key="atelier_sign_out"):
            st.session_state.pop(USER_KEY, None)
            auth.bind(None)
            st.logout()


def _check_settings(team: bool) -> None:
    options = {name: _option(name) for name in OPTIONS}
    findings = auth.check_settings(options, team, _secret("auth") or {}, _authlib_ok(), _atelier_settings(),
                                   gated=server.gated())
    for finding in findings:
        if finding.option not in _WARNED:
            _WARNED.add(finding.option)
            _LOG.warning("team settings: %s: %s", finding.option, finding.message)
    refusals = [f for f in findings if f.refuse]
    if refusals:
        _only(lambda: st.error("Atelier refuses to serve with these settings (see README, Team deployment):\n\n"
                               + "\n".join(f"- `{f.option}`: {f.message}" for f in refusals),
                               icon=":material/gpp_bad:"), "Settings")


def _option(name: str) -> Any:
    try:
        return st.get_option(name)
    except Exception:  # noqa: BLE001 — an option this Streamlit version lacks counts as unset
        return None


def _authlib_ok() -> bool:
    return is_authlib_installed()


def _secret(name: str) -> Any:
    return server.secret(name)


def _atelier_settings() -> dict[str, Any]:
    return dict(_secret("atelier") or {})
