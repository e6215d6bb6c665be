#!/usr/bin/env bash
# Turns a Deep Learning AMI GPU instance into the trainer of one run, which survives restarts:
#   1. the run id: $RUN_ID, else the instance's RunId tag (IMDSv2; `dogbreed-launch ec2-run` sets it),
#   2. fetch the dataset, the staged pretrained weights and the run's checkpoints from S3 (resume),
#   3. run training/train.py under torchrun on every local GPU (train/ and valid/ train and select the
#      model; test/ is only evaluated once, at the end), uploading the checkpoints after every epoch,
#   4. upload model.tar.gz, metrics.json, training_curves.png and the log to OUTPUT_S3_URI/RUN_ID/,
#   5. shut the instance down, also when a step failed (so a broken run does not keep billing).
# Started again with the same run id (a spot interruption, a reboot, a new instance), it continues at the
# epoch after the last checkpoint in S3.
#
# Usage: ec2/bootstrap.sh [--dry-run] [--gpus N] [--no-shutdown]
#   --dry-run      print the exact commands instead of running them
#   --gpus         override the detected GPU count (nvidia-smi); also DOGBREED_GPUS
#   (train.py gives each process its share of the vCPUs as DataLoader workers: dogbreed.utils.cpus)
# Environment: DATA_S3_URI, OUTPUT_S3_URI (required), WEIGHTS_S3_URI (staged weights; unset: none),
#   TRAIN_ARGS (extra train.py flags, quoted as in a shell), WORK_DIR (default /opt/dogbreed, holding code/ =
#   the S3 copy of training/ and ec2/), RUN_ID (default: the RunId tag), TORCHRUN (default: the AMI's
#   /opt/pytorch/bin/torchrun, else PATH).
set -euo pipefail

DRY_RUN=false
SHUTDOWN=true
GPUS=${DOGBREED_GPUS:-}

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

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

instance_run_id() {  # the RunId tag of this instance, through IMDSv2 (instance_metadata_tags = enabled)
  local token
  token=$(curl -sf -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token) &&
    curl -sf -m 5 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/tags/instance/RunId
}

: "${DATA_S3_URI:?DATA_S3_URI must be set (s3://bucket/data/dogImages/)}"
: "${OUTPUT_S3_URI:?OUTPUT_S3_URI must be set (s3://bucket/ec2-runs/)}"
TRAIN_ARGS=${TRAIN_ARGS:-}
WORK_DIR=${WORK_DIR:-/opt/dogbreed}
RUN_ID=${RUN_ID:-$(instance_run_id || true)}
[[ $RUN_ID =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] ||
  { echo "error: no run id: set RUN_ID or start the instance with dogbreed-launch ec2-run --run-id <id>" >&2; exit 2; }
if [[ -z ${TORCHRUN:-} ]]; then
  if [[ -x /opt/pytorch/bin/torchrun ]]; then TORCHRUN=/opt/pytorch/bin/torchrun; else TORCHRUN=torchrun; fi
fi

detect_gpus() { if command -v nvidia-smi >/dev/null; then nvidia-smi --list-gpus | wc -l; else echo 0; fi; }
GPUS=${GPUS:-$(detect_gpus)}
[[ $GPUS =~ ^[0-9]+$ ]] || { echo "error: the GPU count must be a whole number, got '$GPUS'" >&2; exit 2; }

# One process per GPU (one on a CPU-only instance).
PROCESSES=$((GPUS > 0 ? GPUS : 1))

DATA_DIR=$WORK_DIR/data/dogImages
WEIGHTS_DIR=$WORK_DIR/weights
RUN_DIR=$WORK_DIR/runs/$RUN_ID
CHECKPOINT_DIR=$RUN_DIR/checkpoints
RESULTS_URI=${OUTPUT_S3_URI%/}/$RUN_ID
CHECKPOINTS_URI=$RESULTS_URI/checkpoints
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

# Reads train.py's stdout; after each epoch line (printed once that epoch's checkpoint is on disk,
# dogbreed.training.trainer) uploads what changed: best.pt first, so checkpoint.pt never names a best epoch
# whose weights are not in S3. cp, not sync: one object at a time, in that order.
upload_checkpoints_after_each_epoch() {
  local line file stamps=$RUN_DIR/.uploaded
  mkdir -p "$stamps"
  while IFS= read -r line; do
    printf '%s\n' "$line"
    [[ $line == epoch=* ]] || continue
    for file in best.pt checkpoint.pt; do
      if [[ -f $CHECKPOINT_DIR/$file && $CHECKPOINT_DIR/$file -nt $stamps/$file ]]; then
        run aws s3 cp --only-show-errors "$CHECKPOINT_DIR/$file" "$CHECKPOINTS_URI/$file"
        touch -r "$CHECKPOINT_DIR/$file" "$stamps/$file"
      fi
    done
  done
}

echo "run $RUN_ID: $GPUS GPU(s) -> $PROCESSES training process(es)"
run aws s3 sync --only-show-errors "$DATA_S3_URI" "$DATA_DIR"
if [[ -n ${WEIGHTS_S3_URI:-} ]]; then
  run aws s3 sync --only-show-errors "$WEIGHTS_S3_URI" "$WEIGHTS_DIR"
fi
run aws s3 sync --only-show-errors "$CHECKPOINTS_URI/" "$CHECKPOINT_DIR"  # resume: train.py continues from it
TRAIN=("$TORCHRUN" --standalone --nproc_per_node="$PROCESSES" "$WORK_DIR/code/training/train.py"
  --data-dir "$DATA_DIR" --weights-dir "$WEIGHTS_DIR" --model-dir "$RUN_DIR/model"
  --output-dir "$RUN_DIR/output" --checkpoint-dir "$CHECKPOINT_DIR" ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"})
if $DRY_RUN; then
  run "${TRAIN[@]}"
  echo "(after each epoch line: aws s3 cp of best.pt, then checkpoint.pt, to $CHECKPOINTS_URI/)"
else
  mkdir -p "$CHECKPOINT_DIR"
  printf '%q ' "${TRAIN[@]}" | sed 's/ $//'
  echo
  "${TRAIN[@]}" | upload_checkpoints_after_each_epoch
fi
run aws s3 cp --only-show-errors "$RUN_DIR/model/model.tar.gz" "$RESULTS_URI/model.tar.gz"
run aws s3 cp --only-show-errors "$RUN_DIR/output/metrics.json" "$RESULTS_URI/metrics.json"
run aws s3 cp --only-show-errors "$RUN_DIR/output/training_curves.png" "$RESULTS_URI/training_curves.png"
