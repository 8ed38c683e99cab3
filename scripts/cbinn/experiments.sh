#!/bin/sh
# CBINN parameter-recovery and missing-physics experiments (long: run in the background, not in
# npm test). Budgets are sized for a shared 2-core machine; each run prints progress to the log
# and checkpoints, so a stopped stream continues with the same command plus --resume.
#   nohup sh scripts/cbinn/experiments.sh A > runs/cbinn-A.log 2>&1 &
#   nohup sh scripts/cbinn/experiments.sh B > runs/cbinn-B.log 2>&1 &
set -e
BUDGET="--lr 5e-4 --count 101 --collocation 200 --warmup 300 --warmup-lbfgs 300 --physics 300 --adam 500 --lbfgs 1000"
case "$1" in
  A) # every parameter unknown, full model known: M1 and M3 at 0% and 5% noise, 3 seeds, with the LM baseline and Cramér–Rao bounds
    node bin/fimkit.js cbinn grid --model kuznetsov,depillis --noise 0,0.05 --seeds 3 $BUDGET --out runs/cbinn-params $2 ;;
  B) # a missing Michaelis–Menten term learned by N_ψ and recovered by SINDy, 0% and 5% noise, 3 seeds
    node bin/fimkit.js cbinn grid --model kuznetsov,depillis --noise 0,0.05 --seeds 3 --missing auto --no-baseline $BUDGET --out runs/cbinn-missing $2 ;;
  C) # M2 (stiff, nine decades, limit cycle): one seed per noise level, log-states
    node bin/fimkit.js cbinn grid --model kirschner-panetta --noise 0,0.05 --seeds 1 --no-baseline $BUDGET --out runs/cbinn-kp $2 ;;
  *) echo "usage: $0 A|B|C [--resume]"; exit 2 ;;
esac
