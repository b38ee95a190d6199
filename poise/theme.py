"""Poise's palette: one set of colours for the app and the HTML report (Qt-free hex strings).

The desktop turns them into QColors and its style sheet (`poise.desktop.app`); the
report's CSS takes them as variables, so a role has the same colour everywhere.
"""

from __future__ import annotations

AGENT = "#2e7d6b"  # teal: the agent, and Poise's own accent
CALLER = "#7a66a8"  # muted purple: the caller, distinct from the agent for colour-blind viewers too
CUE = "#c98a2b"  # amber: a cue, noticeable without the alarm of red
BAND = "#d7ece4"  # the comfortable pace band behind the gauge
TEXT = "#2b3137"
MUTED = "#8a9399"
GRID = "#e6e3dc"
BACKGROUND = "#f6f5f1"
