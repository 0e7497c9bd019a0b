#!/usr/bin/env bash
# The GPU check (benchmarks/gpu_check.py): CUDA tests, training speed + MFU, exact resume, torchrun, translation.
#
#   benchmarks/gpu_check.sh --wheels     # here (pip works): fetch the wheels the GPU machine lacks into .whl/
#   benchmarks/gpu_check.sh --dry        # here: every step on the CPU at tiny sizes (about 2 minutes)
#   benchmarks/gpu_check.sh              # on the GPU machine (about 8 minutes); everything lands in $OUT
#
# On a lent machine (the device tool), with .whl carried:
#   run(command="benchmarks/gpu_check.sh", carry=[".whl"], timeout_s=600)
# The GPU image has torch, torchvision, pillow, numpy, tqdm, matplotlib, tensorboard, requests and pytest, but not
# pydantic: its wheels (Python 3.12, manylinux) travel in .whl/ (ignored by git) and are installed to /tmp/site.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--wheels" ]; then
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
  for pkg in pydantic==2.14.4 pydantic-core==2.50.5 annotated-types typing-inspection typing-extensions; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      -d .whl "$pkg" || exit 1
  done
  ls .whl
  exit 0
fi
OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
PY=.venv/bin/python
if [ ! -x "$PY" ]; then  # the GPU machine: its own python3 has torch; add what it lacks from the carried wheels
  PY=python3
  if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  fi
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/nvidia-smi.csv" 2>&1
fi
export PYTHONUNBUFFERED=1
"$PY" benchmarks/gpu_check.py --out "$OUT" "$@" 2>&1 | tee "$OUT/gpu_check.log"
