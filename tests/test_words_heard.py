"""A recording's transcript holds the words each side was heard saying: not the other side leaking into its
microphone (live, such words never reach Whisper: utterances are cut on that side's speech), and not
without the speech the batched Whisper pass skipped (transcribed afterwards, as a live utterance is)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from poise.audio.analysis import analyze_file, missed_speech, words_heard
from poise.audio.prosody import Frames
from poise.audio.track import RoleTrack
from poise.audio.types import Segment, Word

from benchmarks import truth as T
from tests.conftest import speech_path

AMI_SPEAKERS = ("MEO015", "FEE013")  # the speakers of headset tracks source0 and source1 (MANIFEST.tsv)


def _track(speech: np.ndarray) -> RoleTrack:
    n = len(speech)
    track = RoleTrack()
    track.append(Frames(0, np.zeros(n, np.float32), speech.copy(), np.full(n, np.nan, np.float32), np.zeros(n, bool),
                        speech.copy(), speech.copy()))
    return track


def _segment(role: str, *words: tuple[str, float, float]) -> Segment:
    ws = [Word(w, a, b, 0.9) for w, a, b in words]
    return Segment(role=role, start=ws[0].start, end=ws[-1].end, text=" ".join(w for w, _, _ in words), words=ws)


def test_a_word_its_own_side_was_not_heard_saying_is_dropped():
    speech = np.zeros(1000, bool)
    speech[100:300] = True  # heard 1-3 s
    tracks = {"agent": _track(speech)}
    kept = words_heard([_segment("agent", ("hello", 1.1, 1.4), ("there", 3.2, 3.5), ("menu", 6.0, 6.4)),
                        _segment("agent", ("leak", 8.0, 8.3))], tracks)
    assert [(s.text, [w.word for w in s.words], s.start, s.end) for s in kept] == [("hello there", ["hello", "there"], 1.1, 3.5)]


def test_speech_no_word_covers_is_found_once_per_stretch():
    speech = np.zeros(1000, bool)
    speech[100:200] = speech[230:420] = True  # 1-4.2 s with a 0.3 s pause
    speech[600:650] = True  # 0.5 s: too short to be worth a second pass
    track = _track(speech)
    covered = [_segment("caller", ("yes", 1.0, 1.3))]
    assert missed_speech(covered, track, "caller") == [(pytest.approx(1.61), pytest.approx(4.2))]  # "yes" + 0.3 s
    assert missed_speech([_segment("caller", ("fine", 2.0, 4.0))], track, "caller") == []
    assert missed_speech(covered, track, "agent") == [(pytest.approx(1.0), pytest.approx(4.2))]  # another side's words cover nothing here


def test_the_ami_headsets_other_talkers_never_become_the_agents_words(tmp_path):
    # each headset hears the others 24-48 dB down; Whisper's batched pass transcribed them as this talker's
    # words (MEO015's track: FEE013's "Menu," 4.8 s after MEO015's last RTTM turn)
    rttm = T.rttm_segments(speech_path("pyannote_ami_seriously_mixture.rttm"))
    tracks = [sf.read(str(speech_path(f"pyannote_ami_seriously_source{i}.wav")), dtype="float32")[0] for i in range(2)]
    for agent, caller in ((0, 1), (1, 0)):
        path = tmp_path / f"ami_{agent}{caller}.wav"
        sf.write(str(path), np.stack([tracks[agent], tracks[caller]], axis=1), 16000, subtype="PCM_16")
        result = analyze_file(path)
        own = rttm[AMI_SPEAKERS[agent]]
        words = [w for s in result.segments if s.role == "agent" for w in s.words]
        far = [(w.word, round(w.start, 1)) for w in words if all(w.end < a - 1.0 or w.start > b + 1.0 for a, b in own)]
        assert far == [], far
        assert len(words) >= 50  # the talker's own words stay
