#!/usr/bin/env python3
"""The batch target of issue 16: 100 TIFF files of 512x512 uint16 through a 3x3 median, one `filterjit run
--output-dir` process, against one compile plus 100 runs of the same kernel (`filterjit bench`, same threads:
engine start + first run, compile included, + 99 x the cached median). Both start from an empty disk cache,
so both compile once.

The batch is timed twice per round: into an empty output directory, and again replacing the outputs it just
wrote (a rename onto an existing file costs the file system more: the old file is freed, and ext4 starts
writing the new one back). Rounds interleave the batch, the baseline and the floors (on a shared machine a
burst of load then hits all of them alike); each figure is the best over the rounds.

Where the batch's time goes: `FILTERJIT_BATCH_PROFILE=1` makes the batch print its phases (compile, first
file, other files) and the time its threads spent reading, filtering and writing; the start of a process
(loading libLLVM and the other libraries, parsing arguments) is timed as `filterjit --help`; the floor of the
file traffic is timed with benchmarks/io_floor.c (read each file, write it to a temporary, rename it over
the output: the same work with nothing else) and `cat`.

Writes benchmarks/batch_results.md. Usage: benchmarks/batch.py [--files N] [--threads T] [--repeat R]
(needs the release CLI: swift build -c release --product filterjit; numpy, tifffile and a C compiler).
"""

import argparse
import json
import os
import re
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
PROFILE = re.compile(
    r"profile: compile ([\d.]+) ms \((\d+) files read meanwhile\), first file ([\d.]+) ms, other files ([\d.]+) ms; "
    r"summed over threads: read ([\d.]+) ms, filter ([\d.]+) ms, write ([\d.]+) ms")


def timed(command, environment):
    start = time.perf_counter()
    result = subprocess.run(command, check=True, capture_output=True, text=True, env=environment)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=7, help="rounds (each figure is the best of them)")
    parser.add_argument("--note", default="", help="a sentence on the machine (shared or not) for the results")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "batch_results.md"))
    options = parser.parse_args()
    if not CLI.is_file():
        raise SystemExit(f"error: {CLI} is missing; run: swift build -c release --product filterjit")
    loads = [os.getloadavg()[0]]
    work = Path(tempfile.mkdtemp(prefix="filterjit-batch-"))
    try:
        data, out, cache = work / "data", work / "out", work / "cache"
        data.mkdir()
        rng = np.random.default_rng(16)
        for index in range(options.files):
            tifffile.imwrite(data / f"img{index:03d}.tif", rng.integers(0, 65536, (512, 512), dtype=np.uint16),
                             photometric="minisblack", metadata=None)
        floor_tool = work / "io_floor"
        subprocess.run(["cc", "-O2", "-o", floor_tool, ROOT / "benchmarks" / "io_floor.c", "-lpthread"], check=True)
        environment = {**os.environ, "FILTERJIT_CACHE_DIR": str(cache), "FILTERJIT_BATCH_PROFILE": "1"}
        threads = ["--threads", str(options.threads)]
        batch_command = [CLI, "run", *KERNEL, "--input", data, "--output-dir", out, *threads]
        times = {key: [] for key in ["fresh", "replace", "baseline", "start", "floor fresh", "floor replace", "cat"]}
        profiles = {"fresh": [], "replace": []}
        reports = []
        for _ in range(options.repeat):
            times["start"].append(timed([CLI, "--help"], environment)[0])
            # The batch, cold (an empty disk cache, so it compiles its kernel once), into an empty directory,
            # then again replacing what it wrote.
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            for key in ["fresh", "replace"]:
                shutil.rmtree(cache, ignore_errors=True)
                seconds, result = timed(batch_command, environment)
                times[key].append(seconds)
                profiles[key].append((seconds, PROFILE.search(result.stderr)))
            # The baseline, cold too.
            shutil.rmtree(cache, ignore_errors=True)
            _, bench = timed([CLI, "bench", *KERNEL, "--shape", "512x512", "--dtype", "uint16",
                              "--repeat", str(options.files - 1), "--json", *threads], environment)
            report = json.loads(bench.stdout.strip().splitlines()[-1])
            reports.append(report)
            times["baseline"].append((report["engine_start_ms"] + report["first_ms"]
                                      + (options.files - 1) * report["cached_median_ms"]) / 1000)
            # The file traffic alone: into an empty directory, then replacing.
            floor_out = work / "floor"
            shutil.rmtree(floor_out, ignore_errors=True)
            floor_out.mkdir()
            for key in ["floor fresh", "floor replace"]:
                result = subprocess.run([floor_tool, data, floor_out, str(options.threads)],
                                        check=True, capture_output=True, text=True)
                times[key].append(float(result.stdout) / 1000)
            times["cat"].append(timed(["sh", "-c", f"cat {data}/* > /dev/null"], environment)[0])
        loads.append(os.getloadavg()[0])
        # Separate processes, one per file (the disk cache warm after the first), for a few files.
        shutil.rmtree(cache, ignore_errors=True)
        few = sorted(data.iterdir())[:5]
        separate = [timed([CLI, "run", *KERNEL, "--input", path, "--output", out / path.name, *threads], environment)[0]
                    for path in few]
        best = {key: min(values) for key, values in times.items()}
        baseline_report = min(reports, key=lambda r: r["engine_start_ms"] + r["first_ms"]
                              + (options.files - 1) * r["cached_median_ms"])
        ms = lambda seconds: f"{seconds * 1000:.1f}"

        def phases(key):
            seconds, match = min(profiles[key], key=lambda entry: entry[0])
            (compile_ms, read_ahead, first_ms, other_ms, read_sum, filter_sum, write_sum) = (
                float(value) for value in match.groups())
            return seconds, compile_ms, int(read_ahead), first_ms, other_ms, read_sum, filter_sum, write_sum

        fresh = phases("fresh")
        replace = phases("replace")
        shared = (f" {options.note}" if options.note else "")
        lines = [
            "# Batch run benchmark",
            "",
            f"{options.files} TIFF files of 512x512 uint16 (512 KB each), 3x3 `median(values)`, --threads "
            f"{options.threads}, empty disk cache (each side compiles once), best of {options.repeat} interleaved "
            f"rounds; load average {loads[0]:.1f} before and {loads[1]:.1f} after, on {os.cpu_count()} cores."
            f"{shared} Written by benchmarks/batch.py.",
            "",
            "| what | ms | / baseline |",
            "|---|---|---|",
            f"| one compile + {options.files} runs (`filterjit bench`: engine start + first run + {options.files - 1} "
            f"x cached median; inside one process, files neither read nor written) | {ms(best['baseline'])} | 1.00 |",
            f"| `filterjit run --input DIR --output-dir OUT` into an empty OUT (the whole process) | {ms(best['fresh'])} "
            f"| {best['fresh'] / best['baseline']:.2f} |",
            f"| the same, replacing the outputs of the previous run | {ms(best['replace'])} "
            f"| {best['replace'] / best['baseline']:.2f} |",
            f"| one `filterjit run` process per file (median of {len(few)}; first compiles, later load the disk "
            f"cache) x {options.files} | {ms(statistics.median(separate) * options.files)} | "
            f"{statistics.median(separate) * options.files / best['baseline']:.1f} |",
            "",
            "Target: batch <= 1.2 x baseline.",
            "",
            "## Where the time goes",
            "",
            "| part | ms |",
            "|---|---|",
            f"| baseline: engine start | {baseline_report['engine_start_ms']:.1f} |",
            f"| baseline: first run (kernel + fused kernel compile, one run) | {baseline_report['first_ms']:.1f} |",
            f"| baseline: {options.files - 1} x cached run ({baseline_report['cached_median_ms']:.3f} ms, "
            f"{options.threads} threads) | {(options.files - 1) * baseline_report['cached_median_ms']:.1f} |",
            f"| process start and argument parsing (`filterjit --help`; not in the baseline) | {ms(best['start'])} |",
            f"| batch (empty OUT, its best run): compile, while {fresh[2]} files were read on the other threads "
            f"| {fresh[1]:.1f} |",
            f"| batch: first file (the fused kernel's compile, then one filter) | {fresh[3]:.1f} |",
            f"| batch: the other {options.files - 1} files on {options.threads} threads | {fresh[4]:.1f} |",
            f"| batch: process start, listing, checks, engine start, exit (the rest of the process) "
            f"| {fresh[0] * 1000 - fresh[1] - fresh[3] - fresh[4]:.1f} |",
            f"| batch, summed over threads: read + decode / filter / encode + write + rename | "
            f"{fresh[5]:.1f} / {fresh[6]:.1f} / {fresh[7]:.1f} |",
            f"| batch replacing outputs: other files; summed write | {replace[4]:.1f}; {replace[7]:.1f} |",
            f"| I/O floor (io_floor.c, {options.threads} threads: read, write a temporary, rename), empty OUT "
            f"| {ms(best['floor fresh'])} |",
            f"| I/O floor, replacing | {ms(best['floor replace'])} |",
            f"| reading alone (`cat` of the {options.files} files, one thread) | {ms(best['cat'])} |",
            "",
        ]
        Path(options.output).write_text("\n".join(lines))
        print("\n".join(lines))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
