#!/bin/bash
# The second GPU run (device tool): three teachers trained side by side on the one GPU (a 112-px net
# leaves most of an H100/H200 idle, so parallel processes cost little), then two students distilled
# from the teachers' averaged predictions, also side by side. Outputs go to $OUT (or $1); teacher
# weights (~40 MB each) stay on the machine. The students' time is what is left of BUDGET seconds,
# so the script ends on time whatever the teachers took. Only a handful of files per call come back
# from the device machine, so everything ends up in one archive, $OUT/run.tgz.
# Invoked as:  bash training/gpu_run_ensemble.sh   (with the pack named in PACK carried)
# CPU dry run: PY=/usr/bin/python3 PACK=.train_pack_q85 LIMIT=12 TEACHER_S=10 BUDGET=90 bash training/gpu_run_ensemble.sh /tmp/ens
set -o pipefail
OUT=${1:-${OUT:-/tmp/gpu_out}}
PACK=${PACK:-.train_pack_q85}
BUDGET=${BUDGET:-470}
TEACHER_S=${TEACHER_S:-200}
LIMIT=${LIMIT:-0}
PY=${PY:-python3}
TDIR=${TDIR:-/tmp/teachers}
mkdir -p "$OUT" "$TDIR"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
T0=$(date +%s)
{ nvidia-smi -L; "$PY" -c 'import torch; print("torch", torch.__version__)'; lscpu | grep -i "model name"; } 2>&1 | tee "$OUT/env.txt"

run() {  # name, then train.py arguments
  local name=$1; shift
  "$PY" training/train.py --pack "$PACK" --limit "$LIMIT" --out "$OUT/$name" "$@" > /dev/null 2> "$OUT/$name.stderr"
  echo "$name rc=$? at $(( $(date +%s) - T0 ))s" | tee -a "$OUT/env.txt"
}

run t1 --teacher teacher   --seed 10           --teacher-seconds "$TEACHER_S" --student-seconds 0 --save-teacher "$TDIR/t1.pt" &
run t2 --teacher teacher   --seed 11 --mix 0.5 --teacher-seconds "$TEACHER_S" --student-seconds 0 --save-teacher "$TDIR/t2.pt" &
run t3 --teacher teacher-b --seed 12 --mix 0.5 --teacher-seconds "$TEACHER_S" --student-seconds 0 --save-teacher "$TDIR/t3.pt" &
wait
for t in t1 t2 t3; do tail -2 "$OUT/$t/train_log.txt" 2>/dev/null | head -1 | cut -c1-300; done

TEACHERS="$TDIR/t1.pt,$TDIR/t2.pt,$TDIR/t3.pt"
STUDENT_S=$(( BUDGET - ($(date +%s) - T0) - 40 ))
[ "$STUDENT_S" -lt 20 ] && STUDENT_S=20
echo "student seconds $STUDENT_S" | tee -a "$OUT/env.txt"
run s1 --teachers "$TEACHERS" --seed 20                          --student-seconds "$STUDENT_S" &
run s2 --teachers "$TEACHERS" --seed 21 --mix 0.5 --kd-alpha 0.9 --student-seconds "$STUDENT_S" &
wait
for s in s1 s2; do grep -h "^teachers\|done:" "$OUT/$s/train_log.txt" 2>/dev/null | cut -c1-400; done
echo "wall $(( $(date +%s) - T0 ))s" | tee -a "$OUT/env.txt"
rm -f "$OUT"/s*/student_partial.pt
tar czf /tmp/run.tgz -C "$OUT" . && rm -rf "${OUT:?}"/* && mv /tmp/run.tgz "$OUT/run.tgz"
