"""How long should *Let the caller finish* wait? Built calls with long backchannels, for several waits (issue 6).

Run from the repo root:

    .venv/bin/python -m benchmarks.backchannel_wait     # ~3-5 min here

The built calls of `benchmarks/real_calls.py` (booking and read bases; clean, crosstalk and every
degradation together; 16 kHz PCM and 8 kHz mu-law) are built again with their backchannels drawn
from the agent's real utterances of 0.55-0.95 s (the AMI headsets' run to 0.74 s, the booking
agent's to 0.94 s; the truth calls an agent stretch under 1 s a backchannel), 14 per call, and run
through the Session (no words: the floor rule does not use them) with `backchannel_max_s` set to
each wait. Scored as real_calls scores them (definitions at the top of results/real_calls.md).

Writes benchmarks/results/backchannel_wait.{json,md}. A measurement, not a test: nothing asserts.
"""

from __future__ import annotations

import itertools
import json
import tempfile
import zlib
from pathlib import Path

from benchmarks import built as B
from benchmarks import degrade as D
from benchmarks import real_calls as R
from benchmarks import truth as T
from poise.audio.coach import CoachConfig

WAITS_S = (0.55, 0.7, 0.85, 1.0)  # s: the old default, two between, today's default
BACKCHANNEL_LEN_S = (0.55, 0.95)  # s: only backchannels longer than the old wait
BACKCHANNELS_PER_CALL = 14
VARIANTS = ("clean", "crosstalk", "all")
OUT = Path(__file__).parent / "results"


def main() -> None:
    speech = R.speech_dir_or_exit()
    with tempfile.TemporaryDirectory(prefix="poise-bc-wait-") as tmpdir:
        rows, lengths, n_calls = sweep(speech, Path(tmpdir))
    write(rows, lengths, n_calls)


def sweep(speech: Path, tmp: Path) -> tuple[list[dict], list[float], int]:
    """Every wait over the same built calls: one row per wait."""
    B.BACKCHANNEL_LEN_S = BACKCHANNEL_LEN_S
    calls = []
    for base_name, make in (("booking", R.booking_base), ("read", R.read_base)):
        agent, caller, ta, tc, calib = make(speech)
        call = B.build(base_name, agent, caller, ta, tc, seed=6, calibration_end_s=calib, n_backchannels=BACKCHANNELS_PER_CALL)
        conv = T.conversation_truth(call.ta, call.tc)
        for name, fmt in itertools.product(VARIANTS, R.FORMATS):
            degs = {"clean": (), "all": D.ALL_TOGETHER}.get(name, (name,))
            d = D.apply(degs, call.agent, call.caller, call.ta, call.tc, seed=zlib.crc32(f"{base_name}/{name}".encode()) % 1000, speech=speech)
            calls.append((R.write_stereo(tmp / f"{base_name}_{name}_{fmt}.wav", d.agent, d.caller, fmt), call, conv))
    rows = []
    original_init = CoachConfig.__init__
    for wait in WAITS_S:
        def init(self, *args, _wait=wait, **kwargs):  # noqa: ANN001, ANN202 - the Session builds its own config
            original_init(self, *args, **kwargs)
            self.backchannel_max_s = _wait
        CoachConfig.__init__ = init
        total = R.CueScore()
        for path, call, conv in calls:
            agent, caller = R.load_stereo(path)
            run = R.run_session(agent, caller)
            total.add(R.score(run.cues, conv, len(agent) / T.SR, [x for x in call.situations if x.expected != "slow_down"]))
        s = total.summary()
        k = s["per_kind"]["let_caller_finish"]
        rows.append({"wait_s": wait, "backchannels": s["backchannels"], "cued_backchannels": s["cues_on_backchannels"],
                     "floor_takes": k["situations"], "floor_takes_cued": k["hits_during"], "latency_median_s": k["latency_median_s"],
                     "latency_p95_s": k["latency_p95_s"], "lcf_false": k["false"], "false_all_kinds": s["false_cues"]})
        print(rows[-1], flush=True)
    CoachConfig.__init__ = original_init
    lengths = sorted(round(x.end - x.start, 2) for _, call, _ in calls[:: len(VARIANTS) * len(R.FORMATS)] for x in call.situations
                     if x.kind == "backchannel")
    return rows, lengths, len(calls)


def write(rows: list[dict], lengths: list[float], n_calls: int) -> None:
    state = R.code_state()
    md = [R.header_line(state, "Let the caller finish: how long to wait"), "",
          f"Built calls ({n_calls}: booking and read bases x {', '.join(VARIANTS)} x {', '.join(R.FORMATS)}) with backchannels of "
          f"{BACKCHANNEL_LEN_S[0]}-{BACKCHANNEL_LEN_S[1]} s drawn from the agent's own utterances (lengths over both bases: {lengths}); Session, no words.", "",
          "| wait s | backchannels cued | floor takes cued | latency median s | p95 s | false let_caller_finish | false cues, all kinds |",
          "|---|---|---|---|---|---|---|"]
    md += [f"| {r['wait_s']} | {r['cued_backchannels']} / {r['backchannels']} | {r['floor_takes_cued']} / {r['floor_takes']} | "
           f"{r['latency_median_s']} | {r['latency_p95_s']} | {r['lcf_false']} | {r['false_all_kinds']} |" for r in rows]
    OUT.mkdir(exist_ok=True)
    (OUT / "backchannel_wait.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    (OUT / "backchannel_wait.json").write_text(json.dumps({"state": state, "backchannel_lengths_s": lengths, "rows": rows}, indent=2) + "\n",
                                               encoding="utf-8")
    print(f"wrote {OUT / 'backchannel_wait.md'}")


if __name__ == "__main__":
    main()
