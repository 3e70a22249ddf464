#!/usr/bin/env bash
# The main job: set up (idempotently), build, make a test image, run examples/fmin.filter on it
# (the Numba-style erosion, unchanged), print first and cached timings, check the result against
# scipy.ndimage.grey_erosion, and write demo-out/side_by_side.png (input | output).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product filterjit 2>&1 | tail -1
bin=.build/release/filterjit
mkdir -p demo-out
python3 scripts/demo_image.py make demo-out/input.npy
echo "== filterjit bench examples/fmin.filter on a 1024x1024 uint8 image, cross footprint"
"$bin" bench examples/fmin.filter --input demo-out/input.npy --footprint cross --repeat 5
echo "== filterjit run examples/fmin.filter"
"$bin" run examples/fmin.filter --input demo-out/input.npy --footprint cross --output demo-out/eroded.npy
python3 - <<'PY'
import numpy as np, scipy.ndimage as ndi
x = np.load("demo-out/input.npy"); y = np.load("demo-out/eroded.npy")
same = np.array_equal(y, ndi.grey_erosion(x, footprint=ndi.generate_binary_structure(2, 1)))
print("equal to scipy.ndimage.grey_erosion:", same)
raise SystemExit(0 if same else 1)
PY
python3 scripts/demo_image.py side demo-out/input.npy demo-out/eroded.npy demo-out/side_by_side.png
echo "wrote demo-out/side_by_side.png (input | eroded)"
