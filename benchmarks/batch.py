#!/usr/bin/env python3
"""The batch target: 100 TIFF files of 512x512 uint16 through a 3x3 median, one `filterjit run --output-dir`,
against one compile plus 100 runs of the same kernel (`filterjit bench`, same threads). Also times
a few separate `filterjit run` processes per file (each one compiles, or loads from the disk cache).

Writes benchmarks/batch_results.md. Usage: benchmarks/batch.py [--files N] [--threads T]
(needs the release CLI: swift build -c release --product filterjit; numpy and tifffile).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".build" / "release" / "filterjit"
KERNEL = ["-e", "median(values)", "--size", "3"]


def timed(command, environment) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=environment)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "batch_results.md"))
    options = parser.parse_args()
    if not CLI.is_file():
        raise SystemExit(f"error: {CLI} is missing; run: swift build -c release --product filterjit")
    work = Path(tempfile.mkdtemp(prefix="filterjit-batch-"))
    try:
        data, out, cache = work / "data", work / "out", work / "cache"
        data.mkdir()
        out.mkdir()
        rng = np.random.default_rng(16)
        for index in range(options.files):
            tifffile.imwrite(data / f"img{index:03d}.tif", rng.integers(0, 65536, (512, 512), dtype=np.uint16),
                             photometric="minisblack", metadata=None)
        environment = {**os.environ, "FILTERJIT_CACHE_DIR": str(cache)}
        threads = ["--threads", str(options.threads)]
        batch_times, baselines = [], []
        for _ in range(options.repeat):
            # Cold: an empty disk cache, so the batch compiles its kernel once.
            shutil.rmtree(cache, ignore_errors=True)
            batch_times.append(timed([CLI, "run", *KERNEL, "--input", data, "--output-dir", out, *threads],
                                     environment))
            shutil.rmtree(cache, ignore_errors=True)
            bench = subprocess.run([CLI, "bench", *KERNEL, "--shape", "512x512", "--dtype", "uint16",
                                    "--repeat", str(options.files - 1), "--json", *threads],
                                   check=True, capture_output=True, text=True, env=environment)
            report = json.loads(bench.stdout.strip().splitlines()[-1])
            # One compile and the first run, then the other runs at the cached median.
            baselines.append((report["engine_start_ms"] + report["first_ms"]
                              + (options.files - 1) * report["cached_median_ms"]) / 1000)
        # Separate processes, one per file (the disk cache warm after the first), for a few files.
        shutil.rmtree(cache, ignore_errors=True)
        few = sorted(data.iterdir())[:5]
        separate = [timed([CLI, "run", *KERNEL, "--input", path, "--output", out / path.name, *threads], environment)
                    for path in few]
        batch, baseline = min(batch_times), min(baselines)
        lines = [
            "# Batch run benchmark",
            "",
            f"{options.files} TIFF files of 512x512 uint16, 3x3 `median(values)`, --threads {options.threads}, "
            f"best of {options.repeat}, cold disk cache, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
            "cores when it ran. Written by benchmarks/batch.py.",
            "",
            "| what | seconds |",
            "|---|---|",
            f"| `filterjit run --input DIR --output-dir OUT` (process, reading and writing every file) | {batch:.3f} |",
            f"| one compile + {options.files} runs (`filterjit bench`: engine start + first run + "
            f"{options.files - 1} x cached median) | {baseline:.3f} |",
            f"| ratio (target <= 1.2) | {batch / baseline:.2f} |",
            f"| one `filterjit run` process per file (median of {len(few)}; first compiles, later load the disk "
            f"cache) x {options.files} | {statistics.median(separate) * options.files:.3f} |",
            "",
        ]
        Path(options.output).write_text("\n".join(lines))
        print("\n".join(lines))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
