#!/usr/bin/env bash
# Set up Poise on Debian/Ubuntu: system packages, the .venv virtualenv, Python packages.
# Idempotent: on a ready machine it only checks and takes a few seconds. Works as root,
# with sudo, and in CI (CI=true, no stdin). PYTHON=/path/to/python3.x picks the interpreter.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
STAMP="$VENV/.poise-install-stamp"  # hash of pyproject.toml + Python version at the last good install

# What the code needs from the system: PortAudio and libsndfile (sounddevice, soundfile),
# PulseAudio + ALSA's pulse plugin (live capture and its tests), Xvfb (windows under test),
# espeak-ng/flite/sox/ffmpeg (test speech, the demo call, codecs) and the xcb/GL/font libraries
# PySide6's Qt needs to open a window.
APT_PACKAGES=(
    libportaudio2 libsndfile1
    pulseaudio pulseaudio-utils alsa-utils libasound2-plugins
    xvfb xauth
    espeak-ng flite sox ffmpeg
    libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
    libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0
    libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core
)

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

py_ok() {  # $1 runs Python >= 3.10
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1
}

py_version() { "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'; }

find_python() {  # prints the first interpreter >= 3.10
    local c path
    for c in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python3.10; do
        [[ -n $c ]] || continue
        path=$(command -v "$c" 2>/dev/null) || continue
        if py_ok "$path"; then
            echo "$path"
            return 0
        fi
    done
    return 1
}

venv_ok() { [[ -x $VENV/bin/python ]] && py_ok "$VENV/bin/python"; }

# --- 1. Debian packages ------------------------------------------------------------
wanted=("${APT_PACKAGES[@]}")
PY=""
if ! venv_ok; then
    if PY=$(find_python); then
        # Debian splits venv/ensurepip out of its Python packages.
        if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1 && [[ $PY == /usr/bin/* ]]; then
            ver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
            wanted+=("python${ver}-venv")
        fi
    else
        wanted+=(python3 python3-venv)
    fi
fi

if command -v dpkg-query >/dev/null 2>&1; then
    installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${wanted[@]}" 2>/dev/null \
        | awk '/ install ok installed$/ {print $1}' || true)
    missing=()
    for p in "${wanted[@]}"; do
        grep -qxF "$p" <<<"$installed" || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        say "system packages: all ${#wanted[@]} present"
    else
        SUDO=()
        if [[ $(id -u) -ne 0 ]]; then
            command -v sudo >/dev/null 2>&1 \
                || die "these Debian packages are missing and you are not root: ${missing[*]}; install them with 'apt-get install ${missing[*]}' as root and run this again."
            SUDO=(sudo)
            # No password prompt where nobody can answer it.
            if [[ ${CI:-} == true || ! -t 0 ]]; then SUDO=(sudo -n); fi
        fi
        say "system packages: installing ${missing[*]}"
        log=$(mktemp)
        # Another program (unattended-upgrades, a software centre) may hold the apt/dpkg lock:
        # wait for it, saying so, rather than fail at once. apt's own lock timeout covers
        # dpkg's lock; the loop covers the lists lock and older apt without that option.
        lock_wait_s=${POISE_APT_LOCK_WAIT_S:-300}  # s: how long to wait for the lock in all
        lock_poll_s=${POISE_APT_LOCK_POLL_S:-5}  # s between tries
        run_apt() {
            local start=$SECONDS said=0 mark
            while true; do
                mark=$(wc -l <"$log")
                if ${SUDO[@]+"${SUDO[@]}"} env DEBIAN_FRONTEND=noninteractive \
                    apt-get -o DPkg::Lock::Timeout="$lock_poll_s" "$@" >>"$log" 2>&1; then
                    return 0
                fi
                tail -n +"$((mark + 1))" "$log" | grep -qiE 'could not get lock|unable to lock|lock.*held by' || return 1
                if ((SECONDS - start >= lock_wait_s)); then
                    say "another program still holds the apt/dpkg lock after $((lock_wait_s / 60)) min"
                    return 1
                fi
                if ((said == 0)); then
                    say "another program is using apt/dpkg (e.g. automatic updates): waiting for it, up to $((lock_wait_s / 60)) min"
                    said=1
                fi
                sleep "$lock_poll_s"
            done
        }
        if ! run_apt update -q || ! run_apt install -y -q --no-install-recommends "${missing[@]}"; then
            tail -n 15 "$log" >&2
            die "apt-get could not install ${missing[*]} (full log: $log); fix the error above and run this again."
        fi
        rm -f "$log"
    fi
else
    say "system packages: not a Debian/Ubuntu system, so not checked; make sure the equivalents of these are installed: ${APT_PACKAGES[*]}"
fi

# --- 2. Virtualenv --------------------------------------------------------------------
if venv_ok; then
    say "virtualenv: .venv ready (Python $(py_version "$VENV/bin/python"))"
else
    if [[ -z $PY ]]; then
        PY=$(find_python) || {
            found=$(command -v python3 >/dev/null 2>&1 && py_version python3 || echo "none")
            die "Poise needs Python 3.10 or newer, but found ${found}; install python3.10 or newer (or set PYTHON=/path/to/python3) and run this again."
        }
    fi
    if [[ -e $VENV ]]; then say "virtualenv: .venv is broken or too old, recreating it"; fi
    "$PY" -m venv --clear "$VENV" || die "could not create .venv with $PY; install its venv module (e.g. apt-get install python3-venv) and run this again."
    rm -f "$STAMP"
    say "virtualenv: created .venv with Python $(py_version "$PY") ($PY)"
fi

# --- 3. Python packages ---------------------------------------------------------------
want_stamp="$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1) $(py_version "$VENV/bin/python")"
if [[ -f $STAMP && $(cat "$STAMP") == "$want_stamp" && -x $VENV/bin/poise ]]; then
    say "python packages: up to date (pyproject.toml unchanged since the last install)"
else
    say "python packages: installing Poise and its dependencies into .venv (the first time takes a few minutes)"
    # pip's output goes to a log (build back-ends are chatty) and is shown only on failure.
    log=$(mktemp)
    pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@" >>"$log" 2>&1; }
    if ! pip install -q --upgrade pip; then
        tail -n 20 "$log" >&2
        die "could not upgrade pip in .venv (full log: $log); check the connection to PyPI and run this again."
    fi
    if ! pip install -q -e "${REPO}[test]"; then
        tail -n 40 "$log" >&2
        die "could not install Poise's Python packages (full log: $log); fix the error above and run this again."
    fi
    rm -f "$log"
    printf '%s\n' "$want_stamp" >"$STAMP"
fi

# --- 4. Application menu (this user; not under CI) -------------------------------------
if [[ -z ${CI:-} && -z ${POISE_NO_DESKTOP_ENTRY:-} && -x $REPO/packaging/install_desktop_entry.sh ]]; then
    bash "$REPO/packaging/install_desktop_entry.sh" || say "desktop entry: not installed (see above); Poise still runs from scripts/start.sh"
fi

say "ready: start Poise with scripts/start.sh, run the tests with scripts/test.sh"
