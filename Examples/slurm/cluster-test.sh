#!/usr/bin/env bash
# make cluster-test: starts a one-node Slurm cluster on this machine (munged, slurmctld and
# slurmd on localhost, a config written for this machine's cores and memory, all state in a
# temporary folder), submits the job arrays of Examples/slurm with `sbatch --array ... --wait`
# on small inputs, merges their parts, checks that the merged results equal single-process
# runs, and stops every daemon it started. Installs Debian's slurm-wlm and munge when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
say() { echo "cluster-test: $*"; }

if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge with apt-get (Slurm is missing)"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

swift build --product compare >/dev/null
export PATH="$(swift build --show-bin-path):$PATH"
WORK=$(mktemp -d /tmp/compare-cluster.XXXXXX)
chmod 755 "$WORK"
PIDS=()
# The job-step daemons our slurmd started (any slurmstepd not running before this script).
BEFORE=" $( (pgrep -x slurmstepd 2>/dev/null || true) | tr '\n' ' ') "
our_steps() {
  for pid in $(pgrep -x slurmstepd 2>/dev/null); do
    case "$BEFORE" in *" $pid "*) ;; *) echo "$pid" ;; esac
  done
}
cleanup() {
  status=$?
  # Let the last job steps finish their epilogue, then stop them with the daemons.
  for _ in $(seq 50); do [ -z "$(our_steps)" ] && break; sleep 0.2; done
  for pid in $(our_steps); do PIDS+=("$pid"); done
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  # A step daemon can outlive slurmd by a moment while it shuts down.
  for _ in $(seq 50); do [ -z "$(our_steps)" ] && break; sleep 0.2; done
  for pid in $(our_steps); do kill -9 "$pid" 2>/dev/null || true; done
  if [ $status -ne 0 ]; then
    for log in "$WORK"/*.log "$WORK"/*.out; do [ -f "$log" ] && { echo "--- $log"; tail -n 20 "$log"; }; done
  fi
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# munge, with its own key and socket: the machine's munge (if any) is left alone.
dd if=/dev/urandom of="$WORK/munge.key" bs=1024 count=1 status=none
chmod 400 "$WORK/munge.key"
mkdir -p "$WORK/munge"
chmod 700 "$WORK/munge"
munged --force --foreground --key-file="$WORK/munge.key" --socket="$WORK/munge/munge.sock" \
  --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/munged.log" --seed-file="$WORK/munge/seed" >"$WORK/munged.out" 2>&1 &
PIDS+=($!)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
  || shuf -i 20000-60000 -n 1; }
HOST=$(hostname -s)
CPUS=$(nproc)
MEMORY=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))
mkdir -p "$WORK/state" "$WORK/spool"
cat > "$WORK/slurm.conf" <<CONF
ClusterName=compare-test
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$WORK/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$HOST CPUs=$CPUS RealMemory=$MEMORY State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$WORK/slurm.conf"
for _ in $(seq 50); do [ -S "$WORK/munge/munge.sock" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" >"$WORK/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" >"$WORK/slurmd.out" 2>&1 &
PIDS+=($!)
for i in $(seq 120); do
  state=$(sinfo -h -o %T 2>/dev/null | head -n 1 || true)
  [ "$state" = idle ] && break
  [ "$i" = 120 ] && { say "the node did not come up (state: '${state:-none}')"; exit 1; }
  sleep 0.5
done
say "one-node cluster up on $HOST ($CPUS CPUs, $MEMORY MB)"

D="$ROOT/Examples/data"
E="$D/ensemble.npz"
export OPENBLAS_NUM_THREADS=1
run() { (cd "$WORK" && sbatch --quiet --wait "$@"); }

# Kernel: the bundled ensemble's 450 test examples in 4 row shards of 113, then the merge.
run --array=0-3 --cpus-per-task=1 --mem=1000 --output="$WORK/kernel-%a.out" \
  --export=ALL,RUNS="$E",ROWS=113,LABELS_TEST="$E:labels",LABELS_TRAIN="$E:labels_train",OUT="$WORK/shards",MEMORY=1 \
  "$ROOT/Examples/slurm/kernel-shards.sbatch"
run --mem=1000 --output="$WORK/kernel-merge.out" \
  --export=ALL,OUT="$WORK/shards",MERGED="$WORK/neighbors.npz",MERGED_JSON="$WORK/merged.json",LABELS_TEST="$E:labels",LABELS_TRAIN="$E:labels_train" \
  "$ROOT/Examples/slurm/kernel-merge.sbatch"
compare kernel --test "$E:logits" --train "$E:logits_train" --test-labels "$E:labels" --train-labels "$E:labels_train" \
  --neighbors 20 --save-neighbors "$WORK/single.npz" --json > "$WORK/single.json"
grep -q '"shards": 4' "$WORK/merged.json" || { say "the merge did not join 4 shards"; cat "$WORK/merged.json"; exit 1; }
merged_accuracy=$(grep '"kernel_accuracy"' "$WORK/merged.json" | sed 's/,$//')
single_accuracy=$(grep '"kernel_accuracy"' "$WORK/single.json" | sed 's/,$//')
[ "$merged_accuracy" = "$single_accuracy" ] || { say "k-NN accuracy differs: $merged_accuracy vs $single_accuracy"; exit 1; }
for key in indices values rows; do
  diff <(compare inspect "$WORK/neighbors.npz:$key" --json --head 9000 | grep -v '"file"') \
       <(compare inspect "$WORK/single.npz:$key" --json --head 9000 | grep -v '"file"') >/dev/null \
    || { say "merged neighbours ($key) differ from a single run's"; exit 1; }
done
say "kernel: 4 row shards merged equal a single run (neighbours, values, $single_accuracy)"

# ESD: the bundled CNN's layers in 3 parts dealt by eigenvalue work, then the merge.
run --array=0-2 --cpus-per-task=1 --mem=1000 --output="$WORK/esd-%a.out" \
  --export=ALL,MODEL="$D/weights_cnn.pt",OUT="$WORK/parts" "$ROOT/Examples/slurm/esd-shards.sbatch"
run --mem=1000 --output="$WORK/esd-merge.out" --export=ALL,OUT="$WORK/parts",MERGED_JSON="$WORK/esd.json" \
  "$ROOT/Examples/slurm/esd-merge.sbatch"
compare esd "$D/weights_cnn.pt" --json > "$WORK/esd-single.json"
diff "$WORK/esd.json" "$WORK/esd-single.json" >/dev/null || { say "merged ESD differs from a single run"; diff "$WORK/esd.json" "$WORK/esd-single.json" | head; exit 1; }
say "esd: 3 parts merged equal a single run ($(ls "$WORK/parts" | wc -l) part files)"
say "passed; stopping the daemons"
