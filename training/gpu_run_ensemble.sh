#!/bin/bash
# One GPU run (device tool): teachers trained side by side on the one GPU (a small net leaves most of an
# H100/H200 idle, so parallel processes cost little), then students distilled from the teachers' averaged
# predictions, also side by side. Outputs go to $OUT (or $1); teacher weights (~40 MB each) stay on the
# machine. The students' time is what is left of BUDGET seconds, so the script ends on time whatever the
# teachers took. Only a handful of files per call come back from the device machine, so everything ends
# up in one archive, $OUT/run.tgz.
#   TEACHERS: one "name arch seed mix" per line;  STUDENTS: one "name seed mix kd_alpha input_size" per line
#   (input_size 0 = the pack's). The defaults are model 1.2.0's first call (runs/h200-ens/run.json).
# Invoked as:  PACK=.train_pack_q85 bash training/gpu_run_ensemble.sh   (with the pack named in PACK carried)
# CPU dry run: PY=/usr/bin/python3 PACK=.train_pack_q85 LIMIT=12 TEACHER_S=10 BUDGET=90 bash training/gpu_run_ensemble.sh /tmp/ens
set -o pipefail
OUT=${1:-${OUT:-/tmp/gpu_out}}
PACK=${PACK:-.train_pack_q85}
BUDGET=${BUDGET:-470}
TEACHER_S=${TEACHER_S:-200}
LIMIT=${LIMIT:-0}
PY=${PY:-python3}
TDIR=${TDIR:-/tmp/teachers}
TEACHERS=${TEACHERS:-"t1 teacher 10 0
t2 teacher 11 0.5
t3 teacher-b 12 0.5"}
STUDENTS=${STUDENTS:-"s1 20 0 0.7 0
s2 21 0.5 0.9 0"}
mkdir -p "$OUT" "$TDIR"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
T0=$(date +%s)
{ nvidia-smi -L; "$PY" -c 'import torch; print("torch", torch.__version__)'; lscpu | grep -i "model name"; } 2>&1 | tee "$OUT/env.txt"

run() {  # name, then train.py arguments
  local name=$1; shift
  "$PY" training/train.py --pack "$PACK" --limit "$LIMIT" --out "$OUT/$name" "$@" > /dev/null 2> "$OUT/$name.stderr"
  echo "$name rc=$? at $(( $(date +%s) - T0 ))s" | tee -a "$OUT/env.txt"
}

names=() files=()
while read -r name arch seed mix; do
  [ -n "$name" ] || continue
  names+=("$name"); files+=("$TDIR/$name.pt")
  run "$name" --teacher "$arch" --seed "$seed" --mix "$mix" --teacher-seconds "$TEACHER_S" --student-seconds 0 \
    --save-teacher "$TDIR/$name.pt" &
done <<< "$TEACHERS"
wait
for t in "${names[@]}"; do tail -2 "$OUT/$t/train_log.txt" 2>/dev/null | head -1 | cut -c1-300; done

ALL=$(IFS=,; echo "${files[*]}")
STUDENT_S=$(( BUDGET - ($(date +%s) - T0) - 40 ))
[ "$STUDENT_S" -lt 20 ] && STUDENT_S=20
echo "student seconds $STUDENT_S" | tee -a "$OUT/env.txt"
snames=()
while read -r name seed mix kd size; do
  [ -n "$name" ] || continue
  snames+=("$name")
  run "$name" --teachers "$ALL" --seed "$seed" --mix "$mix" --kd-alpha "$kd" --student-size "$size" \
    --student-seconds "$STUDENT_S" &
done <<< "$STUDENTS"
wait
for s in "${snames[@]}"; do grep -h "^teachers\|done:" "$OUT/$s/train_log.txt" 2>/dev/null | cut -c1-400; done
echo "wall $(( $(date +%s) - T0 ))s" | tee -a "$OUT/env.txt"
# student.pt is what finalize.py exports from; the ONNX copies would push the archive past the 16 MiB a file may have
rm -f "$OUT"/s*/student_partial.pt "$OUT"/s*/model.onnx
tar czf /tmp/run.tgz -C "$OUT" . && rm -rf "${OUT:?}"/* && mv /tmp/run.tgz "$OUT/run.tgz"
