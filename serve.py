"""Atelier's team server: app.py behind ui.server's session gate (`streamlit run serve.py`)."""

import streamlit as st

from ui.server import SCRIPT, middleware

app = st.App(SCRIPT, middleware=middleware())
