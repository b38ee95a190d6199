#!/usr/bin/env bash
# Set Poise up if needed, start the PulseAudio test devices, and run the whole test
# suite as CI does (.ci/run). Extra arguments go to pytest (e.g. -k coach, -x).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 1

bash scripts/setup.sh || exit $?

# Live-capture tests need PulseAudio null sinks; without them they skip with a reason.
if ! bash scripts/pulse_null_sinks.sh; then
    echo "test: PulseAudio test devices could not be set up; live-capture tests will be skipped."
fi

export QT_QPA_PLATFORM=offscreen
# Two workers (POISE_TEST_WORKERS): many tests wait on real time (live calls, subprocesses, players), and the
# tests that share PulseAudio or Ray run on one worker (tests/conftest.py SERIAL_GROUPS).
.venv/bin/python -m pytest -q -ra -n "${POISE_TEST_WORKERS:-2}" --dist loadgroup "$@"
status=$?
if [[ $status -eq 5 ]]; then
    echo "test: pytest collected no tests; check the arguments and the tests/ folder." >&2
    exit 1
fi
exit "$status"
