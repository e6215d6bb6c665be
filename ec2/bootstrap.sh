#!/usr/bin/env bash
# Turns a Deep Learning AMI GPU instance into a one-shot trainer:
#   1. fetch the dataset from DATA_S3_URI,
#   2. run training/train.py under torchrun on every local GPU (train/ and valid/ train and select the
#      model; test/ is only evaluated once, at the end),
#   3. upload model.tar.gz, metrics.json, training_curves.png and the log to OUTPUT_S3_URI/RUN_ID/,
#   4. shut the instance down, also when a step failed (so a broken run does not keep billing).
#
# Usage: ec2/bootstrap.sh [--dry-run] [--gpus N] [--no-shutdown]
#   --dry-run      print the exact commands instead of running them
#   --gpus         override the detected GPU count (nvidia-smi); also DOGBREED_GPUS
#   (train.py gives each process its share of the vCPUs as DataLoader workers: dogbreed.utils.cpus)
# Environment: DATA_S3_URI, OUTPUT_S3_URI (required), TRAIN_ARGS (extra train.py flags, quoted as in a shell),
#   WORK_DIR (default /opt/dogbreed, holding code/ = the S3 copy of training/ and ec2/),
#   RUN_ID (default: UTC timestamp), TORCHRUN (default: the AMI's /opt/pytorch/bin/torchrun, else PATH).
set -euo pipefail

DRY_RUN=false
SHUTDOWN=true
GPUS=${DOGBREED_GPUS:-}

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

while (($#)); do
  case $1 in
    --dry-run) DRY_RUN=true ;;
    --no-shutdown) SHUTDOWN=false ;;
    --gpus) GPUS=${2:?--gpus needs a number}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "error: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

: "${DATA_S3_URI:?DATA_S3_URI must be set (s3://bucket/data/dogImages/)}"
: "${OUTPUT_S3_URI:?OUTPUT_S3_URI must be set (s3://bucket/ec2-runs/)}"
TRAIN_ARGS=${TRAIN_ARGS:-}
WORK_DIR=${WORK_DIR:-/opt/dogbreed}
RUN_ID=${RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)}
if [[ -z ${TORCHRUN:-} ]]; then
  if [[ -x /opt/pytorch/bin/torchrun ]]; then TORCHRUN=/opt/pytorch/bin/torchrun; else TORCHRUN=torchrun; fi
fi

detect_gpus() { if command -v nvidia-smi >/dev/null; then nvidia-smi --list-gpus | wc -l; else echo 0; fi; }
GPUS=${GPUS:-$(detect_gpus)}
[[ $GPUS =~ ^[0-9]+$ ]] || { echo "error: the GPU count must be a whole number, got '$GPUS'" >&2; exit 2; }

# One process per GPU (one on a CPU-only instance).
PROCESSES=$((GPUS > 0 ? GPUS : 1))

DATA_DIR=$WORK_DIR/data/dogImages
RUN_DIR=$WORK_DIR/runs/$RUN_ID
RESULTS_URI=${OUTPUT_S3_URI%/}/$RUN_ID
LOG_FILE=${LOG_FILE:-/var/log/dogbreed-training.log}
mapfile -t EXTRA_ARGS < <(xargs -r printf '%s\n' <<<"$TRAIN_ARGS")  # shell-like quoting, no eval

run() {  # print the command (shell-quoted); execute it unless this is a dry run
  printf '%q ' "$@" | sed 's/ $//'
  echo
  if ! $DRY_RUN; then "$@"; fi
}

finish() {
  local status=$?
  trap - EXIT
  echo "bootstrap finished with status $status"
  if [[ -f $LOG_FILE ]] || $DRY_RUN; then
    run aws s3 cp --only-show-errors "$LOG_FILE" "$RESULTS_URI/training.log" || true
  fi
  if $SHUTDOWN; then run shutdown -h now; fi
  exit "$status"
}
trap finish EXIT

echo "run $RUN_ID: $GPUS GPU(s) -> $PROCESSES training process(es)"
run aws s3 sync --only-show-errors "$DATA_S3_URI" "$DATA_DIR"
run "$TORCHRUN" --standalone --nproc_per_node="$PROCESSES" "$WORK_DIR/code/training/train.py" \
  --data-dir "$DATA_DIR" --model-dir "$RUN_DIR/model" --output-dir "$RUN_DIR/output" \
  --checkpoint-dir "$RUN_DIR/checkpoints" ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}
run aws s3 cp --only-show-errors "$RUN_DIR/model/model.tar.gz" "$RESULTS_URI/model.tar.gz"
run aws s3 cp --only-show-errors "$RUN_DIR/output/metrics.json" "$RESULTS_URI/metrics.json"
run aws s3 cp --only-show-errors "$RUN_DIR/output/training_curves.png" "$RESULTS_URI/training_curves.png"
