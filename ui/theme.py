"""The app's look in one place: colours shared by plotly figures and the Streamlit theme (.streamlit/config.toml)."""

from __future__ import annotations

import plotly.graph_objects as go

INK = "#24211F"
MUTED = "#7A736B"
ACCENT = "#7B3F52"  # mulberry: the theme's primaryColor
SECOND = "#3E5C76"  # slate blue
GOLD = "#B08D57"
GRID = "#E2DCD3"
PAPER = "#FBFAF7"
CATEGORICAL = ["#7B3F52", "#3E5C76", "#B08D57", "#6B8F71", "#A05A3C", "#8A7FA6", "#4F6D7A", "#C4A484"]
SEQUENTIAL = [[0.0, "#F4EEE9"], [0.5, "#C79AA5"], [1.0, "#7B3F52"]]  # empty -> fully labelled
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
