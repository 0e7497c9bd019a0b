#!/usr/bin/env bash
# The GPU check (benchmarks/gpu_check.py): CUDA tests, precision choice, no host sync in a step, training speed + MFU,
# resume against measured noise, torchrun, translation. Guide: docs/guides/gpu.md.
#
#   benchmarks/gpu_check.sh --wheels     # where pip reaches PyPI: fetch the wheels a bare GPU image lacks into .whl/
#   benchmarks/gpu_check.sh --dry        # here: every part on the CPU at tiny sizes (about 3 minutes on 2 cores)
#   benchmarks/gpu_check.sh              # on the GPU machine (about 6 minutes); everything lands in $OUT
#
# On a lent machine (the device tool), with .whl carried:
#   run(command="benchmarks/gpu_check.sh", carry=[".whl"], timeout_s=600)
# The GPU image brings python3 with torch (and numpy, pillow, tqdm, matplotlib, tensorboard, torchvision); everything
# else the check and its children import travels as wheels in .whl/cp3XX/ (one folder per CPython 3.10-3.13, ignored
# by git) and is installed with --no-index into a private folder that goes first on PYTHONPATH.
set -uo pipefail
cd "$(dirname "$0")/.."
# What gpu_check.py, its bench_model / `sakura train` / torchrun children and its pytest child import beyond what a
# GPU image has: pydantic (+ settings, dotenv: core/environment.py), pytest with its plugins, hypothesis (+ attrs,
# sortedcontainers). pip resolves their dependencies for each Python version (pip reads their markers for the
# Python it runs on, so the backports 3.10 needs are named: tomli, exceptiongroup). The
# upper bounds are the versions the project's tests run with; an older Python gets the newest release that supports it.
WHEELS="pydantic>=2.7,<=2.14.4 pydantic-settings>=2.3,<=2.16.3 python-dotenv<=1.2.4 hypothesis>=6.100,<=6.170.27
pytest>=8,<=9.2.0 pytest-timeout>=2.3,<=2.4.0 typing-extensions tomli exceptiongroup"
PYTHONS="3.10 3.11 3.12 3.13"

if [ "${1:-}" = "--wheels" ]; then
  for v in $PYTHONS; do
    d=".whl/cp${v/./}"
    mkdir -p "$d"
    # shellcheck disable=SC2086
    python3 -m pip download -q --only-binary=:all: --python-version "$v" --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      -d "$d" $WHEELS > "$d.log" 2>&1 || { cat "$d.log"; echo "gpu_check.sh: pip download for Python $v failed" >&2; exit 1; }
  done
  du -sh .whl/*
  exit 0
fi

OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
if [ -n "${GPU_CHECK_PYTHON:-}" ]; then PY=$GPU_CHECK_PYTHON; fi  # the dry run in a bare virtualenv
SITE=${GPU_CHECK_SITE:-/tmp/gpu-check-site}
tag=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
if [ -d ".whl/$tag" ]; then  # a bare machine: install the carried wheels for this Python into a private folder
  rm -rf "$SITE"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" ".whl/$tag"/*.whl \
    > "$OUT/pip.log" 2>&1 || { cat "$OUT/pip.log"; echo "gpu_check.sh: installing .whl/$tag failed" >&2; exit 1; }
  if [ "$tag" = cp310 ]; then  # the project is written for 3.11+: two names a 3.10 image lacks, from their backports
    printf '%s\n' 'import sys, typing, datetime, tomli, typing_extensions' 'sys.modules.setdefault("tomllib", tomli)' \
      'typing.Self = getattr(typing, "Self", typing_extensions.Self)' \
      'datetime.UTC = getattr(datetime, "UTC", datetime.timezone.utc)' > "$SITE/sitecustomize.py"
  fi
  export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
elif [ "$PY" = python3 ]; then
  echo "gpu_check.sh: no .whl/$tag here (benchmarks/gpu_check.sh --wheels where pip works, then carry .whl)" >&2
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm \
  --format=csv > "$OUT/nvidia-smi.csv" 2>&1
export PYTHONUNBUFFERED=1
"$PY" benchmarks/gpu_check.py --out "$OUT" "$@" 2>&1 | tee "$OUT/gpu_check.log"
