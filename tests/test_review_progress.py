"""The review window's progress throttle: what the analysis reports reaches the UI thread ten times a
second at most, with steady words, and the end always."""

from __future__ import annotations

import threading

from poise.desktop.review_window import PROGRESS_LABEL_S, PROGRESS_PERIOD_S, ProgressThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_reports_are_thinned_to_the_period_and_the_last_always_passes() -> None:
    clock, sent = Clock(), []
    throttle = ProgressThrottle(lambda f, label: sent.append((clock.now, f, label)), clock=clock)
    for i in range(1000):  # 100 reports a second for 10 s, the two threads' labels taking turns
        clock.now = i * 0.01
        throttle(i / 1000, "measuring voice" if i % 2 else "transcribing agent")
    clock.now = 10.0
    throttle(1.0, "done")
    times = [t for t, _f, _l in sent]
    assert 95 <= len(sent) <= 102, len(sent)
    assert min(b - a for a, b in zip(times, times[1:-1])) >= PROGRESS_PERIOD_S - 1e-9
    assert sent[-1][1:] == (1.0, "done")  # the end is never dropped, nor its words held back
    assert throttle.sent == len(sent) and throttle.sent + throttle.dropped == 1001
    fractions = [f for _t, f, _l in sent]
    assert fractions == sorted(fractions)


def test_the_words_change_at_most_once_a_second() -> None:
    clock, sent = Clock(), []
    throttle = ProgressThrottle(lambda f, label: sent.append((clock.now, label)), clock=clock)
    for i in range(300):
        clock.now = i * 0.05
        throttle(i / 1000, "measuring voice" if i % 2 else "transcribing agent")
    changes = [t for (t, label), (_t0, before) in zip(sent[1:], sent) if label != before]
    assert changes, "both labels are shown in turn"
    assert all(b - a >= PROGRESS_LABEL_S - 1e-9 for a, b in zip([0.0] + changes, changes))


def test_reports_from_two_threads_at_once() -> None:
    sent = []
    throttle = ProgressThrottle(lambda f, label: sent.append(f), period_s=0.0)

    def report(label: str) -> None:
        for i in range(2000):
            throttle(i / 2000, label)

    threads = [threading.Thread(target=report, args=(name,)) for name in ("measuring voice", "transcribing agent")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert throttle.sent + throttle.dropped == 4000 and len(sent) == throttle.sent
