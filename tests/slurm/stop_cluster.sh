#!/usr/bin/env bash
# Stops the daemons that start_cluster.sh STATE_DIR started (by their pid files), nothing else,
# and removes the test cluster's /etc/slurm/{slurm,gres}.conf.
set -uo pipefail
state=$(realpath -m "${1:?usage: stop_cluster.sh STATE_DIR}")
[[ -f $state/started ]] || exit 0
pidfile() {
    case $1 in
        slurmctld | slurmd) echo "$state/$1.pid" ;;
        munged) echo /run/munge/munged.pid ;;
    esac
}
# Jobs still queued or running (a test that timed out) end with the cluster.
squeue -h -o %i --states=PENDING,RUNNING,CONFIGURING 2>/dev/null | xargs -r scancel 2>/dev/null
for daemon in $(tac "$state/started"); do
    file=$(pidfile "$daemon")
    [[ -s $file ]] || continue
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done  # ports free for the next start
done
rm -f "$state/started"
if grep -q "^# deep-qpi test cluster" /etc/slurm/slurm.conf 2>/dev/null; then
    rm -f /etc/slurm/slurm.conf /etc/slurm/gres.conf
fi
