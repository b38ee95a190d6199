#!/usr/bin/env bash
# Set Poise up if needed, then start it. Extra arguments go to `poise`
# (e.g. scripts/start.sh analyze call.wav --html report.html).
# Without a display, and without arguments, it analyses the bundled demo call instead
# and writes demo_report.html in the current folder.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POISE="$REPO/.venv/bin/poise"

bash "$REPO/scripts/setup.sh"

if [[ -n ${DISPLAY:-} || -n ${WAYLAND_DISPLAY:-} || $# -gt 0 ]]; then
    # The app offers the demo call itself when there is no microphone.
    exec "$POISE" "$@"
fi

echo "No display found (DISPLAY and WAYLAND_DISPLAY are empty), so Poise analyses its demo call instead of opening a window."
"$POISE" analyze "$REPO/poise/assets/demo_call.ogg" --html demo_report.html
echo "The demo call's report is in $PWD/demo_report.html; open it in a browser."
