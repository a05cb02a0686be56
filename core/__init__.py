"""Atelier's modelling package: data, features, models, artifacts, services and the CLI — no UI."""

__version__ = "0.1.0"
