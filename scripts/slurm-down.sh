#!/usr/bin/env bash
# Stops the test cluster scripts/slurm-up.sh started: exactly the daemons whose pid files it
# wrote under $FLAME_SLURM_DIR (default /tmp/flame-slurm), never a process found by name.
# A munged that was already running before slurm-up.sh is left alone.
set -euo pipefail

dir=${FLAME_SLURM_DIR:-/tmp/flame-slurm}
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
if [ $# -gt 0 ]; then echo "slurm-down.sh: unknown argument $1 (try --help)" >&2; exit 2; fi

stop() { # stop PIDFILE PROGRAM NAME
    [ -s "$1" ] || return 0
    local pid; pid=$(cat "$1")
    if [ -d "/proc/$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$2")" ]; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
        if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
        echo "slurm-down: stopped $3 (pid $pid)"
    fi
    rm -f "$1"
}

# Jobs first, while the controller can still cancel them.
if [ -f "$dir/etc/slurm.conf" ] && [ -s "$dir/run/slurmctld.pid" ]; then
    SLURM_CONF=$dir/etc/slurm.conf scancel --quiet --user=root 2>/dev/null || true
fi
for node in n1 n2; do stop "$dir/run/slurmd-$node.pid" /usr/sbin/slurmd "slurmd $node"; done
stop "$dir/run/slurmctld.pid" /usr/sbin/slurmctld slurmctld
stop "$dir/run/munged.pid" /usr/sbin/munged munged
