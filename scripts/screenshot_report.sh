#!/usr/bin/env bash
# Screenshot an HTML report with headless Chromium, to look at it as a reviewer would.
# Usage: scripts/screenshot_report.sh REPORT.html [OUT.png] [WIDTH,HEIGHT]
# Defaults: OUT = REPORT with .png, size 1280,1800. Needs chromium (apt-get install -y chromium).
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 REPORT.html [OUT.png] [WIDTH,HEIGHT]" >&2
    exit 2
fi
html="$(realpath "$1")"
out="${2:-${html%.*}.png}"
size="${3:-1280,1800}"
if [[ ! -f "$html" ]]; then
    echo "No such report: $1. Write one first (poise analyze CALL --html OUT.html)." >&2
    exit 2
fi
browser=""
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [[ -z "$browser" ]]; then
    echo "Chromium is not installed; install it with: apt-get install -y chromium" >&2
    exit 3
fi
out="$(realpath -m "$out")"
# A private profile keeps this run away from any real browser profile and lock files.
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
# timeout signals its whole process group, so a page that hangs (a stray alert()) cannot leave Chromium behind.
rm -f "$out"
timeout --kill-after=5 45 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --disable-crash-reporter --user-data-dir="$profile" --screenshot="$out" --window-size="$size" \
    "file://$html" >/dev/null 2>&1 || true
if [[ ! -s "$out" ]]; then
    echo "Chromium did not write a screenshot of $html; run it by hand to see why." >&2
    exit 1
fi
echo "$out"
