"""A quiet live indicator of how heated the caller sounds (issue 10).

It only draws the value the engine sends in `Meters.caller_heat` (poise.language.heat): a thin
bar in the caller's colour and one word. It is context for the agent, never a cue by itself: no
alarm colour, no blinking, no sound; the language cues (acknowledge, set a boundary) come through
the cue budget like every other cue. The bar eases towards the value so a 0.3 s heat step does
not jump.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from poise.desktop.widgets import CALLER_COLOR, GRID_COLOR, MUTED_TEXT
from poise.language.heat import HEATED

TENSE = 0.25  # heat from here to HEATED reads "a little tense" (about one raised measure of three)
EASE = 0.35  # share of the way to the new value the bar moves per meters update (~10 a second: ~0.3 s to settle)
BAR_HEIGHT_PX = 6
CALM_ALPHA = 120  # the bar's fill below HEATED: quiet
HEATED_ALPHA = 230  # at or above HEATED: plainly visible, still the caller's colour (not a cue's)


def heat_word(heat: float | None) -> str:
    """The word shown for a heat value (None: not measured yet)."""
    if heat is None:
        return "listening…"
    if heat >= HEATED:
        return "upset"
    return "a little tense" if heat >= TENSE else "calm"


class HeatIndicator(QWidget):
    """"Caller: calm" over a thin bar; `set_heat` from the meters, `set_available(False)` on a mono call."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("heatIndicator")
        self._target: float | None = None
        self._shown = 0.0
        self._available = True
        self._in_call = False  # meters have come since the last clear(): before a call there is nobody to listen to
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("How heated the caller sounds against their own normal in this call, and their words. "
                        "Context only: Poise prompts you through its cues.")

    def sizeHint(self) -> QSize:
        return QSize(200, self.fontMetrics().height() + BAR_HEIGHT_PX + 6)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, self.sizeHint().height())

    def heat(self) -> float | None:
        """The last value received (None: none yet, or no caller)."""
        return self._target

    def shown(self) -> float:
        """The bar's current (eased) fill, 0..1."""
        return self._shown

    def text(self) -> str:
        if not self._available:
            return "Caller: no caller channel"
        if not self._in_call:
            return "Caller: —"
        return f"Caller: {heat_word(self._target)}"

    def set_available(self, available: bool) -> None:
        self._available = bool(available)
        if not available:
            self._target, self._shown = None, 0.0
        self.update()

    def set_heat(self, heat: float | None) -> None:
        """The engine's latest heat (0..1) or None."""
        self._in_call = True
        self._target = None if heat is None else min(1.0, max(0.0, float(heat)))
        goal = self._target or 0.0
        self._shown += (goal - self._shown) * EASE if abs(goal - self._shown) > 0.01 else goal - self._shown
        self.update()

    def clear(self) -> None:
        self._target, self._shown, self._in_call = None, 0.0, False
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        fm = self.fontMetrics()
        p.setPen(MUTED_TEXT if not self._available or self._target is None or self._target < HEATED else CALLER_COLOR)
        p.drawText(QRectF(0, 0, self.width(), fm.height()), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   self.text())
        bar = QRectF(0, fm.height() + 3, self.width(), BAR_HEIGHT_PX)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(GRID_COLOR)
        p.drawRoundedRect(bar, BAR_HEIGHT_PX / 2, BAR_HEIGHT_PX / 2)
        if self._available and self._shown > 0.005:
            fill = QColor(CALLER_COLOR)
            fill.setAlpha(HEATED_ALPHA if self._shown >= HEATED else CALM_ALPHA)
            p.setBrush(fill)
            p.drawRoundedRect(QRectF(bar.x(), bar.y(), max(bar.height(), bar.width() * self._shown), bar.height()),
                              BAR_HEIGHT_PX / 2, BAR_HEIGHT_PX / 2)
        p.end()


__all__ = ["HeatIndicator", "heat_word"]
