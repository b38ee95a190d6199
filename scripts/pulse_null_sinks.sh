#!/usr/bin/env bash
# Test harness for live capture: a PulseAudio daemon with two null sinks (`agent`,
# `caller`) and ALSA PCMs `poise_agent_in` / `poise_caller_in` that capture their
# monitors, so Debian's PortAudio (PulseAudio via ALSA's pulse plugin) lists them as
# input devices. Idempotent: safe to run again at any time.
#
# Usage: scripts/pulse_null_sinks.sh [--private DIR]              set everything up
#        scripts/pulse_null_sinks.sh [--private DIR] --sink NAME  (re)create one null sink
#        scripts/pulse_null_sinks.sh --private DIR --stop         stop the private daemon
#
# Without --private it uses (or starts) the user's PulseAudio. With --private DIR it
# runs a separate daemon whose socket is DIR/native, so tests cannot collide with
# anyone else unplugging or playing into the shared `agent` / `caller` sinks.
#
# Prints `server=...` (export it as PULSE_SERVER: the ALSA PCMs, paplay and pactl then
# reach this daemon whatever XDG_* say) and `rescue_streams=no|unknown` (`no` when
# the daemon is ours: a stream whose source vanishes dies instead of moving to another
# source, as a stream on an unplugged ALSA device would; a desktop PulseAudio moves it).
#
# Note: a null sink renders in blocks of up to 2 s while nobody asks for low
# latency, so a capture stream opened on an idle sink's monitor may wait up to 2 s
# for its first samples.
set -euo pipefail

SINKS=(agent caller)
ASOUNDRC="${HOME}/.asoundrc"
BEGIN_MARK="# >>> poise test PCMs (scripts/pulse_null_sinks.sh) >>>"
END_MARK="# <<< poise test PCMs <<<"
STATE_DIR="${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/poise-pulse-$(id -u)"
PRIVATE=""

die() { echo "pulse_null_sinks: $*" >&2; exit 1; }

command -v pulseaudio >/dev/null || die "PulseAudio is not installed; install it with 'apt-get install pulseaudio'."
command -v pactl >/dev/null || die "pactl is missing; install it with 'apt-get install pulseaudio-utils'."

if [[ ${1:-} == --private ]]; then
    [[ -n ${2:-} ]] || die "usage: $0 --private DIR [--sink NAME | --stop]"
    mkdir -p "$2"
    chmod 700 "$2"
    PRIVATE=$(cd "$2" && pwd)
    export PULSE_SERVER="unix:$PRIVATE/native"
    shift 2
fi

# PIDs of this user's live (not zombie) PulseAudio daemons.
live_daemons() {
    ps -u "$(id -u)" -o pid=,stat=,comm= 2>/dev/null | awk '$3 == "pulseaudio" && $2 !~ /^Z/ {print $1}'
}

write_daemon_conf() {
    # By default PulseAudio moves ("rescues") a stream to another source when its
    # source disappears, so a test could never see a device vanish.
    mkdir -p "$STATE_DIR"
    printf '%s\n' "# written by poise scripts/pulse_null_sinks.sh" \
        "rescue-streams = no" "exit-idle-time = -1" >"$STATE_DIR/daemon.conf"
}

start_daemon() {
    pactl info >/dev/null 2>&1 && return 0
    if [[ -z $PRIVATE && -n $(live_daemons) ]]; then
        # Starting another one would leave daemons fighting over devices and sockets.
        die "PulseAudio is running but cannot be reached from here (PULSE_SERVER, XDG_RUNTIME_DIR or XDG_CONFIG_HOME differ from its own); set PULSE_SERVER to its socket, or use --private DIR."
    fi
    write_daemon_conf
    # -n: none of default.pa's policy modules (stream-restore, intended-roles, ...), which
    # also move streams around; the native protocol is all the harness needs.
    local args=(--daemonize=yes --exit-idle-time=-1 --system=false -n --load=module-native-protocol-unix)
    # As root (CI containers) PulseAudio runs with a warning; --disallow-exit keeps
    # clients from shutting it down.
    [[ $(id -u) -eq 0 ]] && args+=(--disallow-exit)
    local env=(PULSE_CONFIG="$STATE_DIR/daemon.conf")
    [[ -n $PRIVATE ]] && env+=(PULSE_RUNTIME_PATH="$PRIVATE" PULSE_STATE_PATH="$PRIVATE")
    local log
    log=$(env "${env[@]}" pulseaudio "${args[@]}" 2>&1) || true
    for _ in $(seq 1 50); do
        pactl info >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "PulseAudio could not be started (${log//$'\n'/ }); check 'pulseaudio -vvv' for the reason."
}

stop_private() {
    [[ -n $PRIVATE ]] || die "--stop only stops a --private daemon."
    local pid
    pid=$(cat "$PRIVATE/pid" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
}

ensure_sink() {
    local name=$1
    if ! pactl list short sinks | awk '{print $2}' | grep -qx "$name"; then
        pactl load-module module-null-sink "sink_name=$name" \
            "sink_properties=device.description=$name" >/dev/null \
            || die "could not create the null sink '$name'."
    fi
}

write_asoundrc() {
    local block tmp
    block="$BEGIN_MARK"$'\n'
    for name in "${SINKS[@]}"; do
        block+="pcm.poise_${name}_in { type pulse; device \"${name}.monitor\"; hint { show on; description \"${name} (monitor of the ${name} null sink)\" } }"$'\n'
    done
    block+="$END_MARK"
    tmp=$(mktemp "${ASOUNDRC}.XXXXXX")
    if [[ -f "$ASOUNDRC" ]]; then
        # Keep everything the user has, minus an older copy of our block.
        awk -v b="$BEGIN_MARK" -v e="$END_MARK" '
            $0 == b {skip = 1; next}
            $0 == e {skip = 0; next}
            !skip {print}' "$ASOUNDRC" >"$tmp"
    fi
    printf '%s\n' "$block" >>"$tmp"
    if [[ -f "$ASOUNDRC" ]] && cmp -s "$tmp" "$ASOUNDRC"; then
        rm -f "$tmp"
    else
        mv "$tmp" "$ASOUNDRC"
    fi
}

# Whether the daemon in use keeps streams on a vanished source dead (ours does).
rescue_streams() {
    local pid pids
    if [[ -n $PRIVATE ]]; then
        pids=$(cat "$PRIVATE/pid" 2>/dev/null || true)
    else
        pids=$(live_daemons)
    fi
    for pid in $pids; do
        if { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qx "PULSE_CONFIG=$STATE_DIR/daemon.conf"; then
            echo no
            return
        fi
    done
    echo unknown
}

server_string() {
    local s
    s=$(LC_ALL=C pactl info | sed -n 's/^Server String: //p')
    [[ $s == /* ]] && s="unix:$s"
    echo "$s"
}

# On our own daemon, make a third null sink the default sink and source. When the
# default device disappears PulseAudio moves its streams to the new default even with
# rescue-streams off, so neither `agent` nor `caller` may be the default.
pin_defaults() {
    ensure_sink poise_default
    pactl set-default-sink poise_default
    pactl set-default-source poise_default.monitor
}

case ${1:-} in
    --stop)
        stop_private
        exit 0
        ;;
    --sink)
        [[ -n ${2:-} ]] || die "usage: $0 [--private DIR] --sink NAME"
        start_daemon
        ensure_sink "$2"
        [[ $(rescue_streams) == no ]] && pin_defaults
        exit 0
        ;;
    "") ;;
    *) die "unknown argument '$1'; see the usage at the top of $0." ;;
esac

start_daemon
for name in "${SINKS[@]}"; do ensure_sink "$name"; done
rescue=$(rescue_streams)
[[ $rescue == no ]] && pin_defaults
write_asoundrc
echo "PulseAudio ready: null sinks ${SINKS[*]}; ALSA inputs $(printf 'poise_%s_in ' "${SINKS[@]}")in $ASOUNDRC"
echo "server=$(server_string)"
echo "rescue_streams=$rescue"
