"""The always-on-top prompt: one short cue at a time, in large calm type."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import (
    QAbstractAnimation,
    QEasingCurve,
    QPoint,
    QPropertyAnimation,
    QRect,
    QRectF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QGuiApplication, QMouseEvent, QPainter, QPainterPath, QPaintEvent
from PySide6.QtWidgets import QGraphicsOpacityEffect, QHBoxLayout, QLabel, QToolButton, QWidget

from poise.audio.coach import CUE_MESSAGES
from poise.language.coach import LANGUAGE_KINDS
from poise.audio.types import Cue
from poise.desktop.settings import Settings

FADE_IN_MS = 250  # ms: quick enough to notice, slow enough not to startle
FADE_OUT_MS = 700  # ms: a slow fade reads as "done", not as a flicker
DEFAULT_DISPLAY_S = 4.0  # s: the coach's default display time for a cue
PANEL_OPACITY = 0.94  # fully opaque panels feel heavy over other windows
SCREEN_MARGIN_PX = 32  # px: default distance from the screen's corner
PANEL_RADIUS_PX = 16.0
CUE_FONT_PX = 26  # px: readable at a glance from the corner of the eye
PANEL_COLOR = QColor(30, 38, 46, 235)  # dark slate, slightly translucent
# Platforms whose windows have an opacity; elsewhere (Wayland, offscreen) the panel's content fades instead.
WINDOW_OPACITY_PLATFORMS = frozenset({"xcb", "windows", "cocoa"})


class _Panel(QWidget):
    """The rounded dark panel the cue sits on."""

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        path = QPainterPath()
        path.addRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), PANEL_RADIUS_PX, PANEL_RADIUS_PX)
        painter.fillPath(path, PANEL_COLOR)
        # a thin accent on the left edge ties the panel to the app's colour
        accent = QPainterPath()
        accent.addRoundedRect(QRectF(10, 16, 4, self.height() - 32), 2, 2)
        painter.fillPath(accent, QColor(120, 190, 170))
        painter.end()


class CueOverlay(QWidget):
    """A small frameless, translucent, always-on-top window showing the current cue.

    `show_cue()` fades it in, holds it for `display_s`, and fades it out; a new cue
    replaces the one on screen. The user can drag it (its position is remembered),
    mute cues for the rest of the call with its button, and make it click-through.
    """

    muted_changed = Signal(bool)

    def __init__(
        self, display_s: float = DEFAULT_DISPLAY_S, parent: QWidget | None = None,
        keep_clear: Callable[[], QRect | None] | None = None,
    ) -> None:
        super().__init__(
            parent,
            Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint,
        )
        self.setObjectName("cueOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setWindowTitle("Poise cue")
        self._display_s = display_s
        self._muted = False
        self._drag_offset: QPoint | None = None
        self._current: Cue | None = None
        self._keep_clear = keep_clear  # where the overlay should not land by default: the main window's controls

        self._panel = _Panel(self)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._panel)

        self._label = QLabel(self._panel)
        self._label.setObjectName("cueText")
        # a style sheet, not setFont: the app's style sheet would override a plain font
        self._label.setStyleSheet(
            f"color: #f4f1ea; background: transparent; font-size: {CUE_FONT_PX}px; font-weight: 600;"
        )
        self._label.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        self._label.ensurePolished()
        # One width for every cue: the panel does not jump from cue to cue. It is the width of the
        # longest voice prompt; a longer one (a suggested sentence: "Try: ...") wraps onto a second line
        # rather than stretching a calm prompt to 735 px across the agent's screen.
        metrics = self._label.fontMetrics()
        voice_prompts = [m for kind, m in CUE_MESSAGES.items() if kind not in LANGUAGE_KINDS]
        self._label.setWordWrap(True)
        self._label.setFixedWidth(max(metrics.horizontalAdvance(m) for m in voice_prompts) + 8)

        self._mute_button = QToolButton(self._panel)
        self._mute_button.setObjectName("overlayMute")
        self._mute_button.setText("Mute")
        self._mute_button.setToolTip("Mute cues for the rest of this call (Ctrl+M)")
        self._mute_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self._mute_button.clicked.connect(lambda: self.set_muted(True))

        layout = QHBoxLayout(self._panel)
        layout.setContentsMargins(28, 18, 16, 18)
        layout.setSpacing(18)
        layout.addWidget(self._label, 1)
        layout.addWidget(self._mute_button, 0, Qt.AlignmentFlag.AlignTop)

        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.timeout.connect(self._fade_out)

        if QGuiApplication.platformName() in WINDOW_OPACITY_PLATFORMS:
            self._fade = QPropertyAnimation(self, b"windowOpacity", self)
        else:
            self._effect = QGraphicsOpacityEffect(self._panel)
            self._panel.setGraphicsEffect(self._effect)
            self._fade = QPropertyAnimation(self._effect, b"opacity", self)
        self._fade.finished.connect(self._on_fade_finished)
        self._fading_out = False

        self._settings = Settings()
        self.set_click_through(self._settings.overlay_click_through)
        self._restore_position()

    # Public API -------------------------------------------------------------------

    @property
    def display_s(self) -> float:
        return self._display_s

    def set_display_s(self, seconds: float) -> None:
        """How long a cue stays fully visible before it fades out."""
        self._display_s = max(0.05, float(seconds))

    def is_muted(self) -> bool:
        return self._muted

    def set_muted(self, muted: bool) -> None:
        """Mute (or unmute) cues; muting hides the cue on screen at once."""
        muted = bool(muted)
        if muted == self._muted:
            return
        self._muted = muted
        if muted:
            self.dismiss()
        self.muted_changed.emit(muted)

    def message(self) -> str:
        """The text currently on the overlay ("" when nothing is showing)."""
        return self._label.text() if self._current is not None else ""

    def current_cue(self) -> Cue | None:
        return self._current

    def show_cue(self, cue: Cue | str) -> bool:
        """Show a cue (or a bare message), replacing any cue on screen; False when muted."""
        if self._muted:
            return False
        if isinstance(cue, str):
            cue = Cue(t=0.0, kind="message", message=cue)
        self._current = cue
        self._label.setText(cue.message)
        # a top-level window does not ask a wrapped label for its height: give it the height of its lines
        self._label.setFixedHeight(self._label.heightForWidth(self._label.width()))
        self.adjustSize()
        self._hold.stop()
        self._fade.stop()
        self._fading_out = False
        if not self.isVisible():
            self._set_opacity(0.0)
            if self._settings.overlay_pos is None:  # not placed by the user: clear of the main window now
                self.move(self._default_position())
            self._keep_on_screen()
            self.show()
        self._animate_to(PANEL_OPACITY, FADE_IN_MS)
        self._hold.start(int(self._display_s * 1000) + FADE_IN_MS)
        return True

    def dismiss(self) -> None:
        """Hide the overlay at once."""
        self._hold.stop()
        self._fade.stop()
        self._fading_out = False
        self._current = None
        self.hide()

    def set_click_through(self, on: bool) -> None:
        """Let mouse clicks pass through the overlay (then it cannot be dragged or muted by click)."""
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowTransparentForInput, bool(on))
        self._mute_button.setVisible(not on)
        if visible:  # changing window flags hides a top-level window
            self.show()

    def is_click_through(self) -> bool:
        return bool(self.windowFlags() & Qt.WindowType.WindowTransparentForInput)

    # Animation --------------------------------------------------------------------

    def opacity(self) -> float:
        """How opaque the overlay is now (0 hidden … PANEL_OPACITY fully shown)."""
        return float(self._fade.targetObject().property(self._fade.propertyName().data().decode()))

    def _set_opacity(self, value: float) -> None:
        self._fade.targetObject().setProperty(self._fade.propertyName().data().decode(), value)

    def _animate_to(self, opacity: float, duration_ms: int) -> None:
        self._fade.stop()
        self._fade.setDuration(duration_ms)
        self._fade.setStartValue(self.opacity())
        self._fade.setEndValue(opacity)
        self._fade.setEasingCurve(QEasingCurve.Type.InOutQuad)
        self._fade.start()

    def _fade_out(self) -> None:
        if self.underMouse() and self._drag_offset is None:
            self._hold.start(500)  # the user is reaching for it (e.g. Mute): wait for them
            return
        self._fading_out = True
        self._animate_to(0.0, FADE_OUT_MS)

    def _on_fade_finished(self) -> None:
        if self._fading_out and self._fade.state() == QAbstractAnimation.State.Stopped:
            self._fading_out = False
            self._current = None
            self.hide()

    # Position ---------------------------------------------------------------------

    def _default_position(self) -> QPoint:
        """A screen corner, top right first, that leaves the main window clear (its Stop and Mute sit at its top
        right, and the top right of the screen covered them); bottom right when every corner overlaps it."""
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return QPoint(SCREEN_MARGIN_PX, SCREEN_MARGIN_PX)
        area = screen.availableGeometry()
        size = self.sizeHint().expandedTo(self.size()) if self.isVisible() else self.sizeHint()
        left, right = area.left() + SCREEN_MARGIN_PX, area.right() - size.width() - SCREEN_MARGIN_PX
        top, bottom = area.top() + SCREEN_MARGIN_PX, area.bottom() - size.height() - SCREEN_MARGIN_PX
        corners = [QPoint(right, top), QPoint(right, bottom), QPoint(left, top), QPoint(left, bottom)]
        clear = self._keep_clear() if self._keep_clear is not None else None
        if clear is None or clear.isEmpty():
            return corners[0]
        return next((p for p in corners if not QRect(p, size).intersects(clear)), corners[1])

    def _restore_position(self) -> None:
        pos = self._settings.overlay_pos
        self.move(pos if pos is not None else self._default_position())

    def _keep_on_screen(self) -> None:
        """Keep the whole panel on a screen (the remembered spot may be on a monitor that is gone)."""
        screen = QGuiApplication.screenAt(self.pos() + QPoint(10, 10))
        if screen is None:
            self.move(self._default_position())
            return
        area = screen.availableGeometry()
        size = self.size()
        x = min(max(self.x(), area.left()), area.right() - size.width() + 1)
        y = min(max(self.y(), area.top()), area.bottom() - size.height() + 1)
        if (x, y) != (self.x(), self.y()):
            self.move(x, y)

    def save_position(self) -> None:
        """Remember where the overlay is on screen."""
        self._settings.overlay_pos = self.pos()

    # Events -----------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_offset = event.globalPosition().toPoint() - self.frameGeometry().topLeft()
            self._hold.stop()
            self._fade.stop()
            self._fading_out = False
            self._set_opacity(PANEL_OPACITY)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_offset is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.move(event.globalPosition().toPoint() - self._drag_offset)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_offset is not None and event.button() == Qt.MouseButton.LeftButton:
            self._drag_offset = None
            self.save_position()
            self._hold.start(int(self._display_s * 1000))
            event.accept()
            return
        super().mouseReleaseEvent(event)
