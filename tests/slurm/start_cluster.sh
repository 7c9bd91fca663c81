#!/usr/bin/env bash
# A throw-away single-node SLURM for tests: this host is controller and compute node, with two
# fake GPUs (character devices made by mknod; enough for SLURM's gres accounting, which sets
# CUDA_VISIBLE_DEVICES). Needs root; installs Debian's slurm-wlm and munge when missing.
#
#   tests/slurm/start_cluster.sh STATE_DIR
#   tests/slurm/stop_cluster.sh STATE_DIR
#
# State, logs and pid files live in STATE_DIR. The configuration must be /etc/slurm/slurm.conf:
# the plugin's job step strips SLURM_CONF from the environment of its inner srun. An existing
# slurm.conf that this script did not write is never touched (exit 3).
set -euo pipefail

state=$(realpath -m "${1:?usage: start_cluster.sh STATE_DIR}")
here=$(dirname "$(realpath "$0")")
mkdir -p "$state"/ctld "$state"/spool

if [[ $EUID -ne 0 ]]; then
    echo "start_cluster.sh: needs root (apt-get, munged, slurmd)" >&2
    exit 2
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || { echo "start_cluster.sh: no apt-get to install slurm-wlm" >&2; exit 2; }
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# munge: one key per host; start the daemon unless one already answers.
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
    install -d -o munge -g munge -m 0755 /run/munge
    [[ -s /etc/munge/munge.key ]] || mungekey --create --keyfile /etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
    runuser -u munge -- munged
    echo munged >>"$state/started"
fi

for i in 0 1; do
    [[ -c /dev/fakegpu$i ]] || mknod -m 0666 /dev/fakegpu$i c 1 3  # same numbers as /dev/null
done

host=$(hostname -s)
# Oversubscribed on purpose: the jobs here mostly wait on Python start-up, and the two training
# jobs (2 CPUs each) must run at once to show that they get distinct GPUs.
cpus=$(( $(nproc) > 8 ? $(nproc) : 8 ))
# At least 64 GB, so the profile's requests fit on a small CI machine (nothing enforces memory here).
mem_mb=$(awk '/MemTotal/ {m = int($2 / 1024); print (m > 64000 ? m : 64000)}' /proc/meminfo)
conf=/etc/slurm/slurm.conf
if [[ -e $conf ]] && ! grep -q "^# deep-qpi test cluster" "$conf"; then
    echo "start_cluster.sh: $conf exists and belongs to a real cluster; not replacing it" >&2
    exit 3
fi
if [[ -e $conf ]]; then  # a test cluster that a killed run left up: shut it down, free its ports
    scontrol shutdown >/dev/null 2>&1 && sleep 2 || true
fi
mkdir -p /etc/slurm
for name in slurm.conf gres.conf; do
    sed -e "s|@STATE@|$state|g" -e "s|@HOST@|$host|g" -e "s|@CPUS@|$cpus|g" -e "s|@MEM_MB@|$mem_mb|g" \
        "$here/$name.in" >"/etc/slurm/$name"
done
export SLURM_CONF=$conf

slurmctld -f "$SLURM_CONF" && echo slurmctld >>"$state/started"
slurmd -f "$SLURM_CONF" && echo slurmd >>"$state/started"

# The node registers within seconds; a node left DOWN by an earlier run is resumed.
for _ in $(seq 60); do
    node_state=$(sinfo -h -N -o %T 2>/dev/null || true)
    [[ $node_state == idle ]] && break
    [[ $node_state == down* || $node_state == drain* ]] && scontrol update NodeName="$host" State=RESUME || true
    sleep 1
done
if [[ $node_state != idle ]]; then
    echo "start_cluster.sh: node $host is '$node_state', not idle; see $state/slurmd.log and $state/slurmctld.log" >&2
    exit 1
fi
