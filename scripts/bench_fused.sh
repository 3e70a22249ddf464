#!/usr/bin/env bash
# Fused-engine benchmark figures (issue 5): filterjit bench (release build, best of --repeat cached
# runs, 1 thread unless noted) next to the SciPy timings of scripts/bench_fused_scipy.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/filterjit
[ -x "$bin" ] || swift build -c release --product filterjit 2>&1 | tail -1
line=$(mktemp --suffix=.filter)
trap 'rm -f "$line"' EXIT
cat > "$line" <<'K'
@line_filter
def mean3(line, out):
    for i in range(len(out)):
        out[i] = (line[i] + line[i + 1] + line[i + 2]) / 3.0
K
run() {  # label, then filterjit bench arguments
    local label=$1; shift
    local json
    json=$("$bin" bench "$@" --repeat "${REPEAT:-5}" --json | tail -1)
    python3 -c 'import json,sys; j=json.loads(sys.argv[2]); print("%-34s best %8.2f ms  median %8.2f ms  compile (both kernels) %6.1f ms" % (sys.argv[1], j["cached_best_ms"], j["cached_median_ms"], j["compile_ms"]))' "$label" "$json"
}
run "f64 cross np.min (1 thread)"   -e 'np.min(values)' --footprint cross --threads 1
run "f64 cross min (1 thread)"      -e 'min(values)' --footprint cross --threads 1
run "u8 cross np.min (1 thread)"    -e 'np.min(values)' --footprint cross --dtype uint8 --threads 1
run "f64 3x3 np.mean (1 thread)"    -e 'np.mean(values)' --size 3 --threads 1
run "f64 5x5 np.median (1 thread)"  -e 'np.median(values)' --size 5 --threads 1
run "f64 5x5 np.median (2 threads)" -e 'np.median(values)' --size 5 --threads 2
run "f64 128^3 3x3x3 np.min"        -e 'np.min(values)' --size 3 --shape 128x128x128 --threads 1
run "f64 line 3-tap mean"           "$line" --line-size 3 --threads 1
python3 scripts/bench_fused_scipy.py "${REPEAT:-5}"
