#!/usr/bin/env bash
# Proves the fixture of cluster.sh on this machine: brings a cluster up, runs array jobs through a
# cancel + requeue and a requeue of a running task, with afterok dependants, waits for everything,
# checks the outputs, brings the cluster down and prints timings. About a minute; run as root.
#
#   tests/slurm/selftest.sh [DIR]     (DIR defaults to a fresh temporary folder, removed at the end)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cluster=$here/cluster.sh
if [ $# -ge 1 ]; then
    DIR=$(realpath -m -- "$1")
    keep=1
else
    DIR=$(mktemp -d /tmp/lmc-slurm.XXXXXX)
    keep=0
fi
WORK=$DIR/work

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
diff_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "selftest: $*"; }
fail() {
    echo "selftest: FAILED: $*" >&2
    squeue -r -t all -o '%i %T %r' >&2 || true
    for log in "$WORK"/logs/*; do [ -e "$log" ] && { echo "--- $log" >&2; cat "$log" >&2; }; done
    exit 1
}

finish() {
    local rc=$?
    "$cluster" down "$DIR" || rc=1
    if [ $keep = 0 ] && [ $rc = 0 ]; then rm -rf "$DIR"; fi
    if [ $rc = 0 ]; then say "passed"; else say "failed; cluster files in $DIR"; fi
    exit $rc
}
trap finish EXIT

# One line per job or array task (-r), finished ones included (-t all): "ID STATE".
states() { squeue -h -r -t all -j "$1" -o '%i %T' 2>/dev/null; }

state_of() { states "$1" | awk -v id="$1" '$1 == id { print $2 }'; }

terminal() {
    case $1 in
        COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED) return 0 ;;
        *) return 1 ;;
    esac
}

# Wait until job (or task) $1 is in state $2; at most $3 seconds.
wait_state() {
    local deadline=$((SECONDS + $3))
    until [ "$(state_of "$1")" = "$2" ]; do
        [ $SECONDS -lt $deadline ] || fail "$1 not $2 within $3 s"
        sleep 0.2
    done
}

# Wait until job $1 and all its tasks are in a final state; at most $2 seconds.
wait_done() {
    local deadline=$((SECONDS + $2)) lines state pending
    while :; do
        lines=$(states "$1")
        pending=0
        [ -n "$lines" ] || pending=1
        while read -r _ state; do
            terminal "$state" || pending=1
        done <<<"$lines"
        [ $pending = 0 ] && return 0
        [ $SECONDS -lt $deadline ] || fail "job $1 not finished within $2 s"
        sleep 0.2
    done
}

# The time a task's log says it started its run number $2 (0 = first).
started_at() {
    awk -v r="$2" '$1 == "start" && $5 == "restart=" r { print $2 }' "$WORK/logs/$1.log"
}

t=$(now)
"$cluster" up "$DIR"
up_s=$(since "$t")
eval "$("$cluster" env "$DIR")"
say "versions: $(slurmctld -V), $(munged -V 2>&1 | head -1)"
say "cluster up in ${up_s} s"

mkdir -p "$WORK/logs"
cd "$WORK"
cat >array.sbatch <<'EOF'
#!/bin/bash
#SBATCH --array=0-2
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=logs/%A_%a.log
#SBATCH --cpus-per-task=1
#SBATCH --mem=100M
#SBATCH --time=00:05:00
echo "start $(date +%s.%N) task $SLURM_ARRAY_TASK_ID restart=${SLURM_RESTART_COUNT:-0} on $SLURMD_NODENAME"
sleep 5
echo "$SLURM_ARRAY_TASK_ID" > "out_${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
echo "end $(date +%s.%N)"
EOF

# 1. scancel a running task, then requeue it: it runs again. An afterok dependant of the whole
#    array is never satisfied afterwards (Slurm keeps the cancel in the array's record) and,
#    with kill_invalid_depend, is cancelled.
t_submit=$(now)
a=$(sbatch --parsable array.sbatch)
d=$(sbatch --parsable --dependency="afterok:$a" --output="logs/dep_$a.log" --wrap "cat out_${a}_*")
say "array $a, afterok dependant $d"
wait_state "${a}_1" RUNNING 30
sleep 1
first_start=$(diff_s "$t_submit" "$(started_at "${a}_0" 0)")
scancel "${a}_1"
wait_state "${a}_1" CANCELLED 30
t_requeue=$(now)
scontrol requeue "${a}_1"
say "${a}_1 cancelled and requeued: $(state_of "${a}_1")"
wait_done "$a" 120
wait_done "$d" 30
for i in 0 1 2; do
    [ "$(cat "out_${a}_$i" 2>/dev/null)" = "$i" ] || fail "out_${a}_$i missing or wrong"
done
[ "$(state_of "${a}_1")" = COMPLETED ] || fail "${a}_1 is $(state_of "${a}_1") after its requeue"
grep -q 'restart=1' "logs/${a}_1.log" || fail "${a}_1 did not run a second time"
restart_1=$(diff_s "$t_requeue" "$(started_at "${a}_1" 1)")
say "${a}_1 ran again ${restart_1} s after its requeue; dependant $d: $(state_of "$d") ($(scontrol show job "$d" | grep -o 'Reason=[^ ]*'))"
[ "$(state_of "$d")" = CANCELLED ] || fail "dependant $d should be cancelled (dependency never satisfied)"

# 2. Requeue a running task directly: it runs again, and the afterok dependant runs after it.
t_submit=$(now)
b=$(sbatch --parsable array.sbatch)
e=$(sbatch --parsable --dependency="afterok:$b" --output="logs/dep_$b.log" --wrap "cat out_${b}_*")
say "array $b, afterok dependant $e"
wait_state "${b}_1" RUNNING 30
sleep 1
warm_start=$(diff_s "$t_submit" "$(started_at "${b}_0" 0)")
t_requeue=$(now)
scontrol requeue "${b}_1"
wait_done "$b" 120
wait_done "$e" 60
[ "$(state_of "$e")" = COMPLETED ] || fail "dependant $e is $(state_of "$e")"
[ "$(tr '\n' ' ' <"logs/dep_$b.log")" = "0 1 2 " ] || fail "dependant $e saw: $(cat "logs/dep_$b.log")"
grep -q 'restart=1' "logs/${b}_1.log" || fail "${b}_1 did not run a second time"
restart_2=$(diff_s "$t_requeue" "$(started_at "${b}_1" 1)")
last_end=$(awk '$1 == "end" { print $2 }' logs/"${b}"_*.log | sort -n | tail -1)
dep_latency=$(diff_s "$last_end" "$(date -r "logs/dep_$b.log" +%s.%N)")
say "${b}_1 ran again ${restart_2} s after its requeue; dependant $e COMPLETED, output written ${dep_latency} s after the last task ended"

t=$(now)
"$cluster" down "$DIR"
down_s=$(since "$t")
say "timings: up ${up_s} s; submit to task 0 running ${first_start} s (first job), ${warm_start} s (later job);" \
    "requeue to rerun ${restart_1} s (after scancel), ${restart_2} s (running task); down ${down_s} s"
# Nothing of this cluster may be left: daemons name DIR's files on their command line, job steps
# carry its SLURM_CONF. Zombies (dead, waiting for PID 1 to reap them) do not count.
leftovers() {
    local pid
    for pid in $(pgrep -f -- "$DIR/(etc|munge)/") $(pgrep -x slurmstepd); do
        grep -qs '^State:[[:space:]]*Z' "/proc/$pid/status" && continue
        if grep -qs -- "$DIR/" "/proc/$pid/cmdline" ||
            tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$SLURM_CONF"; then
            echo "$pid"
        fi
    done
    return 0
}
left=$(leftovers)
[ -z "$left" ] || fail "processes left after down: $left"
