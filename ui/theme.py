"""The app's look in one place: plotly figures take their colours from the Streamlit theme in .streamlit/config.toml."""

from __future__ import annotations

import tomllib

import plotly.graph_objects as go

from core.config import REPO_ROOT

# Streamlit reads its theme from this file; figures read the same keys, so a colour is changed once, there.
with (REPO_ROOT / ".streamlit" / "config.toml").open("rb") as _file:
    THEME: dict = tomllib.load(_file)["theme"]

INK: str = THEME["textColor"]
ACCENT: str = THEME["primaryColor"]  # mulberry
GRID: str = THEME["borderColor"]
CATEGORICAL: list[str] = list(THEME["chartCategoricalColors"])
SECOND, GOLD = CATEGORICAL[1], CATEGORICAL[2]  # slate blue, gold
# Colours Streamlit's theme has no key for.
MUTED = "#7A736B"
EMPTY = "#E8E1D8"  # the unlabelled share of a bar
OTHER = "#BBBBBB"  # points outside the named groups of a map
SEQUENTIAL = [[0.0, "#F4EEE9"], [0.5, "#C79AA5"], [1.0, ACCENT]]  # empty -> fully labelled
FONT = "Inter, 'Helvetica Neue', Arial, sans-serif"
SERIF = "Georgia, 'Times New Roman', serif"


def style(fig: go.Figure, height: int = 340, legend: bool = True) -> go.Figure:
    """Apply the house style to a plotly figure (transparent background, quiet grid, readable fonts)."""
    fig.update_layout(
        height=height, margin=dict(l=8, r=8, t=36, b=8), paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font=dict(family=FONT, color=INK, size=13), title_font=dict(family=SERIF, size=16, color=INK),
        colorway=CATEGORICAL, showlegend=legend, hoverlabel=dict(font_family=FONT),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0, bgcolor="rgba(0,0,0,0)"),
    )
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID)
    return fig
