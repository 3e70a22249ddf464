#!/usr/bin/env bash
# Runs a command with a time limit. When the limit passes, prints the stack of every thread of every
# process the command started (gdb, when installed), kills them all and exits 124: a hung test then
# fails CI in bounded time and says where it hung, instead of running into CI's own limit silently.
# Usage: scripts/watchdog.sh SECONDS COMMAND [ARGUMENTS...]
set -uo pipefail
limit="$1"
shift
"$@" &
command_pid=$!

# The command and every process below it, deepest first.
descendants() {
    local child
    for child in $(pgrep -P "$1"); do descendants "$child"; done
    echo "$1"
}

elapsed=0
while kill -0 "$command_pid" 2>/dev/null; do
    if [ "$elapsed" -ge "$limit" ]; then
        echo "== watchdog: '$*' still running after $limit s; the stacks of its processes follow" >&2
        processes=$(descendants "$command_pid")
        for pid in $processes; do
            echo "--- process $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-300)" >&2
            if command -v gdb >/dev/null; then
                timeout 60 gdb -p "$pid" -batch -ex "thread apply all bt 30" 2>/dev/null \
                    | grep -E '^(Thread|#)' | head -400 >&2
            fi
        done
        for pid in $processes; do kill -KILL "$pid" 2>/dev/null; done
        wait "$command_pid" 2>/dev/null
        echo "== watchdog: killed '$*' after $limit s" >&2
        exit 124
    fi
    sleep 1
    elapsed=$((elapsed + 1))
done
wait "$command_pid"
