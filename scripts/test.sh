#!/usr/bin/env bash
# Runs every test: the Swift suites (language, JIT, driver, CLI, C API), then the Python package's pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
# Each step has a time limit far above its need (about 2 and 4 minutes here): a hang fails with the
# stacks of the hung processes (scripts/watchdog.sh) instead of running into CI's limit.
bash scripts/watchdog.sh 900 swift test
bash scripts/watchdog.sh 1200 bash scripts/python_tests.sh debug
