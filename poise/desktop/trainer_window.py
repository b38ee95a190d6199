"""The trainer's window: read a script at a target pace, replay a call at other paces, trends per agent.

Three tabs, each in its own module:

- *Read at pace* (`read_along_tab`): a teleprompter highlight advances word by word at
  the target pace while the reader's live pace (a practice call, `poise.app.practice`)
  is shown against the target.
- *Replay at another pace* (`replay_tab`): the agent side of a recording, time-stretched
  with its pitch kept (`poise.app.replay`), played through an output device; its
  articulation rate can be measured against the original's.
- *Trends* (`trends_tab`): pace and cue count per call for one agent, from the history.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QTabWidget, QVBoxLayout, QWidget

from poise.app.calls import AgentSource
from poise.audio.store import HistoryStore
from poise.desktop.read_along_tab import ReadAtPaceTab
from poise.desktop.replay_tab import ReplayTab
from poise.desktop.trends_tab import TrendsTab


class TrainerWindow(QMainWindow):
    """Poise — trainer: read at pace, replay at another pace, trends per agent.

    `source_factory` makes the audio source for *Read at pace* (default: the agent
    microphone from the settings); `output_device` names the playback device
    (default: the system's); `agent` and `history` choose whose trends are shown.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        source_factory: AgentSource | None = None,
        output_device: str | int | None = None,
        agent: str | None = None,
        history: HistoryStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Poise — trainer")
        if agent is None:
            from poise.desktop.settings import Settings

            agent = Settings().agent_name or "default"
        self.read_tab = ReadAtPaceTab(source_factory)
        self.replay_tab = ReplayTab(output_device)
        self.trends_tab = TrendsTab(agent, history)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(False)
        self.tabs.addTab(self.read_tab, "Read at pace")
        self.tabs.addTab(self.replay_tab, "Replay at another pace")
        self.tabs.addTab(self.trends_tab, "Trends")
        self.tabs.currentChanged.connect(self._tab_changed)
        holder = QWidget()
        lay = QVBoxLayout(holder)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.addWidget(self.tabs)
        self.setCentralWidget(holder)
        self.resize(900, 680)
        self.trends_tab.refresh()

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.trends_tab:
            self.trends_tab.refresh()

    def closeEvent(self, event) -> None:
        self.read_tab.shutdown()
        self.replay_tab.stop()
        super().closeEvent(event)
