#!/usr/bin/env bash
# A Fisher diagonal over a large dataset as a Slurm array job: task k computes shard k/N and
# writes its float64 sums to $OUT; a dependent job merges them:
#
#   jid=$(sbatch --parsable examples/slurm-fisher.sh)
#   sbatch --dependency=afterok:$jid --wrap "npx fimkit merge $OUT/*.json --out runs/fmnist/fisher-exact-diag.json"
#
# N is the array's task count (--array=0-3 gives 4). Every shard must use the same --batch-size.
# Settings come from the environment: MODEL, DATA, OUT, BATCH_SIZE, FIMKIT (the command that runs fimkit)
# and FIMKIT_ARGS (further flags of fimkit fisher, e.g. "--estimator i1 --labels-per-input 4").
#SBATCH --job-name=fimkit-fisher
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=02:00:00
#SBATCH --output=fimkit-fisher-%A_%a.log
set -euo pipefail

: "${SLURM_ARRAY_TASK_ID:?run this script with sbatch (an array job sets SLURM_ARRAY_TASK_ID)}"
N="${SLURM_ARRAY_TASK_COUNT:-4}"
MODEL="${MODEL:-runs/fmnist/model.json}"
DATA="${DATA:-fashion-mnist}"
OUT="${OUT:-runs/fmnist/shards}"
FIMKIT="${FIMKIT:-npx fimkit}"
BATCH_SIZE="${BATCH_SIZE:-128}"

# shellcheck disable=SC2086  # FIMKIT and FIMKIT_ARGS are word lists on purpose
$FIMKIT fisher --model "$MODEL" --data "$DATA" --batch-size "$BATCH_SIZE" ${FIMKIT_ARGS:-} \
  --shard "${SLURM_ARRAY_TASK_ID}/${N}" --out "${OUT%/}/" --quiet
