#!/usr/bin/env bash
# The benchmark suite in one command: builds the release library and runs FilterJIT and SciPy side by
# side, writing benchmarks/results.md. Extra arguments go to run.py (--repeat N, --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release 2>&1 | tail -1
FILTERJIT_LIB="$(pwd)/.build/release/libFilterJITC.so" PYTHONPATH=python python3 benchmarks/run.py "$@"
