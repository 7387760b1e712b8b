#!/bin/bash
# The single GPU run (device tool): train teacher + distilled student from .train_pack, export ONNX,
# benchmark the ONNX on 2 CPU cores of the GPU box. Outputs go to $OUT (or $1).
# Invoked as:  bash training/gpu_run.sh   (with .train_pack carried)
set -o pipefail
OUT=${1:-${OUT:-/tmp/gpu_out}}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
T0=$(date +%s)
{ nvidia-smi -L; python3 -c 'import torch, onnxruntime; print("torch", torch.__version__, "ort", onnxruntime.__version__)'; lscpu | grep -i "model name"; } 2>&1 | tee "$OUT/env.txt"
python3 training/train.py --pack .train_pack --out "$OUT" --teacher-seconds ${TEACHER_S:-200} --student-seconds ${STUDENT_S:-255} > /dev/null 2> "$OUT/stderr.txt"
echo "train rc=$?" | tee -a "$OUT/env.txt"
tail -5 "$OUT/stderr.txt"
tail -4 "$OUT/train_log.txt" | cut -c1-600
if [ -f "$OUT/model.onnx" ]; then
  taskset -c 0,1 python3 training/bench_onnx.py --onnx "$OUT/model.onnx" --size 112 --threads 2 2>&1 | tee -a "$OUT/env.txt"
  taskset -c 0 python3 training/bench_onnx.py --onnx "$OUT/model.onnx" --size 112 --threads 1 2>&1 | tee -a "$OUT/env.txt"
fi
rm -f "$OUT/stderr.txt.empty"
echo "wall $(( $(date +%s) - T0 ))s" | tee -a "$OUT/env.txt"
