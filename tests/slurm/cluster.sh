#!/usr/bin/env bash
# A private single-node Slurm cluster on 127.0.0.1 for lmc's integration tests.
#
#   cluster.sh up DIR     write DIR/etc/slurm.conf and a fresh munge key (first time only), start
#                         munged, slurmctld and slurmd, and wait until the node is idle
#   cluster.sh down DIR   cancel the cluster's jobs, stop its daemons and any job step left behind
#   cluster.sh env DIR    print the lines a client needs: eval "$(cluster.sh env DIR)"
#
# Everything lives under DIR (config, key, state, spool, logs, pid files); nothing system-wide is
# read or written, and no systemd is needed. `up` and `down` are idempotent. Run as root (the
# daemons and the jobs run as root). Needs Debian's slurmctld, slurmd, slurm-client and munge:
# tests/slurm/install.sh installs them. docs/slurm-fixture.md describes the cluster and its quirks.
#
# Environment (read when DIR's config is first written):
#   LMC_SLURM_PORT     slurmctld's port; slurmd uses the next one
#                      (default: 6817, or the next free pair 6827, 6837, ...)
#   LMC_SLURM_CPUS     CPUs of the node                                  (default 2)
#   LMC_SLURM_MEM_MB   RealMemory of the node                            (default: what slurmd -C sees)
#   LMC_SLURM_TIMEOUT  seconds `up` waits for each daemon, `down` for jobs to end (default 60)
set -euo pipefail

NODE=lmc-node
PARTITION=debug
TIMEOUT=${LMC_SLURM_TIMEOUT:-60}

die() {
    echo "cluster.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 up|down|env DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
action=$1
DIR=$(realpath -m -- "$2")
CONF=$DIR/etc/slurm.conf
SOCKET=$DIR/munge/munge.socket
export SLURM_CONF=$CONF

# Whether the process runs. A zombie does not: where PID 1 does not reap orphans (as in some
# sandboxes), a stopped daemon stays in the process table as a zombie.
alive() {
    local state
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# The pid in DIR/run/NAME.pid when that process is alive and is NAME, else nothing.
live_pid() {
    local name=$1 file=$DIR/run/$1.pid pid
    [ -s "$file" ] || return 0
    pid=$(tr -dc 0-9 <"$file")
    [ -n "$pid" ] && alive "$pid" || return 0
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
        echo "$pid"
    fi
}

show_logs() {
    local name log
    for name in munged slurmctld slurmd; do
        # slurmctld and slurmd write their log file and, in the foreground, the same lines to
        # stderr (NAME.out), which alone holds what came before the log file was open; munged in
        # the foreground logs only to stderr.
        log=$DIR/log/$name.log
        [ -s "$log" ] || log=$DIR/log/$name.out
        [ -s "$log" ] || continue
        echo "----- $log (last 25 lines) -----" >&2
        tail -n 25 "$log" >&2
        if [ "$log" = "$DIR/log/$name.log" ] && ! tail -n 25 "$log" | grep -q fatal &&
            grep -q fatal "$DIR/log/$name.out" 2>/dev/null; then
            grep fatal "$DIR/log/$name.out" >&2
        fi
    done
}

# Wait until "$@" succeeds, up to TIMEOUT seconds, while daemon $2 keeps running; else show the
# logs, stop everything and fail.
wait_for() {
    local what=$1 daemon=$2
    shift 2
    local deadline=$((SECONDS + TIMEOUT)) why=""
    until "$@" >/dev/null 2>&1; do
        # Only whether it runs: just after the start its name may still be setsid's.
        if ! alive "$(tr -dc 0-9 <"$DIR/run/$daemon.pid" 2>/dev/null)"; then
            why="$daemon exited"
        elif [ $SECONDS -ge $deadline ]; then
            why="not within ${TIMEOUT} s"
        fi
        if [ -n "$why" ]; then
            echo "cluster.sh: $what: $why (cluster in $DIR)" >&2
            show_logs
            stop_all >&2 || true
            exit 1
        fi
        sleep 0.2
    done
}

check_installed() {
    local tool missing=()
    for tool in munged munge unmunge slurmctld slurmd sinfo scontrol squeue scancel sbatch; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        die "missing ${missing[*]}: run tests/slurm/install.sh (as root)"
    fi
    [ "$(id -u)" = 0 ] || die "must run as root (SlurmUser=root, jobs run as the submitting root)"
}

# Whether something accepts TCP connections on 127.0.0.1:$1.
listening() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

write_config() {
    mkdir -p "$DIR"/{etc,munge,state,spool,log,run}
    # munged wants its socket's folder searchable by all and its key's folder writable only by root.
    chmod 755 "$DIR" "$DIR/munge"
    if [ ! -s "$DIR/munge/munge.key" ]; then
        # One key per cluster: 128 random bytes, the size mungekey writes by default.
        (umask 077 && head -c 128 /dev/urandom >"$DIR/munge/munge.key")
    fi
    [ -s "$CONF" ] && return 0

    local port=${LMC_SLURM_PORT:-}
    if [ -z "$port" ]; then
        # The first of 6817, 6827, ... where neither port answers: another cluster (one a crashed
        # test left behind, say) keeps its ports.
        port=6817
        while listening $port || listening $((port + 1)); do
            port=$((port + 10))
            [ $port -lt 7817 ] || die "no free port pair between 6817 and 7817"
        done
    fi
    local cpus=${LMC_SLURM_CPUS:-2}
    local mem=${LMC_SLURM_MEM_MB:-}
    if [ -z "$mem" ]; then
        mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
        [ -n "$mem" ] || die "could not read RealMemory from slurmd -C"
    fi
    cat >"$CONF.tmp" <<EOF
# Written by tests/slurm/cluster.sh: a private single-node cluster on 127.0.0.1.
ClusterName=lmc
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire also sets how long a requeued job waits before it may start again (default 120 s).
AuthInfo=socket=$SOCKET,cred_expire=10

StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.daemon.pid
SlurmdPidFile=$DIR/run/slurmd.daemon.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info

# No cgroups, no accounting daemon: processes are tracked by parentage, job records live only in
# slurmctld (finished ones for MinJobAge seconds), so clients wait with squeue/scontrol, not sacct.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
PropagateResourceLimits=NONE

SchedulerType=sched/backfill
# Pending jobs are looked at every 2 s (default 60 s), so a requeued job starts soon after its
# BeginTime; a job whose dependency can never be met is cancelled, not left pending forever.
SchedulerParameters=sched_interval=2,bf_interval=5
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# The node registers with the values below whatever the machine has, so it never drains on a
# CPU or memory mismatch.
SlurmdParameters=config_overrides
ReturnToService=2
# A job the node can never run (more CPUs or memory than it has) is refused by sbatch, not left
# pending forever.
EnforcePartLimits=ALL
JobRequeue=1
MinJobAge=600
KillWait=5
MaxArraySize=1001
MailProg=/bin/true

NodeName=$NODE NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$CONF.tmp" "$CONF"
}

node_idle() {
    local state
    state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null) || return 1
    [ "$state" = idle ] || [ "$state" = mixed ] || [ "$state" = allocated ]
}

munge_works() {
    munge -n -S "$SOCKET" | unmunge -S "$SOCKET"
}

# Start a daemon in the foreground of its own session, its output in DIR/log/NAME.out, and
# record its pid in DIR/run/NAME.pid (the daemons' own pid files, which they rewrite as they
# start, are NAME.daemon.pid).
start_daemon() {
    local name=$1
    shift
    setsid "$@" </dev/null >"$DIR/log/$name.out" 2>&1 &
    echo $! >"$DIR/run/$name.pid"
}

up() {
    check_installed
    write_config
    local started=0
    if [ -z "$(live_pid munged)" ]; then
        start_daemon munged munged --foreground --socket="$SOCKET" \
            --key-file="$DIR/munge/munge.key" --pid-file="$DIR/run/munged.daemon.pid" \
            --seed-file="$DIR/munge/munged.seed"
        started=1
    fi
    wait_for "munge credentials on $SOCKET" munged munge_works
    if [ -z "$(live_pid slurmctld)" ]; then
        # -i: ignore state files it cannot read (a cluster restarted after a crash).
        start_daemon slurmctld slurmctld -D -i -f "$CONF"
        started=1
    fi
    wait_for "slurmctld answering (scontrol ping)" slurmctld ctld_up
    if [ -z "$(live_pid slurmd)" ]; then
        start_daemon slurmd slurmd -D -f "$CONF" -N "$NODE"
        started=1
    fi
    wait_for "node $NODE idle" slurmd node_idle
    if [ $started = 1 ]; then
        echo "cluster.sh: up in $DIR (SLURM_CONF=$CONF, node $NODE, partition $PARTITION)"
    else
        echo "cluster.sh: already up in $DIR"
    fi
}

ctld_up() {
    scontrol ping | grep -q 'is UP'
}

# Processes descended from any of the given pids (not the pids themselves).
descendants() {
    local -a queue=("$@")
    local pid child
    while [ ${#queue[@]} -gt 0 ]; do
        pid=${queue[0]}
        queue=("${queue[@]:1}")
        for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
            echo "$child"
            queue+=("$child")
        done
    done
}

# The slurmstepd processes of this cluster: they inherit slurmd's SLURM_CONF.
our_stepds() {
    local pid
    for pid in $(pgrep -x slurmstepd 2>/dev/null); do
        alive "$pid" || continue
        if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$CONF"; then
            echo "$pid"
        fi
    done
}

# TERM the pids, wait up to $1 seconds for them to go, then KILL what is left.
terminate() {
    local grace=$1 pid
    shift
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while [ $SECONDS -lt $deadline ]; do
        local left=0
        for pid in "$@"; do
            if alive "$pid"; then left=1; fi
        done
        [ $left = 0 ] && return 0
        sleep 0.2
    done
    kill -KILL "$@" 2>/dev/null || true
}

stop_all() {
    local ctld slurmd_pid munged_pid
    ctld=$(live_pid slurmctld)
    slurmd_pid=$(live_pid slurmd)
    # Cancel every job while slurmctld and slurmd can still end them properly.
    if [ -n "$ctld" ] && [ -n "$slurmd_pid" ]; then
        scancel --quiet --user=root 2>/dev/null || true
        local deadline=$((SECONDS + TIMEOUT))
        while [ -n "$(squeue -h -o %i 2>/dev/null)" ] || [ -n "$(our_stepds)" ]; do
            [ $SECONDS -ge $deadline ] && break
            sleep 0.5
        done
    fi
    # slurmstepd and job processes outlive slurmd by design: stop whatever is left of them.
    local -a stepds jobs
    mapfile -t stepds < <(our_stepds)
    if [ ${#stepds[@]} -gt 0 ]; then
        mapfile -t jobs < <(descendants "${stepds[@]}")
        terminate 5 "${stepds[@]}" "${jobs[@]}"
    fi
    [ -n "$slurmd_pid" ] && terminate 10 "$slurmd_pid"
    [ -n "$ctld" ] && terminate 10 "$ctld"
    munged_pid=$(live_pid munged)
    [ -n "$munged_pid" ] && terminate 5 "$munged_pid"
    rm -f "$DIR"/run/*.pid
}

down() {
    if [ ! -d "$DIR/run" ]; then
        echo "cluster.sh: nothing in $DIR"
        return 0
    fi
    stop_all
    echo "cluster.sh: down in $DIR"
}

case $action in
    up) up ;;
    down) down ;;
    env)
        [ -s "$CONF" ] || die "no cluster in $DIR (run: $0 up $DIR)"
        echo "export SLURM_CONF=$CONF"
        ;;
    *) usage ;;
esac
