"""Admin: who signed in, which roles an admin granted them, and the audit of role changes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import AtelierError
from core.services import roles
from ui.auth import ROLE_HELP, ROLES, guard, team_mode
from ui.context import current_user, show_error


def main() -> None:
    guard(__file__)  # stops here unless the signed-in person's role may open this page
    st.title("Admin")
    st.caption("People are identified by their identity provider's issuer and subject, never by email. Roles come "
               "from the provider's groups claim and from the grants below; a change applies on the person's next "
               "click.")
    if not team_mode():
        st.info("Embedded mode: one local user holds every role and nobody signs in. Roles apply once sign-in is "
                "configured (README, Team deployment).", icon=":material/info:")
    try:
        people = roles.people()
    except AtelierError as error:
        show_error(error)
        return
    _people_table(people)
    if not people.empty:
        _grant_form(people)
    _role_help()
    st.subheader("Recent role changes")
    st.dataframe(roles.role_audit(), hide_index=True, width="stretch")


def _people_table(people: pd.DataFrame) -> None:
    st.subheader("People")
    if people.empty:
        st.caption("Nobody has signed in yet: people appear here after their first sign-in.")
        return
    shown = people.assign(roles=people["roles"].map(lambda r: ", ".join(r) or "—"))
    st.dataframe(shown[["name", "email", "roles", "key", "iss", "sub", "last_seen"]], hide_index=True,
                 width="stretch")


def _grant_form(people: pd.DataFrame) -> None:
    st.subheader("Grant roles")
    labels = {row.key: f"{row.name} · {row.email or row.sub} ({row.key})" for row in people.itertuples()}
    key = st.selectbox("Person", list(labels), format_func=labels.get, key="admin_person")
    held = people.loc[people["key"] == key, "roles"].iloc[0]
    with st.form("admin_roles"):
        chosen = st.multiselect("Granted roles", list(ROLES), default=list(held),
                                help="Roles from the groups claim are added on top and cannot be removed here.")
        saved = st.form_submit_button("Save roles", type="primary")
    if saved:
        try:
            added, removed = roles.set_roles(current_user(), key, chosen)
        except AtelierError as error:
            show_error(error)
            return
        if added or removed:
            st.success(f"Saved: added {', '.join(added) or 'nothing'}, removed {', '.join(removed) or 'nothing'}.",
                       icon=":material/check:")
        else:
            st.info("No change: these were already the granted roles.")


def _role_help() -> None:
    with st.expander("What each role may do"):
        st.markdown("\n".join(f"- **{role}**: {text}" for role, text in ROLE_HELP.items()))


main()
