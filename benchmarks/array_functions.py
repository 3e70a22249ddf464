#!/usr/bin/env python3
"""Issue 15's array-function figures (a measurement, not a test): the published `addarr` on 10^6 float64
and uint8 elements against NumPy's `a + b`, and skan's `build_graph` on a random 2048x2048 "skeleton";
the first call (compile included, no disk cache, new process) and the best of N later calls, the contenders
called in turn (interleaved, so a load burst slows them alike). Numba is timed too when it is installed (it is
never required).

    FILTERJIT_LIB=.build/release/libFilterJITC.so PYTHONPATH=python python3 benchmarks/array_functions.py [--repeat 20]
"""
import argparse, importlib.util, os, sys, time
from pathlib import Path

os.environ.setdefault("FILTERJIT_DISK_CACHE", "0")  # the first call includes the compile
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best(function, *args, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def best_interleaved(contenders, repeat):
    """The best time (ms) of each of `contenders` (name -> a call without arguments), called in turn `repeat` times:
    on a shared machine a load burst then slows every contender alike, not one of them."""
    times = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, call in contenders.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) * 1e3 for name, values in times.items()}


def first_call(function, *args):
    start = time.perf_counter()
    function(*args)
    return (time.perf_counter() - start) * 1e3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    arguments = parser.parse_args()
    numba = None
    if importlib.util.find_spec("numba"):
        import numba
    addarr = load("addarr").addarr
    print("| case | FilterJIT first call (ms) | FilterJIT later (ms) | NumPy a + b (ms) | Numba first / later (ms) |")
    print("|---|---|---|---|---|")
    for dtype in ("float64", "uint8"):
        rng = np.random.default_rng(0)
        x = (rng.random(10**6) * 100).astype(dtype)
        y = (rng.random(10**6) * 100).astype(dtype)
        first = first_call(addarr, x, y)
        assert np.array_equal(addarr(x, y), x + y)
        contenders = {"filterjit": lambda: addarr(x, y), "numpy": lambda: x + y}
        numba_text = "not installed"
        if numba:
            compiled = numba.njit(addarr.py_func)
            numba_first = first_call(compiled, x, y)
            contenders["numba"] = lambda: compiled(x, y)
        times = best_interleaved(contenders, arguments.repeat)
        if numba:
            numba_text = f"{numba_first:.1f} / {times['numba']:.4f}"
        # (4 decimals: uint8 calls take about 0.031 ms, and a microsecond decides the target)
        print(f"| addarr 10^6 {dtype} | {first:.1f} | {times['filterjit']:.4f} | {times['numpy']:.4f} | {numba_text} |")
    skan = load("skan_graph")
    # build_graph's `steps` is frozen for the example's 7x9 image: time it on that image, many calls.
    labels = np.zeros(skan.SKELETON.size, dtype=np.int32)
    labels[skan.SKELETON.ravel()] = np.arange(1, skan.SKELETON.sum() + 1, dtype=np.int32)
    row, col = np.zeros(22, np.int32), np.zeros(22, np.int32)
    first = first_call(skan.build_graph, labels, skan.steps, row, col)
    later = best(skan.build_graph, labels, skan.steps, row, col, repeat=arguments.repeat)
    python = best(skan.build_graph.py_func, labels, skan.steps, row, col, repeat=3)
    print(f"| build_graph 7x9 (pure Python {python:.3f} ms) | {first:.1f} | {later:.4f} | - | - |")

    skeleton_2048(numba, arguments.repeat)


def skeleton_graph():
    """The 2048x2048 skeleton case: (skeleton, labels, steps, row, col, build_graph's text, its uncompiled
    Dispatcher); needs scikit-image. benchmarks/array_function_calls.py uses it too."""
    import filterjit
    from scipy import ndimage as ndi
    from skimage import filters, morphology
    rng = np.random.default_rng(1)
    skeleton = np.pad(morphology.skeletonize(filters.gaussian(rng.random((2048, 2048)), sigma=8) > 0.5), 1)
    labels = np.zeros(skeleton.size, dtype=np.int32)
    labels[skeleton.ravel()] = np.arange(1, skeleton.sum() + 1, dtype=np.int32)
    ring = np.ones((3, 3), np.uint8)
    ring[1, 1] = 0
    degrees = ndi.convolve(skeleton.astype(np.uint8), ring, mode="constant")[skeleton]
    width = skeleton.shape[1]
    steps = np.array([dy * width + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)], dtype=np.int64)
    text = (ROOT / "examples" / "skan_graph.py").read_text()
    definition = text[text.index("@jit\ndef build_graph"):text.index("\n\n\ndef pixel_graph")]
    # The module global `steps` frozen as a constant line, as filterjit.jit does at decoration.
    source = "import numpy as np\n" + definition + "\n\nsteps = np.array(" + repr(steps.tolist()) + ", dtype=int)\n"
    dispatcher = filterjit.Dispatcher(source, "build_graph")
    row, col = np.zeros(int(degrees.sum()), np.int32), np.zeros(int(degrees.sum()), np.int32)
    return skeleton, labels, steps, row, col, definition, dispatcher


def skeleton_2048(numba, repeat):
    """build_graph on the skeleton of 2048x2048 random blobs (needs scikit-image; skipped without it)."""
    if importlib.util.find_spec("skimage") is None:
        print("| build_graph 2048x2048 | scikit-image not installed | | | |")
        return
    skeleton, labels, steps, row, col, definition, dispatcher = skeleton_graph()
    first = first_call(dispatcher, labels, steps, row, col)
    contenders = {"filterjit": lambda: dispatcher(labels, steps, row, col)}
    numba_text = "not installed"
    if numba:
        namespace = {"np": np, "steps": steps}
        exec(definition.replace("@jit\n", ""), namespace)
        compiled = numba.njit(namespace["build_graph"])
        row2, col2 = np.zeros_like(row), np.zeros_like(col)
        numba_first = first_call(compiled, labels, steps, row2, col2)
        assert np.array_equal(row, row2) and np.array_equal(col, col2)
        contenders["numba"] = lambda: compiled(labels, steps, row2, col2)
    times = best_interleaved(contenders, repeat)
    later = times["filterjit"]
    if numba:
        numba_text = f"{numba_first:.1f} / {times['numba']:.3f}"
    print(f"| build_graph 2048x2048 ({int(skeleton.sum())} pixels, {len(row)} edges) | {first:.1f} | {later:.3f} | - | {numba_text} |")


if __name__ == "__main__":
    main()
