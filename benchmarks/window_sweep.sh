#!/usr/bin/env bash
# The window sweep in one command: builds the release library, installs OpenCV (for the benchmark
# only: opencv-python-headless is not a dependency of FilterJIT) and runs window_sweep.py, which
# prints one table and writes benchmarks/window_sweep.md. Extra arguments go to window_sweep.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -c "import cv2" 2>/dev/null || python3 -m pip install --quiet opencv-python-headless
swift build -c release --product FilterJITC 2>&1 | tail -1
FILTERJIT_LIB="$(pwd)/.build/release/libFilterJITC.so" PYTHONPATH=python python3 benchmarks/window_sweep.py "$@"
