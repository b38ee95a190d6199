"""The read-along for a projector: full screen, large type, high contrast.

A second view of the same read-along (`ReadAtPaceTab`): the script, its highlight and
calming-phrase marks, the live pace and verdict and, at the end, the take's score. White
on black with a yellow current word: every colour used for text is at least 7:1 against the
background (WCAG AAA, `contrast_ratio`), except the words already read, faded on purpose.
Keys: Space starts and stops the take, F11 leaves or re-enters full screen, Esc closes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent, QTextCursor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QTextEdit, QVBoxLayout, QWidget

from poise.app.practice import PracticeScore, pace_verdict
from poise.audio.types import Meters

if TYPE_CHECKING:
    from poise.desktop.read_along_tab import ReadAtPaceTab

SCRIPT_POINT_SIZE = 40  # pt: readable from the back of a training room on a projector
PACE_POINT_SIZE = 44  # pt: the live pace number
LABEL_POINT_SIZE = 22  # pt: title, verdict, score
HINT_POINT_SIZE = 14  # pt: the key hints
BACKGROUND = QColor("#000000")
TEXT = QColor("#ffffff")
READ = QColor("#7a7a7a")  # words already read: faded on purpose (4.4:1), the eye moves on
NOW_BG = QColor("#ffd400")  # the word to say now: black on yellow
NOW_TEXT = QColor("#000000")
CALM = QColor("#5eead4")  # a calming phrase: bright teal, underlined (13:1)
DEFENSIVE = QColor("#ffb347")  # a defensive phrase in the trainer's own text (11:1)
ON_PACE = QColor("#86efac")  # the verdict "On pace" (15:1)
OFF_PACE = QColor("#ffb347")  # "Too fast" / "Too slow"
HINT = QColor("#c8c8c8")  # the key hints (12:1)


def _luminance(c: QColor) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _label(point_size: int, color: QColor, bold: bool = False, name: str = "") -> QLabel:
    label = QLabel("")
    if name:
        label.setObjectName(name)
    weight = 700 if bold else 400
    # the app style sheet sets a pixel size on every widget: sizes and colours go in a style sheet too
    label.setStyleSheet(
        f"QLabel {{ font-size: {point_size}pt; font-weight: {weight}; color: {color.name()}; background: transparent; }}"
    )
    return label


class PresentationView(QWidget):
    """The read-along of `tab`, full screen in large high-contrast type."""

    def __init__(self, tab: ReadAtPaceTab) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.tab = tab
        self.full_screen = False  # asked for full screen (some platforms, e.g. offscreen, keep no window state)
        self.setObjectName("presentation")
        self.setWindowTitle("Poise — presentation")
        self.setStyleSheet(f"#presentation {{ background: {BACKGROUND.name()}; }}")
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(self.backgroundRole(), BACKGROUND)
        self.setPalette(pal)

        self.title = _label(LABEL_POINT_SIZE, TEXT, bold=True, name="presentationTitle")
        self.target = _label(LABEL_POINT_SIZE, TEXT, name="presentationTarget")
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.target)

        self.script = QTextEdit(objectName="presentationScript")
        self.script.setReadOnly(True)
        self.script.setFrameShape(QFrame.Shape.NoFrame)
        self.script.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.script.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.script.setStyleSheet(
            f"QTextEdit {{ font-size: {SCRIPT_POINT_SIZE}pt; color: {TEXT.name()}; background: {BACKGROUND.name()};"
            " border: none; line-height: 140%; }"
        )

        self.pace = _label(PACE_POINT_SIZE, TEXT, bold=True, name="presentationPace")
        self.verdict = _label(LABEL_POINT_SIZE, TEXT, bold=True, name="presentationVerdict")
        self.score = _label(LABEL_POINT_SIZE, TEXT, name="presentationScore")
        self.score.setWordWrap(True)
        self.hint = _label(HINT_POINT_SIZE, HINT, name="presentationHint")
        self.hint.setText("Space: start or stop   ·   F11: window or full screen   ·   Esc: close")
        for label in (self.title, self.hint):
            label.setWordWrap(True)  # a narrow projector (800 px) still fits
        bottom = QHBoxLayout()
        bottom.addWidget(self.pace)
        bottom.addSpacing(30)
        bottom.addWidget(self.verdict)
        bottom.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 40, 60, 30)
        layout.setSpacing(20)
        layout.addLayout(top)
        layout.addWidget(self.script, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.score)
        layout.addWidget(self.hint)

        tab.highlight_changed.connect(self.redraw)
        tab.bridge.meters.connect(self.on_meters)
        tab.scored.connect(self.on_scored)
        tab.target.valueChanged.connect(lambda _v: self._show_target())
        self.redraw()

    # ------------------------------------------------------------------------------------
    def open_full_screen(self) -> None:
        """Show full screen, on a second screen (a projector) when there is one."""
        screens = QGuiApplication.screens()
        here = self.tab.window().screen() if self.tab.window() is not None else None
        other = next((s for s in screens if s is not here), None)
        screen = other or here or QGuiApplication.primaryScreen()
        if screen is not None:
            self.setGeometry(screen.geometry())
        self.redraw()
        self.full_screen = True
        self.showFullScreen()
        self.raise_()
        self.activateWindow()

    def current_word(self) -> str | None:
        """The word highlighted now (as in the tab)."""
        return self.tab.current_word()

    def redraw(self) -> None:
        """Follow the tab: its script, marks, highlight and target."""
        text = self.tab.script.toPlainText()
        if self.script.toPlainText() != text:
            self.script.setPlainText(text)
        choice = self.tab.script_choice()
        self.title.setText(choice.title)
        self._show_target()
        colors = {"read": READ, "now": NOW_BG, "now_text": NOW_TEXT, "calm": CALM, "defensive": DEFENSIVE}
        self.script.setExtraSelections(self.tab.selections_for(self.script, colors))
        if 0 <= self.tab.word_index < len(self.tab.words):
            cursor = QTextCursor(self.script.document())
            cursor.setPosition(self.tab.words[self.tab.word_index][1])
            self.script.setTextCursor(cursor)
            # a teleprompter: the line being read stays a third of the way down, what comes next below it
            bar = self.script.verticalScrollBar()
            bar.setValue(bar.value() + self.script.cursorRect(cursor).top() - self.script.viewport().height() // 3)
        if self.tab.is_running():
            self.score.setText("")
            if self.tab.last_wpm is None:  # a new take: nothing measured yet
                self.pace.setText("— wpm")
                self.verdict.setText("")

    def on_meters(self, m: Meters) -> None:
        wpm = m.agent_wpm_est
        if wpm is None:
            return
        self.pace.setText(f"{wpm:.0f} wpm")
        verdict = pace_verdict(wpm, self.tab.target.value())
        self.verdict.setText(verdict)
        color = ON_PACE if verdict == "On pace" else OFF_PACE
        self.verdict.setStyleSheet(
            f"QLabel {{ font-size: {LABEL_POINT_SIZE}pt; font-weight: 700; color: {color.name()}; background: transparent; }}"
        )

    def on_scored(self, score: PracticeScore) -> None:
        self.score.setText(score.summary())

    def _show_target(self) -> None:
        self.target.setText(f"Target {self.tab.target.value()} wpm")

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.close()
        elif key == Qt.Key.Key_Space:
            self.tab.toggle()
        elif key == Qt.Key.Key_F11:
            self.full_screen = not self.full_screen
            if self.full_screen:
                self.showFullScreen()
            else:
                self.showNormal()
        else:
            super().keyPressEvent(event)
