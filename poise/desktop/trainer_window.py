"""The trainer's window: read a script at a target pace, the trainee's scored takes, replay a call at
other paces, trends per agent.

The trainee (the agent whose takes are saved and shown) is picked above the tabs. The tabs,
each in its own module:

- *Read at pace* (`read_along_tab`): a teleprompter highlight advances word by word at
  the target pace while the reader's live pace (a practice call, `poise.app.practice`)
  is shown against the target; at the end the take is scored and saved.
- *Takes* (`practice_takes`): the trainee's takes with their scores and score trend.
- *Compare takes* (`practice_compare`): two takes side by side, pace and pitch on one
  time axis from where each reading began, the scores compared.
- *Replay at another pace* (`replay_tab`): a recording at 0.70×-1.30× in 0.05 steps,
  time-stretched with its pitch kept (`poise.app.replay`), both sides, the agent or the
  caller, played through an output device; the agent's articulation rate can be
  measured against the original's.
- *Trends* (`trends_tab`): pace and cue count per call for one agent, from the history.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from poise.app.calls import AgentSource
from poise.audio.store import HistoryStore
from poise.desktop.practice_compare import CompareTakesTab
from poise.desktop.practice_takes import TakesTab
from poise.desktop.profiles import ProfilePicker
from poise.desktop.read_along_tab import ReadAtPaceTab
from poise.desktop.replay_tab import ReplayTab
from poise.desktop.trends_tab import TrendsTab
from poise.desktop.window_actions import Opener, RecordingDrop, open_for_review
from poise.desktop.window_geometry import place, save_geometry

DEFAULT_SIZE = (900, 660)  # px: the tabs' widest row (13 speeds) fits, and so does a 1024×700 screen with its panel
GEOMETRY_FILE = "trainer_window.json"  # next to settings.json: the trainer window's last geometry


class TrainerWindow(QMainWindow):
    """Poise — trainer: read at pace, the trainee's takes, replay at another pace, trends per agent.

    `source_factory` makes the audio source for *Read at pace* (default: the agent
    microphone from the settings); `output_device` names the playback device
    (default: the system's); `agent` is the trainee first shown (their takes and trends)
    and `history` the store (default: the user's). A recording dropped on the window opens in
    review: `opener(path, caller_path, agent_channel)` (the main window passes its own), else a review window of its own.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        source_factory: AgentSource | None = None,
        output_device: str | int | None = None,
        agent: str | None = None,
        history: HistoryStore | None = None,
        opener: Opener | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Poise — trainer")
        self._opener = opener
        self.review_windows: list[QWidget] = []
        self._drop = RecordingDrop(self, lambda p: self._review(Path(p)))
        self.installEventFilter(self._drop)
        if agent is None:
            from poise.desktop.settings import Settings

            agent = Settings().agent_name or "default"
        self.trainee = ProfilePicker(history=history, save_choice=False, allow_new=True)
        self.trainee.setObjectName("traineePicker")
        self.trainee.setToolTip("Whose practice takes are scored and saved")
        self.trainee.set_current(agent)
        self.trainee.chosen.connect(self.set_trainee)
        self.read_tab = ReadAtPaceTab(source_factory, agent=agent, history=history)
        self.takes_tab = TakesTab(agent, history)
        self.compare_tab = CompareTakesTab(agent, history, output_device=output_device)
        self.read_tab.take_saved.connect(lambda _id: self.takes_tab.refresh())
        self.takes_tab.compare_requested.connect(self.compare)
        self.replay_tab = ReplayTab(output_device)
        self.trends_tab = TrendsTab(agent, history)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(False)
        self.tabs.addTab(self.read_tab, "Read at pace")
        self.tabs.addTab(self.takes_tab, "Takes")
        self.tabs.addTab(self.compare_tab, "Compare takes")
        self.tabs.addTab(self.replay_tab, "Replay at another pace")
        self.tabs.addTab(self.trends_tab, "Trends")
        self.tabs.currentChanged.connect(self._tab_changed)
        top = QHBoxLayout()
        top.addWidget(QLabel("Trainee", objectName="fieldLabel"))
        top.addWidget(self.trainee)
        top.addStretch(1)
        holder = QWidget()
        lay = QVBoxLayout(holder)
        lay.setContentsMargins(12, 10, 12, 12)
        lay.setSpacing(8)
        lay.addLayout(top)
        lay.addWidget(self.tabs)
        self.setCentralWidget(holder)
        place(self, GEOMETRY_FILE, DEFAULT_SIZE)
        self.trends_tab.refresh()
        self.takes_tab.refresh()

    def trainee_name(self) -> str:
        """The agent whose takes are saved and shown."""
        return self.read_tab.agent

    def _review(self, path: Path) -> None:
        """Open a recording in review (a call of the list, or a file dropped on the window)."""
        open_for_review(self, path, self._opener)

    def set_trainee(self, agent: str) -> None:
        """Practise as `agent`: the next takes are saved as theirs; their takes and trends are shown."""
        if self.trainee.current() != agent:
            self.trainee.set_current(agent)
        self.read_tab.agent = agent
        self.takes_tab.set_agent(agent)
        self.compare_tab.set_agent(agent)
        self.trends_tab.set_agent(agent)

    def compare(self, first_id: int, second_id: int) -> None:
        """Show two takes side by side (the *Compare takes* tab)."""
        self.compare_tab.refresh()
        self.compare_tab.show_takes(first_id, second_id)
        self.tabs.setCurrentWidget(self.compare_tab)

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.trends_tab:
            self.trends_tab.refresh()
        elif self.tabs.widget(index) is self.takes_tab:
            self.takes_tab.refresh()
        elif self.tabs.widget(index) is self.compare_tab and self.compare_tab.chosen() is None:
            self.compare_tab.refresh()

    def closeEvent(self, event) -> None:
        self.compare_tab.stop()
        self.read_tab.shutdown()
        self.replay_tab.stop()
        save_geometry(GEOMETRY_FILE, self)
        super().closeEvent(event)
