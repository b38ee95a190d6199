"""What needs pyqtgraph: its process-wide options, the mm:ss time axis, the still plot's looks.

Apart from `widgets` so that the main window comes up without pyqtgraph (its import costs about a
fifth of a second, most of it copying every Qt class): the live view builds its traces right after
its first paint (`LiveView.build_plots`), and every module that draws a plot imports this one, so the
options below are set before any plot exists.
"""

from __future__ import annotations

import pyqtgraph as pg

from poise.desktop.widgets import MUTED_TEXT
from poise.report.format import fmt_mmss as format_mmss

AXIS_LINE = "#c5cacd"  # the quiet grey of a still plot's axes


def configure_plots() -> None:
    """pyqtgraph's process-wide options, set once when this module is first imported, not per widget.

    No antialiasing: the traces redraw ten times a second and smoothing them doubled the paint time.
    """
    pg.setConfigOptions(antialias=False, background="w", foreground=MUTED_TEXT)


configure_plots()


class TimeAxis(pg.AxisItem):
    """A bottom axis that labels audio time as mm:ss."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        return [format_mmss(v) if v >= 0 else "" for v in values]


def still_plot(plot: pg.PlotWidget | pg.PlotItem) -> pg.PlotWidget | pg.PlotItem:
    """A plot the user reads, not handles: no auto-range button, menu or mouse panning, quiet axes."""
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    for name in ("left", "bottom"):
        plot.getAxis(name).setPen(pg.mkPen(AXIS_LINE))
        plot.getAxis(name).setTextPen(pg.mkPen(MUTED_TEXT))
    return plot


__all__ = ["AXIS_LINE", "TimeAxis", "configure_plots", "pg", "still_plot"]
