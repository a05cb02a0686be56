"""Who may do what: roles, the actions each role allows, the caller's role check, team-mode settings."""

# Three guards: the navigation shows only allowed pages and each page guards itself (both read the roles of
# ui/pages.py's page table), and every service that writes, exports or returns customer ids or decisions calls
# `require_role` / `require_read` with the tables below (the one guard a UI bug cannot skip).

from __future__ import annotations

import contextvars
import os
import threading
import time
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from core.config import REPO_ROOT
from core.errors import PermissionDenied

ROLES: tuple[str, ...] = ("crm", "merchandiser", "stylist", "analyst", "admin")
ROLE_HELP: dict[str, str] = {
    "crm": "build audiences, save campaigns and export them",
    "merchandiser": "review and correct product attributes",
    "stylist": "label outfit pairs",
    "analyst": "train models, explore maps and evaluations",
    "admin": "edit roles and manage workspaces",
}
EVERYONE: frozenset[str] = frozenset(ROLES)

# Action -> the role a service demands before it writes or exports.
ACTION_ROLES: dict[str, str] = {
    "campaign.save": "crm",
    "campaign.outcomes": "crm",
    "audience.export": "crm",
    "attribute.review": "merchandiser",
    "catalogue.export": "merchandiser",
    "outfit.label": "stylist",
    "outfit.propose": "stylist",
    "data.import": "admin",
    "roles.edit": "admin",
}

# What a service returns -> the roles that may read it: customer ids and people's decisions are read only by the
# roles whose pages show them (analysts too for reviews and labels: they judge the models trained on them).
READ_ROLES: dict[str, tuple[str, ...]] = {
    "campaigns": ("crm",),
    "customers": ("crm",),
    "attribute_reviews": ("merchandiser", "analyst"),
    "outfit_labels": ("stylist", "analyst"),
}

# Job/model kind -> roles that may train, cancel or activate it: analysts always; merchandisers retrain the
# attribute model from their review page and stylists the outfit model from theirs.
KIND_ROLES: dict[str, tuple[str, ...]] = {
    "train_affinity": ("analyst",),
    "affinity": ("analyst",),
    "affinity_table": ("analyst",),
    "affinity_compare": ("analyst",),
    "long_tail": ("analyst",),
    "attributes": ("analyst", "merchandiser"),
    "complementary": ("analyst", "stylist"),
}

AUTH_ENV = "ATELIER_AUTH"  # "team" forces sign-in, "local" forces the embedded default; unset: [auth] decides
SECRETS_FILE = REPO_ROOT / ".streamlit" / "secrets.toml"
LOCAL_KEY = "local"


@dataclass(frozen=True)
class Actor:
    """A person acting in Atelier: keyed by the identity provider's (iss, sub); `key` is what rows record."""

    key: str
    iss: str
    sub: str
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    email: str = ""

    def has(self, role: str) -> bool:
        return role in self.roles


LOCAL = Actor(key=LOCAL_KEY, iss="local", sub="local", name="Local user", roles=EVERYONE)

_ACTOR: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("atelier_actor", default=None)
_PEOPLE: dict[str, Actor] = {}  # key -> latest resolved Actor, for checks made outside a bound context
_PEOPLE_LOCK = threading.Lock()
_SERVING_TEAM = threading.Event()  # set by the web process in team mode: an unknown caller is then refused


# --------------------------------------------------------------------------- mode

def team_mode(secrets: Mapping[str, Any] | Path | None = None) -> bool:
    """True when people must sign in: ATELIER_AUTH=team, or unset and the secrets have an [auth] section.

    `secrets` is the parsed secrets (the web app passes what Streamlit read) or a secrets.toml path;
    by default the repository's .streamlit/secrets.toml.
    """
    setting = os.environ.get(AUTH_ENV, "").strip().lower()
    if setting in ("team", "oidc", "on"):
        return True
    if setting in ("local", "off"):
        return False
    if setting:
        raise ValueError(f"{AUTH_ENV}={setting!r} is not understood: use 'team' or 'local' (or leave it unset)")
    parsed = secrets if isinstance(secrets, Mapping) else read_secrets(secrets)
    return bool(parsed.get("auth"))


def read_secrets(path: Path | None = None) -> dict[str, Any]:
    """The parsed secrets.toml (empty when absent); read here so core never imports streamlit."""
    target = Path(path or SECRETS_FILE)
    if not target.is_file():
        return {}
    with target.open("rb") as handle:
        return tomllib.load(handle)


def serve_team() -> None:
    """Mark this process as serving signed-in people: a write with nobody bound to it is refused from now on."""
    _SERVING_TEAM.set()


def serving_team() -> bool:
    return _SERVING_TEAM.is_set()


# --------------------------------------------------------------------------- who is acting

def bind(actor: Actor | None) -> contextvars.Token:
    """Make `actor` the caller of services in this context (the web app does it at the start of every run)."""
    if actor is not None:
        remember(actor)
    return _ACTOR.set(actor)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Services called inside the block act as `actor` (tests, scripts)."""
    token = bind(actor)
    try:
        yield actor
    finally:
        _ACTOR.reset(token)


def current_actor() -> Actor | None:
    return _ACTOR.get()


def remember(actor: Actor) -> None:
    """Record a person's current roles so a check from a callback (run before the page binds) sees them."""
    with _PEOPLE_LOCK:
        _PEOPLE[actor.key] = actor


def forget(key: str | None = None) -> None:
    """Drop remembered roles of one person (after an admin edit) or of everyone (tests)."""
    with _PEOPLE_LOCK:
        if key is None:
            _PEOPLE.clear()
        else:
            _PEOPLE.pop(key, None)


def require_role(user: str, role: str) -> Actor:
    """Refuse (PermissionDenied) a write or export by `user` unless they hold `role`; returns the caller.

    A process that serves no team (CLI, job runner, embedded app) trusts its single local operator.
    """
    return require_any(user, (role,))


def require_any(user: str, roles: Iterable[str]) -> Actor:
    """Refuse unless `user` holds at least one of `roles` (see require_role)."""
    needed = tuple(roles)
    unknown = [r for r in needed if r not in ROLES]
    if unknown or not needed:
        raise ValueError(f"unknown role(s) {unknown}; roles are {', '.join(ROLES)}")
    bound = _ACTOR.get()
    if bound is not None and bound.key != user:
        raise PermissionDenied(f"this action was made for '{user}' while {bound.name} is signed in: "
                               "reload the page and try again")
    actor = bound
    if actor is None:
        with _PEOPLE_LOCK:
            actor = _PEOPLE.get(user)
    if actor is None:
        if serving_team():
            raise PermissionDenied("nobody is signed in for this action: sign in and try again (nothing was changed)")
        return LOCAL
    if not actor.roles & set(needed):
        raise PermissionDenied(denied_message(actor, needed))
    return actor


def require_current(role: str) -> Actor:
    """For services that take no user argument: the person bound to this run must hold `role`."""
    bound = _ACTOR.get()
    return require_role(bound.key if bound is not None else LOCAL_KEY, role)


def require_read(what: str) -> Actor:
    """A reader of READ_ROLES[what] (customer ids, decisions): the person bound to this run must hold one of its roles.

    Readers take no user argument, so the check is on the bound caller; the CLI and job runners serve no team and
    read as the local operator.
    """
    bound = _ACTOR.get()
    return require_any(bound.key if bound is not None else LOCAL_KEY, READ_ROLES[what])


def require_training(user: str, kind: str) -> Actor:
    """Submitting, cancelling or activating a model of `kind`: analysts, plus the role whose page trains it."""
    return require_any(user, KIND_ROLES.get(kind, ("analyst",)))


def require_action(user: str, action: str) -> Actor:
    """`require_role` for a named action of ACTION_ROLES."""
    return require_role(user, ACTION_ROLES[action])


def denied_message(actor: Actor, roles: Iterable[str]) -> str:
    held = ", ".join(sorted(actor.roles)) or "no role yet"
    needed = " or ".join(f"'{r}'" for r in roles)
    return (f"{actor.name} ({held}) may not do this: it needs the {needed} role. "
            "Ask an admin to grant it on the Admin page; nothing was changed.")


# --------------------------------------------------------------------------- roles from claims

DEFAULT_GROUPS_CLAIM = "groups"
# The mapping used when [atelier.group_roles] is absent: exact names only, "atelier-<role>" and Keycloak's
# top-level group path "/atelier-<role>". Never a suffix or substring: "/contractors/admin" or
# "my-own-group/atelier-admin" are other groups, which someone outside IT may be able to create.
DEFAULT_GROUP_ROLES: dict[str, str] = {
    **{f"atelier-{role}": role for role in ROLES},
    **{f"/atelier-{role}": role for role in ROLES},
}


def roles_from_claims(claims: Mapping[str, Any], group_roles: Mapping[str, str] | None = None,
                      groups_claim: str = DEFAULT_GROUPS_CLAIM) -> frozenset[str]:
    """Roles named by the identity provider's groups claim, through an exact group -> role table.

    `group_roles` ({"idp-group": "role"}) defaults to DEFAULT_GROUP_ROLES; a group counts only when its name,
    stripped of surrounding blanks, is a key of the table (case-sensitive). The claim may be a list or a
    comma-separated string; a mapped role that Atelier does not know is ignored.
    """
    raw = claims.get(groups_claim)
    if raw is None:
        return frozenset()
    # A string claim splits on commas only: "everyone admin" is one (unmapped) group name, not two.
    groups = raw.split(",") if isinstance(raw, str) else [str(g) for g in raw]
    table = DEFAULT_GROUP_ROLES if group_roles is None else group_roles
    found = {table.get(group.strip()) for group in groups}
    return frozenset(role for role in found if role in ROLES)


# --------------------------------------------------------------------------- identity freshness

REVALIDATE_DEFAULT_S = 600  # how long a sign-in is trusted before the provider is asked again
REVALIDATE_MAX_S = 900


class Freshness(str, Enum):
    """How a signed-in identity stands: usable, past the ID token's `exp`, or due for a check at the provider."""

    FRESH = "fresh"
    EXPIRED = "expired"
    STALE = "stale"


def revalidate_seconds(settings: Mapping[str, Any] | None = None) -> int:
    """`[atelier] revalidate_seconds` (default REVALIDATE_DEFAULT_S); ValueError unless 1..REVALIDATE_MAX_S."""
    value = (settings or {}).get("revalidate_seconds", REVALIDATE_DEFAULT_S)
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"[atelier] revalidate_seconds = {value!r} is not a number of seconds") from None
    if not 1 <= seconds <= REVALIDATE_MAX_S:
        raise ValueError(f"[atelier] revalidate_seconds = {seconds} must be between 1 and {REVALIDATE_MAX_S} "
                         "(roles granted by the provider's groups are trusted that long)")
    return seconds


def freshness(claims: Mapping[str, Any], signed_at: float | None, revalidate_s: int,
              now: float | None = None) -> Freshness:
    """Whether a sign-in may still act: EXPIRED once the ID token's `exp` has passed, STALE once it is older
    than `revalidate_s` (the provider must confirm the person and their groups again), else FRESH.

    `signed_at` is when this server issued the sign-in cookie (epoch seconds); None falls back to `iat`.
    """
    moment = time.time() if now is None else now
    expires = _number(claims.get("exp"))
    if expires is not None and moment >= expires:
        return Freshness.EXPIRED
    start = signed_at if signed_at is not None else _number(claims.get("iat"))
    if start is not None and moment - start >= revalidate_s:
        return Freshness.STALE
    return Freshness.FRESH


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- team settings check

MIN_UPLOAD_MB = 64  # the largest public catalogue (H&M articles.csv) is ~36 MB; leave room for growth
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Finding:
    """One start-up check result: `refuse` stops a team server from serving; otherwise a warning."""

    option: str
    message: str
    refuse: bool = True


def check_settings(options: Mapping[str, Any], team: bool, auth_section: Mapping[str, Any] | None = None,
                   authlib_ok: bool = True, atelier: Mapping[str, Any] | None = None,
                   gated: bool = True) -> list[Finding]:
    """What is wrong with the server settings for the mode it runs in (empty list: all good).

    `options` maps Streamlit option names ("server.enableCORS") to values; missing names count as unset.
    `atelier` is the [atelier] secrets section; `gated` says whether the session gate (serve.py) fronts /media.
    """
    if not team:
        address = str(options.get("server.address") or "")
        if not address:  # Streamlit then listens on every interface (e.g. started outside the repo's config)
            return [Finding("server.address", "server.address is unset, so Streamlit listens on every interface "
                            "while nobody signs in: start it from the repository (its .streamlit/config.toml) or "
                            "pass --server.address 127.0.0.1", refuse=False)]
        if address not in LOOPBACK:
            return [Finding("server.address", f"without sign-in the app must listen on 127.0.0.1, not {address!r}: "
                            "everyone who can reach it would act as the local admin. Configure [auth] in "
                            ".streamlit/secrets.toml (team mode) or set server.address = \"127.0.0.1\".")]
        return []
    found: list[Finding] = []
    auth = dict(auth_section or {})
    missing = [key for key in ("redirect_uri", "cookie_secret") if not auth.get(key)]
    provider = auth if auth.get("client_id") else next((v for v in auth.values() if isinstance(v, Mapping)), {})
    missing += [key for key in ("client_id", "client_secret", "server_metadata_url") if not provider.get(key)]
    if missing:
        found.append(Finding("[auth]", f"team mode needs [auth] in .streamlit/secrets.toml with {', '.join(missing)} "
                             "(see .streamlit/secrets.toml.example)"))
    elif len(str(auth.get("cookie_secret", ""))) < 32:
        found.append(Finding("auth.cookie_secret", "cookie_secret is shorter than 32 characters: generate one with "
                             "`python -c \"import secrets; print(secrets.token_urlsafe(48))\"`"))
    if not gated:
        found.append(Finding("serve.py", "team mode must be started with `streamlit run serve.py` (not app.py): "
                             "its session gate keeps exports under /media from anyone who is not signed in"))
    try:
        revalidate_seconds(atelier)
    except ValueError as error:
        found.append(Finding("atelier.revalidate_seconds", str(error)))
    if not authlib_ok:
        found.append(Finding("Authlib", "sign-in needs Authlib>=1.3.2: pip install -r requirements.txt"))
    if options.get("server.enableXsrfProtection") is False:
        found.append(Finding("server.enableXsrfProtection", "XSRF protection must stay on: set it to true"))
    if options.get("server.enableCORS") is False:
        found.append(Finding("server.enableCORS", "CORS protection must stay on: set server.enableCORS = true"))
    hosts = [h for h in (options.get("server.allowedHosts") or []) if str(h).strip()]
    if not hosts or "*" in hosts:
        found.append(Finding("server.allowedHosts", "list the host names people use to reach Atelier "
                             "(e.g. [\"atelier.example.com\"]) so DNS-rebinding requests are refused"))
    if str(options.get("client.showErrorDetails", "full")).lower() != "none":
        found.append(Finding("client.showErrorDetails", "set client.showErrorDetails = \"none\" so tracebacks "
                             "(paths, data, SQL) are not shown to signed-in people"))
    if options.get("server.enableAgentApi"):
        found.append(Finding("server.enableAgentApi", "the agent API lets non-browser clients drive the app "
                             "without sign-in: set server.enableAgentApi = false"))
    upload = options.get("server.maxUploadSize")
    if upload is not None and int(upload) < MIN_UPLOAD_MB:
        found.append(Finding("server.maxUploadSize", f"{upload} MB is below the largest catalogue; set it to at "
                             f"least {MIN_UPLOAD_MB}", refuse=False))
    return found
