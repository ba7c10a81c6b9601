#!/usr/bin/env bash
# Brings up a two-node Slurm cluster on this one host, for the Slurm backend's tests and
# `make demo-slurm`: munged, slurmctld and two slurmd (n1, n2) on 127.0.0.1, no systemd.
#
#   scripts/slurm-up.sh            install Slurm from Debian if missing, start what is not
#                                  running, wait until both nodes are idle
#   scripts/slurm-up.sh --conf     print the path of the cluster's slurm.conf and exit
#   scripts/slurm-up.sh --check    exit 0 when every daemon of the cluster runs, else 1
#
# Everything lives under $FLAME_SLURM_DIR (default /tmp/flame-slurm): slurm.conf, spool and
# log directories, and one pid file per daemon this script started. The client commands find
# the cluster through SLURM_CONF=$FLAME_SLURM_DIR/etc/slurm.conf (the script prints it), so a
# Slurm configured in /etc/slurm is left alone. scripts/slurm-down.sh stops exactly the
# daemons started here, by those pid files. Needs root (slurmd runs jobs as their users).
set -euo pipefail

dir=${FLAME_SLURM_DIR:-/tmp/flame-slurm}
conf=$dir/etc/slurm.conf
if [ "${1:-}" = "--conf" ]; then echo "$conf"; exit 0; fi
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
# A pid file names a daemon of ours only while that process still runs the same program.
alive() { # alive PIDFILE PROGRAM
    [ -s "$1" ] || return 1
    local pid; pid=$(cat "$1")
    [ -d "/proc/$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$2")" ]
}
if [ "${1:-}" = "--check" ]; then
    alive /run/munge/munged.pid /usr/sbin/munged && alive "$dir/run/slurmctld.pid" /usr/sbin/slurmctld \
        && alive "$dir/run/slurmd-n1.pid" /usr/sbin/slurmd && alive "$dir/run/slurmd-n2.pid" /usr/sbin/slurmd
    exit
fi
if [ $# -gt 0 ]; then echo "slurm-up.sh: unknown argument $1 (try --help)" >&2; exit 2; fi
if [ "$(id -u)" != 0 ]; then echo "slurm-up.sh: needs root (slurmd must run jobs as their users)" >&2; exit 1; fi

say() { echo "slurm-up: $*"; }
started_at=$(date +%s%N)

packages="slurmctld slurmd slurm-client munge"
missing=""
for package in $packages; do dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"; done
if [ -n "$missing" ]; then
    say "installing$missing from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; }
fi

mkdir -p "$dir/etc" "$dir/run" "$dir/log" "$dir/spool/ctld" "$dir/spool/n1" "$dir/spool/n2"
host=$(hostname -s)
cpus=4   # per node, declared (config_overrides): more runners than cores fit
cat > "$conf.new" <<EOF
# Written by flame-swift's scripts/slurm-up.sh: a two-node test cluster on one host.
ClusterName=flame
SlurmctldHost=$host
SlurmctldPort=16817
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmdSpoolDir=$dir/spool/%n
SlurmdLogFile=$dir/log/slurmd-%n.log
StateSaveLocation=$dir/spool/ctld
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/cgroup
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
KillWait=5
InactiveLimit=0
MinJobAge=30
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=n[1-2] NodeHostname=$host NodeAddr=127.0.0.1 Port=[17001-17002] CPUs=$cpus State=UNKNOWN
PartitionName=flame Nodes=n[1-2] Default=YES MaxTime=INFINITE State=UP LLN=YES
EOF
cat > "$dir/etc/cgroup.conf" <<EOF
CgroupPlugin=cgroup/v1
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
ConstrainSwapSpace=no
EOF
# The daemons read their configuration once: a changed one restarts them (slurm-down first).
if [ -f "$conf" ] && ! cmp -s "$conf" "$conf.new"; then
    say "configuration changed: restarting the cluster"
    "$(dirname "$0")/slurm-down.sh" >/dev/null
fi
mv "$conf.new" "$conf"
export SLURM_CONF=$conf

# munge: Debian's package made the key; one munged serves every daemon and client here.
if ! alive /run/munge/munged.pid /usr/sbin/munged; then
    install -d -o munge -g munge -m 0755 /run/munge
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 100); do [ -s /run/munge/munged.pid ] && break; sleep 0.05; done
    cp /run/munge/munged.pid "$dir/run/munged.pid"
    say "started munged (pid $(cat /run/munge/munged.pid))"
fi

if ! alive "$dir/run/slurmctld.pid" /usr/sbin/slurmctld; then
    rm -f "$dir/run/slurmctld.pid"
    /usr/sbin/slurmctld -f "$conf"
    for _ in $(seq 100); do [ -s "$dir/run/slurmctld.pid" ] && break; sleep 0.05; done
    say "started slurmctld (pid $(cat "$dir/run/slurmctld.pid" 2>/dev/null || echo '?'))"
fi
for node in n1 n2; do
    if ! alive "$dir/run/slurmd-$node.pid" /usr/sbin/slurmd; then
        rm -f "$dir/run/slurmd-$node.pid"
        /usr/sbin/slurmd -f "$conf" -N "$node"
        for _ in $(seq 100); do [ -s "$dir/run/slurmd-$node.pid" ] && break; sleep 0.05; done
        say "started slurmd $node (pid $(cat "$dir/run/slurmd-$node.pid" 2>/dev/null || echo '?'))"
    fi
done

# Ready when both nodes take jobs (idle, mixed or allocated: not down, drained or unknown).
for _ in $(seq 300); do
    states=$(sinfo -h -N -o '%N %t' 2>/dev/null | sort -u) || true  # the controller may not listen yet
    ready=$(echo "$states" | grep -cE '^n[12] (idle|mix|alloc)$' || true)
    [ "$ready" = 2 ] && break
    sleep 0.1
done
if [ "$ready" != 2 ]; then
    echo "slurm-up.sh: the nodes did not become ready within 30 s; sinfo says:" >&2
    echo "$states" >&2
    echo "logs: $dir/log/" >&2
    tail -n 5 "$dir"/log/*.log >&2 || true
    exit 1
fi
elapsed_ms=$(( ($(date +%s%N) - started_at) / 1000000 ))
say "cluster up in $((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000))) s: nodes n1, n2 ready; SLURM_CONF=$conf"
