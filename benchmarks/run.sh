#!/usr/bin/env bash
# The benchmark suite in one command: builds the release library and runs FilterJIT and SciPy side by
# side, writing benchmarks/results.md, then the batch benchmark (benchmarks/batch_results.md) and the
# transform benchmark (benchmarks/transform_results.txt). Extra arguments go to run.py (--repeat N, --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release 2>&1 | tail -1
# The peers a user would pick instead, for the benchmarks only (never dependencies of FilterJIT): Numba (case 7's
# generic_filter + cfunc row, skipped when it does not import) and OpenCV (the transform benchmark).
python3 -c "import numba" 2>/dev/null || python3 -m pip install --quiet numba || echo "warning: Numba not installed; its rows stay empty"
python3 -c "import cv2" 2>/dev/null || python3 -m pip install --quiet opencv-python-headless || echo "warning: OpenCV not installed"
FILTERJIT_LIB="$(pwd)/.build/release/libFilterJITC.so" PYTHONPATH=python python3 benchmarks/run.py "$@"
# The batch target (100 TIFF files through one `filterjit run --output-dir`): benchmarks/batch_results.md.
python3 benchmarks/batch.py
# Issue 14's transform targets (shift, rotation against ndi.shift/affine_transform and cv2.warpAffine when
# OpenCV imports): benchmarks/transform_results.txt.
FILTERJIT_LIB="$(pwd)/.build/release/libFilterJITC.so" PYTHONPATH=python python3 benchmarks/transform_bench.py \
    | tee benchmarks/transform_results.txt
