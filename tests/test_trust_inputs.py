"""Bad input, the rest of issue 9's list: each through `poise analyze --save` against a history
that already holds a call. Refused: exit 2, one sentence naming the file, history unchanged.
Odd but usable (96 kHz float, NaN/Inf samples, a path with spaces and non-ASCII): analysed,
one sentence per note, the call added.

The cases are benchmarks/trust.py's matrix (the table counts them); the ones tested elsewhere
(tests/test_cli.py, tests/test_trust.py: missing, empty, directory, silence, truncated data,
six channels, caller of another length or rate, model folders, report paths, data folder)
are not run again here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.trust import CASES, check_case, seed_history

HERE_ONLY = {
    "truncated header", "random bytes as .wav", "text as .mp3", "1 sample", "96 kHz 32-bit float",
    "NaN/Inf samples", "clipping square wave", "path with spaces and non-ASCII", "no read permission",
    "damaged model folder",
}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, spoken_wav: Path) -> Path:
    return seed_history(tmp_path_factory.mktemp("seeded"), spoken_wav)


@pytest.mark.parametrize("case", [c for c in CASES if c.name in HERE_ONLY], ids=lambda c: c.name)
def test_bad_input_is_answered_cleanly_and_changes_nothing_saved(case, seeded: Path, spoken_wav: Path, tmp_path: Path) -> None:
    done = check_case(case, tmp_path, spoken_wav, seeded)
    if done.skipped:
        pytest.skip(done.skipped)
    assert done.ok, f"{case.name}: {done.problem}; exit {done.exit}; said {done.said}"
    if case.refused:
        assert len(done.said) == 1 and done.said[0].startswith("poise: ")


def test_the_matrix_covers_issue_9s_list() -> None:
    names = {c.name for c in CASES}
    assert len(names) == 19 and HERE_ONLY <= names
