#!/usr/bin/env bash
# Measures what the Slurm backend's design rests on, on the test cluster of slurm-up.sh:
# how long srun and sbatch take to start a job, and how a job ends when its srun is sent
# SIGTERM or SIGKILL or the job is scancelled, running and pending. docs/ARCHITECTURE.md
# quotes its output.
#
#   scripts/slurm-costs.sh [ROUNDS]     (default 5 rounds per figure)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
rounds=${1:-5}
case $rounds in ''|*[!0-9]*) echo "slurm-costs.sh: ROUNDS must be a number, got $rounds" >&2; exit 2;; esac
scripts/slurm-up.sh >/dev/null
export SLURM_CONF; SLURM_CONF=$(scripts/slurm-up.sh --conf)
work=$(mktemp -d /tmp/flame-slurm-costs.XXXXXX)
trap 'scancel --quiet --name=flame-costs 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

now() { date +%s%N; }
ms() { echo $(( ($(now) - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
in_queue() { [ -n "$(squeue -h -j "$1" -o %T 2>/dev/null)" ]; }

# A running job: srun in the background, its task's pid, its job id.
start_running() {
    rm -f task.pid
    srun --job-name=flame-costs --input=none bash -c 'echo $$ > task.pid; exec sleep 600' 2>/dev/null &
    srun_pid=$!
    until [ -s task.pid ]; do sleep 0.005; done
    task=$(cat task.pid)
    job=$(squeue -h --name=flame-costs -o %i | head -1)
}

echo "srun start (srun true, until it returns), ms:"
for _ in $(seq "$rounds"); do t=$(now); srun --job-name=flame-costs --input=none true; ms "$t"; done | median

echo "sbatch start (submit until the job's script has run), ms:"
for _ in $(seq "$rounds"); do
    rm -f ran; t=$(now)
    sbatch --quiet --job-name=flame-costs --output=/dev/null --wrap="touch $work/ran" >/dev/null
    until [ -e ran ]; do sleep 0.01; done; ms "$t"
done | median

for how in srun-SIGTERM srun-SIGKILL scancel; do
    task_ms=(); queue_ms=()
    for _ in $(seq "$rounds"); do
        start_running
        t=$(now)
        case $how in
            srun-SIGTERM) kill -TERM "$srun_pid" ;;
            srun-SIGKILL) kill -KILL "$srun_pid" ;;
            scancel) scancel "$job" ;;
        esac
        while [ -d "/proc/$task" ]; do sleep 0.002; done; task_ms+=("$(ms "$t")")
        while in_queue "$job"; do sleep 0.005; done; queue_ms+=("$(ms "$t")")
        wait "$srun_pid" 2>/dev/null || true
    done
    echo "running job, $how: task gone after $(printf '%s\n' "${task_ms[@]}" | median) ms, job out of squeue after $(printf '%s\n' "${queue_ms[@]}" | median) ms"
done

for signal in TERM KILL; do
    # More CPUs than a node has: the job pends (reason PartitionConfig) until cancelled.
    srun --job-name=flame-costs --input=none --cpus-per-task=64 true 2>/dev/null &
    srun_pid=$!
    until [ -n "$(squeue -h --name=flame-costs -t PENDING -o %i)" ]; do sleep 0.01; done
    job=$(squeue -h --name=flame-costs -t PENDING -o %i | head -1)
    t=$(now); kill -"$signal" "$srun_pid"; wait "$srun_pid" 2>/dev/null || true
    for _ in $(seq 100); do in_queue "$job" || break; sleep 0.1; done
    if in_queue "$job"; then
        echo "pending job, srun-SIG$signal: still $(squeue -h -j "$job" -o %T) after 10 s"
        scancel "$job"
    else
        echo "pending job, srun-SIG$signal: out of squeue after $(ms "$t") ms"
    fi
done
