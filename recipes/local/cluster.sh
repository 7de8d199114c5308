#!/bin/bash
# A throw-away one-node Slurm (munge + slurmctld + slurmd from Debian's slurm-wlm) for running the
# cluster job scripts on this machine.  No systemd, no cgroups; every daemon is stopped by its PID.
#
#   recipes/local/cluster.sh up DIR [PROFILE ...]   write DIR/slurm.conf (partitions of the profiles,
#                                                   default saga puhti local), start the daemons
#   source DIR/env.sh                               SLURM_CONF, Lmod and the stub modules for sbatch
#   recipes/local/cluster.sh down DIR               stop the daemons (by PID)
#   recipes/local/cluster.sh status DIR
set -o errexit -o nounset -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=${NORLM_PYTHON:-$REPO/.venv/bin/python}
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,10p' "$0" >&2; exit 2; }
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
export SLURM_CONF=$dir/slurm.conf

wait_for() {  # wait_for SECONDS WHAT COMMAND...: poll until COMMAND succeeds
    local limit=$1 what=$2; shift 2
    for _ in $(seq $((limit * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "cluster.sh: $what did not come up within $limit s; logs in $dir/log" >&2
    return 1
}

stop_pid() {  # stop_pid PIDFILE: TERM, then KILL after 5 s
    local f=$1 pid
    [ -s "$f" ] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

case $cmd in
up)
    shift 2
    "$PY" -m norlm.hpc.testcluster "$dir" "$@" >/dev/null
    [ -s "$dir/munge/munge.key" ] || mungekey --create --keyfile="$dir/munge/munge.key" 2>/dev/null \
        || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 600 "$dir/munge/munge.key"
    /usr/sbin/munged --force --socket="$dir/msock/munge.socket.2" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"
    wait_for 10 munged munge -n -S "$dir/msock/munge.socket.2"
    /usr/sbin/slurmctld -f "$SLURM_CONF"
    wait_for 20 slurmctld scontrol ping
    /usr/sbin/slurmd -f "$SLURM_CONF" -N localhost
    wait_for 20 "slurmd (node idle)" bash -c "sinfo -h -n localhost -o %T | grep -qx idle"
    cat > "$dir/env.sh" <<ENV
# source me: the test Slurm, Lmod and the stub NorLM modules for sbatch
export SLURM_CONF=$SLURM_CONF
source /usr/share/lmod/lmod/init/bash
export MODULEPATH=$HERE/modules
# the node's 40 CPUs share this machine's few cores: waiting MPI ranks must yield, not spin
export OMPI_MCA_mpi_yield_when_idle=1
export -f module
ENV
    echo "cluster.sh: up ($dir); source $dir/env.sh"
    ;;
down)
    [ -f "$SLURM_CONF" ] && timeout 5 scontrol shutdown >/dev/null 2>&1 || true
    stop_pid "$dir/run/slurmd.pid"
    stop_pid "$dir/run/slurmctld.pid"
    stop_pid "$dir/run/munged.pid"
    echo "cluster.sh: down ($dir)"
    ;;
status)
    for d in munged slurmctld slurmd; do
        if [ -s "$dir/run/$d.pid" ] && kill -0 "$(cat "$dir/run/$d.pid")" 2>/dev/null; then
            echo "$d: running (pid $(cat "$dir/run/$d.pid"))"
        else
            echo "$d: stopped"
        fi
    done
    sinfo 2>/dev/null || true
    ;;
*)
    echo "cluster.sh: unknown command '$cmd' (up, down, status)" >&2; exit 2
    ;;
esac
