#!/usr/bin/env bash
# Put Poise in this user's application menu (no root): the desktop entry and both icons.
#
#   bash packaging/install_desktop_entry.sh                  # Exec = this checkout's .venv/bin/poise
#   bash packaging/install_desktop_entry.sh /opt/poise/poise # Exec = a bundle's executable
#   bash packaging/install_desktop_entry.sh --remove         # take it out again
#
# scripts/setup.sh runs it (not under CI). Files go under ${XDG_DATA_HOME:-~/.local/share}.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
APPS="$DATA/applications"
ICONS="$DATA/icons/hicolor"
say() { printf 'desktop entry: %s\n' "$*"; }

if [[ "${1:-}" == "--remove" ]]; then
    rm -f "$APPS/poise.desktop" "$ICONS/256x256/apps/poise.png" "$ICONS/scalable/apps/poise.svg"
    say "removed"
    exit 0
fi
EXEC="${1:-$REPO/.venv/bin/poise}"
[[ -x "$EXEC" ]] || { printf 'desktop entry: %s is not an executable; run scripts/setup.sh first or give the path to poise\n' "$EXEC" >&2; exit 1; }
mkdir -p "$APPS" "$ICONS/256x256/apps" "$ICONS/scalable/apps"
# The full path, so the entry works whether or not ~/.local/bin is on the desktop session's PATH.
sed "s|^Exec=poise$|Exec=\"$EXEC\"|" "$REPO/packaging/poise.desktop" >"$APPS/poise.desktop.tmp"
chmod 644 "$APPS/poise.desktop.tmp"
mv "$APPS/poise.desktop.tmp" "$APPS/poise.desktop"
install -m 644 "$REPO/poise/assets/poise.png" "$ICONS/256x256/apps/poise.png"
install -m 644 "$REPO/poise/assets/poise.svg" "$ICONS/scalable/apps/poise.svg"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$APPS" 2>/dev/null || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$ICONS" 2>/dev/null || true
say "Poise is in your application menu ($APPS/poise.desktop runs $EXEC)"
