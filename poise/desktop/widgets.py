"""The desktop's small shared widgets and the palette as QColors: pace gauge, talk pill, cards, tables.

Free of pyqtgraph (the plots' helpers are `plots.py`): the main window imports this before it is shown.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractItemView, QFrame, QHeaderView, QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from poise import theme
from poise.report.format import DEFAULT_WPM_BAND

GAUGE_MIN_WPM = 60.0  # the gauge's scale: slower than this is a pause, not a pace
GAUGE_MAX_WPM = 260.0  # faster than this is off any useful scale

# The palette (poise.theme, shared with the HTML report) as QColors.
AGENT_COLOR = QColor(theme.AGENT)
CALLER_COLOR = QColor(theme.CALLER)
BAND_COLOR = QColor(theme.BAND)
CUE_COLOR = QColor(theme.CUE)
TEXT_COLOR = QColor(theme.TEXT)
MUTED_TEXT = QColor(theme.MUTED)
GRID_COLOR = QColor(theme.GRID)


class PaceGauge(QWidget):
    """A horizontal pace bar: the target band shaded, the agent's normal marked, the current pace as a dot."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paceGauge")
        self._wpm: float | None = None
        self._last_wpm: float | None = None
        self._normal: float | None = None
        self._band = DEFAULT_WPM_BAND
        self.setMinimumHeight(64)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(420, 64)

    def value(self) -> float | None:
        """The pace shown now (None while the agent is not speaking)."""
        return self._wpm

    def last_value(self) -> float | None:
        """The most recent pace measured, kept while the agent is silent."""
        return self._last_wpm

    def normal(self) -> float | None:
        return self._normal

    def band(self) -> tuple[float, float]:
        return self._band

    def set_band(self, low: float, high: float) -> None:
        self._band = (float(min(low, high)), float(max(low, high)))
        self.update()

    def set_normal(self, wpm: float | None) -> None:
        self._normal = wpm
        self.update()

    def set_value(self, wpm: float | None) -> None:
        self._wpm = wpm
        if wpm is not None:
            self._last_wpm = wpm
        self.update()

    def _x(self, wpm: float, left: float, width: float) -> float:
        frac = (min(max(wpm, GAUGE_MIN_WPM), GAUGE_MAX_WPM) - GAUGE_MIN_WPM) / (GAUGE_MAX_WPM - GAUGE_MIN_WPM)
        return left + frac * width

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        margin = 10.0
        left, width = margin, self.width() - 2 * margin
        bar_top, bar_h = 16.0, 14.0
        small = QFont(self.font())
        small.setPointSizeF(max(7.5, small.pointSizeF() * 0.85))
        p.setFont(small)

        track = QPainterPath()
        track.addRoundedRect(QRectF(left, bar_top, width, bar_h), bar_h / 2, bar_h / 2)
        p.fillPath(track, QColor("#ebe8e1"))

        lo, hi = self._band
        band_rect = QRectF(self._x(lo, left, width), bar_top, self._x(hi, left, width) - self._x(lo, left, width), bar_h)
        p.save()
        p.setClipPath(track)
        p.fillRect(band_rect, BAND_COLOR)
        p.restore()

        p.setPen(MUTED_TEXT)
        for tick in (100, 150, 200, 250):
            x = self._x(tick, left, width)
            p.drawLine(int(x), int(bar_top + bar_h + 2), int(x), int(bar_top + bar_h + 5))
            p.drawText(QRectF(x - 20, bar_top + bar_h + 5, 40, 16), Qt.AlignmentFlag.AlignHCenter, str(tick))
        p.setPen(QColor("#5f8f80"))
        p.drawText(
            QRectF(band_rect.left(), 0, max(band_rect.width(), 130), 14),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
            f"comfortable {lo:.0f}–{hi:.0f}",  # the review and the report call the band so too
        )

        if self._normal is not None:
            x = self._x(self._normal, left, width)
            pen = QPen(TEXT_COLOR, 2)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawLine(int(x), int(bar_top - 3), int(x), int(bar_top + bar_h + 3))
            p.setPen(MUTED_TEXT)
            p.drawText(
                QRectF(x - 60, bar_top + bar_h + 20, 120, 16),
                Qt.AlignmentFlag.AlignHCenter,
                f"your normal {self._normal:.0f}",
            )

        shown = self._wpm if self._wpm is not None else self._last_wpm
        if shown is not None:
            x = self._x(shown, left, width)
            in_band = lo <= shown <= hi
            color = AGENT_COLOR if in_band else CUE_COLOR
            if self._wpm is None:
                color = QColor(color)
                color.setAlpha(90)  # silent: keep the last pace, faded
            p.setPen(QPen(QColor("white"), 2))
            p.setBrush(color)
            r = bar_h * 0.8
            p.drawEllipse(QRectF(x - r, bar_top + bar_h / 2 - r, 2 * r, 2 * r))
        p.end()


class TalkIndicator(QLabel):
    """A pill that lights up while its role is speaking."""

    def __init__(self, text: str, color: QColor, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._color = color
        self._active = False
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumWidth(92)
        self._restyle()

    def is_active(self) -> bool:
        return self._active

    def set_active(self, active: bool) -> None:
        if bool(active) != self._active:
            self._active = bool(active)
            self._restyle()

    def set_available(self, available: bool) -> None:
        """Grey the pill out when this role has no audio (a mono call)."""
        self.setEnabled(available)
        self._restyle()

    def _restyle(self) -> None:
        c = self._color.name()
        if not self.isEnabled():
            style = "color: #b8bdc0; background: #f1efea; border: 1px dashed #d8d4cb;"
        elif self._active:
            style = f"color: white; background: {c}; border: 1px solid {c};"
        else:
            style = f"color: {c}; background: transparent; border: 1px solid #d8d4cb;"
        self.setStyleSheet(f"QLabel {{ {style} border-radius: 13px; padding: 4px 14px; font-weight: 600; }}")


def card(title: str, body: QWidget | None = None) -> tuple[QFrame, QVBoxLayout]:
    """A white card with a small capitalised title; its layout, for the card's content."""
    frame = QFrame()
    frame.setObjectName("card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(14, 10, 14, 12)
    layout.setSpacing(6)
    header = QLabel(title.upper())
    header.setObjectName("cardTitle")
    layout.addWidget(header)
    if body is not None:
        layout.addWidget(body, 1)
    return frame, layout


def status_label() -> QLabel:
    """A grey, wrapping line for a tab's or a dialog's status sentence."""
    label = QLabel("", objectName="hint")
    label.setWordWrap(True)
    return label


def empty_or(content: QWidget, empty_text: str = "") -> tuple[QStackedWidget, QLabel]:
    """A tab's body: page 0 a centred grey sentence for when there is nothing to show yet, page 1 `content`."""
    empty = QLabel(empty_text, objectName="hint")
    empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
    empty.setWordWrap(True)
    stack = QStackedWidget()
    stack.addWidget(empty)
    stack.addWidget(content)
    return stack, empty


def list_table(table: QAbstractItemView, selection: QAbstractItemView.SelectionMode) -> None:
    """A read-only list of rows (history's calls, a batch's calls): whole rows selected, alternating
    colours, fixed 24 px rows, columns the user resizes (never "to contents": that reads every row)."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(selection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(24)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
