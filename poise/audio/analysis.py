"""Analyse a recorded call: the same Session as live, plus one Whisper pass per channel."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from .coach import CoachConfig
from .recorder import recording_gaps
from .session import TURN_PAUSE_MAX_FRAMES, Session
from .sources import StreamedCall, open_call
from .track import RoleTrack
from .transcribe import (WhisperModel, load_model, pipeline_speech, release_free_memory, thread_budget,
                         transcribe_batch, transcribe_utterance)
from .types import FRAME_HOP_S, SAMPLE_RATE, AnalysisResult, AudioInputError, Baseline, Segment
from .vad import SILERO_CHUNK, SileroStream, SpeechMap

ANALYSIS_BLOCK_S = 1.0  # s per block when replaying a file: larger blocks, fewer Python calls, same frames
TRANSCRIBE_SHARE = 0.9  # share of the progress bar given to Whisper (it takes most of the time)
ANALYSIS_CPU_THREADS = 2  # Whisper threads for a recording: both cores (live calls use one)
TRANSCRIBE_CHUNK_S = 300.0  # s of a channel per Whisper call: bounds memory on long calls
CUT_SEARCH_S = 5.0  # s either side of a chunk's nominal end searched for the quietest point
HEARD_MARGIN_S = 0.3  # s around a word in which its own side must be heard (speech or voiced sound); a word
#   with none is the other side leaking into this microphone (on the AMI headsets 17 of 233 words, all of
#   them another talker's by the RTTM). Live, such words never reach Whisper: utterances are cut on speech.
MISSED_SPEECH_MIN_S = 1.5  # s of one side's speech (its pauses < 0.5 s included) with no word: the batched
#   pass skipped it (a loud caller turn on a mu-law line; 3-5 s caller turns of a noisy built call)
MISSED_PAD_S = 0.2  # s of audio kept either side of missed speech, as a live utterance's pre-roll

MEASURE_NICE = 10  # niceness of the thread measuring the sound while Whisper decodes: it takes the cores
#   Whisper leaves idle instead of slowing its decoding (Linux; ignored where threads cannot be niced)
THREAD_POLL_S = 0.2  # s between the calling thread's looks at Ctrl+C / cancel while it waits for a pass
SPEECH_MAP_WAIT_S = 0.2  # s between the transcription's looks at whether the analysis is stopping while it waits
#   for the speech map of its next chunk

Progress = Callable[[float, str], None]


def chunk_speech(model: WhisperModel, speech_map: SpeechMap, lo: int, n: int) -> list[dict[str, int]]:
    """The pipeline's speech pieces of samples lo..lo+n of a channel from its speech map (which must know
    them): for the chunk from the start, exactly the pieces faster-whisper's own VAD pass finds; a later
    chunk reads the model's state carried from the call's start, as the prosody does, where that pass
    would start cold at the cut."""
    first = -(-lo // SILERO_CHUNK)  # the first Silero chunk starting inside this piece of audio
    probabilities = speech_map.probabilities(first, (lo + n) // SILERO_CHUNK + 1)
    return pipeline_speech(model, probabilities, n, first * SILERO_CHUNK - lo)


def sides_at_once(sides: int) -> bool:
    """Whether a recording's sides are transcribed at the same time, each on a Python thread and a CTranslate2
    worker of its own with an equal share of the threads: when there is a thread for each. tiny.en decodes a
    batch poorly on two threads (1.4 of 2 cores busy): a stereo call's two channels at once on one thread each
    take ~0.6x the time of one after the other on two (benchmarks/batch.py, single call)."""
    return sides > 1 and thread_budget(ANALYSIS_CPU_THREADS) >= sides


def transcription_model(model_path: str | Path | None, sides: int) -> WhisperModel:
    """The Whisper model a recording of `sides` channels is transcribed with (loaded once per process)."""
    if sides_at_once(sides):
        return load_model(model_path, cpu_threads=thread_budget(ANALYSIS_CPU_THREADS) // sides, workers=sides)
    return load_model(model_path, cpu_threads=ANALYSIS_CPU_THREADS)


def lower_thread_priority(niceness: int) -> None:
    """Make the calling thread (only it: Linux nices threads one by one) yield the CPU to the others."""
    if niceness <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except OSError:
        pass  # not allowed here: the thread keeps its priority, the analysis is the same


def find_speech(call: StreamedCall, roles: list[str], maps: dict[str, SpeechMap], stop: Callable[[], None]) -> None:
    """Fill each role's speech map: the Silero model over that channel, one pass over the file per role, the
    roles side by side (the model is sequential within a channel; the transcription waits for the agent's
    first chunk while the second core would idle). `stop()` raises to leave early."""

    def fill(role: str) -> None:
        try:
            stream = SileroStream()
            for agent, caller in call.pieces():
                stop()
                maps[role].add(stream.process(agent if role == "agent" else caller))  # type: ignore[arg-type]
            maps[role].add(stream.finish())
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            errors.append(exc)
        finally:
            maps[role].close()

    errors: list[BaseException] = []
    others = [threading.Thread(target=fill, args=(role,), name=f"poise-speech-{role}", daemon=True) for role in roles[1:]]
    for thread in others:
        thread.start()
    fill(roles[0])
    for thread in others:
        thread.join()
    if errors:
        raise errors[0]


def transcription_chunks(audio: np.ndarray) -> list[tuple[int, int]]:
    """Sample ranges of about TRANSCRIBE_CHUNK_S, each cut at the quietest 100 ms near its end.

    faster-whisper computes the features of all the speech it is given at once (~0.8 MB per
    second of audio), so an hour in one call would need gigabytes; chunks keep it bounded.
    """
    n, chunk, search, step = len(audio), int(TRANSCRIBE_CHUNK_S * SAMPLE_RATE), int(CUT_SEARCH_S * SAMPLE_RATE), SAMPLE_RATE // 10
    bounds, lo = [], 0
    while n - lo > chunk + search:
        target = lo + chunk
        window = audio[target - search : target + search]
        energy = np.square(window[: len(window) // step * step].reshape(-1, step)).mean(axis=1)
        cut = target - search + int(np.argmin(energy)) * step + step // 2
        bounds.append((lo, cut))
        lo = cut
    bounds.append((lo, n))
    return bounds


def streamed_chunks(pieces: Iterable[np.ndarray]) -> Iterator[tuple[int, np.ndarray]]:
    """`transcription_chunks` over audio that arrives in pieces: (first sample, chunk audio), the same
    cuts as `transcription_chunks` of the whole, holding at most one chunk and its search margin."""
    chunk, search, step = int(TRANSCRIBE_CHUNK_S * SAMPLE_RATE), int(CUT_SEARCH_S * SAMPLE_RATE), SAMPLE_RATE // 10
    parts: list[np.ndarray] = []
    have, lo = 0, 0
    for piece in pieces:
        parts.append(piece)
        have += len(piece)
        while have > chunk + search:
            buf = np.concatenate(parts)
            window = buf[chunk - search : chunk + search]
            energy = np.square(window[: len(window) // step * step].reshape(-1, step)).mean(axis=1)
            cut = chunk - search + int(np.argmin(energy)) * step + step // 2
            parts = []  # the pieces are in `buf` now: not held twice while the chunk is transcribed
            yield lo, buf[:cut]
            lo += cut
            parts, have = [buf[cut:]], len(buf) - cut
    if have or lo == 0:
        yield lo, np.concatenate(parts) if parts else np.zeros(0, np.float32)


class Cancelled(Exception):
    """The user stopped the analysis."""


def _frames(track: RoleTrack, start_s: float, end_s: float) -> slice:
    return slice(max(0, int(start_s / FRAME_HOP_S)), min(track.n, int(end_s / FRAME_HOP_S) + 1))


def words_heard(segments: list[Segment], tracks: dict[str, RoleTrack]) -> list[Segment]:
    """The segments with only the words their own side was heard saying (speech or voiced sound within
    HEARD_MARGIN_S); a segment left without words is dropped, one left with fewer is re-joined from them."""
    out: list[Segment] = []
    for seg in segments:
        track = tracks.get(seg.role)
        if track is None or not seg.words:
            out.append(seg)
            continue
        heard = []
        for word in seg.words:
            near = _frames(track, word.start - HEARD_MARGIN_S, word.end + HEARD_MARGIN_S)
            if track.speech[near].any() or track.voiced_sound[near].any():
                heard.append(word)
        if len(heard) == len(seg.words):
            out.append(seg)
        elif heard:
            text = " ".join(w.word for w in heard)
            out.append(Segment(role=seg.role, start=heard[0].start, end=max(w.end for w in heard), text=text, words=heard))
    return out


def missed_speech(segments: list[Segment], track: RoleTrack, role: str) -> list[tuple[float, float]]:
    """(start s, end s) of this side's speech, at least MISSED_SPEECH_MIN_S long, that no word covers."""
    n = track.n
    covered = np.zeros(n, bool)
    for seg in segments:
        if seg.role == role:
            for word in seg.words:
                covered[_frames(track, word.start - HEARD_MARGIN_S, word.end + HEARD_MARGIN_S)] = True
    uncovered = track.speech[:n] & ~covered
    edges = np.flatnonzero(np.diff(np.concatenate([[False], uncovered, [False]]).astype(np.int8)))
    runs: list[list[int]] = []
    for start, end in zip(edges[::2].tolist(), edges[1::2].tolist()):
        if runs and start - runs[-1][1] <= TURN_PAUSE_MAX_FRAMES and not covered[runs[-1][1] : start].any():
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return [(s * FRAME_HOP_S, e * FRAME_HOP_S) for s, e in runs if (e - s) * FRAME_HOP_S >= MISSED_SPEECH_MIN_S]


def _read_spans(call: StreamedCall, spans: list[tuple[str, float, float]]) -> Iterator[tuple[int, np.ndarray]]:
    """(index in `spans`, samples) of each (role, start s, end s), in one pass over the file, each as soon as
    the pass has read its end: only the clips the pass is inside are held, never all of a long call's."""
    bounds = [(role, int(a * SAMPLE_RATE), int(b * SAMPLE_RATE)) for role, a, b in spans]
    parts: dict[int, list[np.ndarray]] = {}
    left = set(range(len(bounds)))
    pos = 0
    for agent, caller in call.pieces():
        end = pos + len(agent)
        for i in sorted(left):
            role, lo, hi = bounds[i]
            if lo < end and hi > pos:
                piece = agent if role == "agent" else caller
                parts.setdefault(i, []).append(piece[max(lo - pos, 0) : min(hi, end) - pos].copy())
            if hi <= end:
                left.discard(i)
                clip = parts.pop(i, [])
                yield i, np.concatenate(clip) if clip else np.zeros(0, np.float32)
        pos = end
        if not left:
            return
    for i in sorted(left):  # spans past the end of the audio
        clip = parts.pop(i, [])
        yield i, np.concatenate(clip) if clip else np.zeros(0, np.float32)


def analyze_file(
    path: str | Path,
    caller_path: str | Path | None = None,
    agent_channel: str = "left",
    *,
    model_path: str | Path | None = None,
    config: CoachConfig | None = None,
    baseline: Baseline | None = None,
    transcribe: bool = True,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> AnalysisResult:
    """Everything Poise knows about a recorded call. Raises AudioInputError (bad input),
    transcribe.ModelError (no usable model) or Cancelled.

    `config` (the cue rules) and `baseline` (the agent's saved normal) make the analysis
    give the cues the agent would have seen live with the same settings.
    """
    report = progress or (lambda fraction, label: None)
    report(0.0, "reading audio")
    # Checked once here, then read again from disk for each pass (Whisper per side, the replay):
    # the whole call at 16 kHz (7.7 MB per minute of stereo) is never held (issue 9, memory).
    call = open_call(path, caller_path, agent_channel)  # type: ignore[arg-type]
    roles = ["agent"] + (["caller"] if call.has_caller else [])

    def side(role: str) -> Iterator[np.ndarray]:
        for agent, caller in call.pieces():
            yield agent if role == "agent" else caller  # type: ignore[misc]

    segments: list[Segment] = []
    failure: list[BaseException] = []
    done = {"prosody": 0.0, "words": 0.0 if transcribe else 1.0}

    def update(label: str) -> None:
        share = TRANSCRIBE_SHARE if transcribe else 0.0
        report(min(1.0, share * done["words"] + (1 - share) * done["prosody"]), label)

    loaded: dict[str, WhisperModel] = {}
    # Silero runs once per channel, before the rest: its probabilities give the transcription its speech
    # pieces (faster-whisper's pipeline would run it again) and the prosody its speech probability
    maps = {role: SpeechMap() for role in roles} if transcribe else {}

    def transcribe_role(model: WhisperModel, role: str, done_s: dict[str, float], found: list[Segment]) -> None:
        total_s = max(call.length * len(roles) / SAMPLE_RATE, 1e-9)
        for lo, audio in streamed_chunks(side(role)):
            while not maps[role].wait((lo + len(audio)) // SILERO_CHUNK + 1, SPEECH_MAP_WAIT_S):
                if stopping.is_set():
                    return
            if stopping.is_set() or (cancel is not None and cancel.is_set()):
                return
            speech = chunk_speech(model, maps[role], lo, len(audio))
            span_s = len(audio) / SAMPLE_RATE

            def on_progress(fraction: float, span_s: float = span_s, before: float = done_s[role]) -> None:
                done_s[role] = before + fraction * span_s
                done["words"] = sum(done_s.values()) / total_s
                update("transcribing both sides" if side_by_side else f"transcribing {role}")

            found.extend(
                transcribe_batch(model, audio, role, offset_s=lo / SAMPLE_RATE, progress=on_progress,  # type: ignore[arg-type]
                                 speech=speech)
            )
            del audio  # this chunk's samples, before the heap is trimmed
            release_free_memory()  # what Whisper freed goes back: the next chunk starts from the same RSS
            done_s[role] = lo / SAMPLE_RATE + span_s

    side_by_side = sides_at_once(len(roles))

    def transcribe_all() -> None:
        """Each side's chunks in order; with a core for each side, the sides at once (`sides_at_once`)."""
        try:
            model = loaded["model"] = transcription_model(model_path, len(roles))
            done_s = {role: 0.0 for role in roles}
            found: dict[str, list[Segment]] = {role: [] for role in roles}
            if not side_by_side:
                for role in roles:
                    transcribe_role(model, role, done_s, found[role])
            else:
                def run(role: str) -> None:
                    try:
                        transcribe_role(model, role, done_s, found[role])
                    except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
                        failure.append(exc)
                        stopping.set()  # the other side stops at its next chunk

                others = [threading.Thread(target=run, args=(role,), name=f"poise-transcribe-{role}", daemon=True)
                          for role in roles[1:]]
                for thread in others:
                    thread.start()
                run(roles[0])
                for thread in others:
                    thread.join()  # CTranslate2 must not be torn down while a side still decodes
            for role in roles:  # in role order whatever the threads' timing: the same segments every run
                segments.extend(found[role])
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            failure.append(exc)

    stopping = threading.Event()  # the analysis is leaving early: Whisper stops at its next chunk
    worker = threading.Thread(target=transcribe_all, name="poise-transcribe", daemon=True)

    def stop_if_asked() -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        if failure:  # no model, a damaged file: say so now, not after measuring the whole call
            raise failure[0]

    gaps = []
    try:
        if transcribe:
            worker.start()
            update("finding speech")
            find_speech(call, roles, maps, stop_if_asked)
        session = Session(has_caller=call.has_caller, config=config, baseline=baseline,
                          speech_maps={role: m.probabilities() for role, m in maps.items()})  # type: ignore[misc]
        # a recording Poise made carries where a device dropped out (`.gaps.json` beside it): that side is silence there
        gaps = recording_gaps(Path(path), call.duration_s)
        for gap in gaps:
            session.mark_gap(gap)
        # the sound is measured while Whisper transcribes (the rules need the words, the sound does not);
        # the rules then judge every frame with the transcript admitted as it would have arrived live
        total = max(call.duration_s, 1e-9)
        if not transcribe:
            measure(call, session, total, done, update, stopping, judge=True, check=stop_if_asked)
        else:
            measure_beside(lambda: measure(call, session, total, done, update, stopping), stop_if_asked, stopping)
            wait_for(worker, stop_if_asked)
            stop_if_asked()  # a failure the transcription met in its last moments
            segments[:] = words_heard(segments, session.tracks)
            segments.extend(_transcribe_missed(call, session, segments, loaded["model"], roles, cancel, update))
            segments.sort(key=lambda seg: (seg.start, seg.role))
            session.admit_transcript(list(segments))
        session.run_rules()
    finally:
        # CTranslate2 aborts the process if it is torn down mid-decode: let the running chunk finish
        stopping.set()
        for speech_map in maps.values():
            speech_map.close()  # a transcription waiting for speech the pass did not reach stops waiting
        if worker.is_alive():
            worker.join()
    result = session.finish(replace(call.info, notes=list(call.notes)), segments if transcribe else None)
    result.gaps = gaps
    if result.agent.talk_time_s == 0 and (result.caller is None or result.caller.talk_time_s == 0):
        raise AudioInputError(call.cut_short or f"{path} contains no speech Poise can hear: check that it is the right recording.")
    report(1.0, "done")
    return result


def measure(call: StreamedCall, session: Session, total_s: float, done: dict[str, float], update: Callable[[str], None],
            stopping: threading.Event, judge: bool = False, check: Callable[[], None] = lambda: None) -> None:
    """Measure the sound of the whole call into `session`; `judge`: run the rules as it goes (no words to wait for,
    so old frames fold as the call goes). Stops early when `stopping` is set."""
    for block in call.blocks(ANALYSIS_BLOCK_S):
        check()
        if stopping.is_set():
            return
        session.measure(block)
        if judge:
            session.run_rules()
        done["prosody"] = min(1.0, (block.t0 + block.duration) / total_s)
        update("measuring voice")


def wait_for(thread: threading.Thread, stop_if_asked: Callable[[], None]) -> None:
    """Wait for `thread` to end, answering `stop_if_asked` (cancel, a failure) every THREAD_POLL_S."""
    while thread.is_alive():
        thread.join(THREAD_POLL_S)
        stop_if_asked()


def measure_beside(work: Callable[[], None], stop_if_asked: Callable[[], None], stopping: threading.Event) -> None:
    """Run `work` on a thread of its own at MEASURE_NICE, beside Whisper's decoding; this thread keeps answering
    `stop_if_asked` (cancel, a failed transcription: then `stopping` is set and the block in hand finishes first)
    and re-raises what `work` raised."""
    failure: list[BaseException] = []

    def run() -> None:
        lower_thread_priority(MEASURE_NICE)
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="poise-measure", daemon=True)
    thread.start()
    try:
        wait_for(thread, stop_if_asked)
    finally:
        if thread.is_alive():  # leaving early
            stopping.set()
            thread.join()
    if failure:
        raise failure[0]


def _transcribe_missed(call: StreamedCall, session: Session, segments: list[Segment], model: WhisperModel,
                       roles: list[str], cancel: threading.Event | None, say: Callable[[str], None]) -> list[Segment]:
    """Speech the batched pass left without words, transcribed as live utterances are (one clip each)."""
    spans = [(role, max(0.0, a - MISSED_PAD_S), b + MISSED_PAD_S)
             for role in roles for a, b in missed_speech(segments, session.tracks[role], role)]
    if not spans:
        return []
    say("transcribing speech the first pass skipped")
    found: dict[int, list[Segment]] = {}
    for i, clip in _read_spans(call, spans):  # one clip held at a time: transcribed as soon as it is read
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        role, start_s, _ = spans[i]
        found[i] = transcribe_utterance(model, clip, role, start_s)  # type: ignore[arg-type]
        del clip
    return words_heard([seg for i in range(len(spans)) for seg in found.get(i, [])], session.tracks)
