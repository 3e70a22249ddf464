#!/usr/bin/env python3
"""Generates the interpolation fixtures from the real SciPy on this machine.

Output (committed, so `swift test` needs no Python): Tests/Fixtures/ndimage/interpolation_cases.json
  spline_filter     scipy.ndimage.spline_filter(input, order, output=float64, mode) for every mode,
                    orders 2-5, ranks 1-3, short axes (n = 1, 2, 3) included
  map_coordinates   scipy.ndimage.map_coordinates over orders 0-5, the eight modes, prefilter on and
                    off, cval, ranks 1-3, every input and output dtype, coordinates inside, near and
                    far outside the input, NaN and +-inf coordinates, NaN/inf data
  geometric_transform  scipy.ndimage.geometric_transform with Python mappings (shift, affine, zoom,
                    rank changes) and output shapes bigger and smaller than the input; the mapping's
                    coordinates are stored so the Swift test replays them through its own mapping

Numbers are strings (Python's repr, "nan", "inf", "-inf", plain integers) so Swift parses them exactly.
Run:  python3 scripts/make_interpolation_fixtures.py   (seeded)
"""
import json, os, pickle, sys
import numpy as np
import scipy
import scipy.ndimage as ndi

# The number and array encodings the NDImage tests read (one definition for every fixture script).
from make_ndimage_fixtures import encode_array as encode, num  # noqa: E402

SEED = 20261204
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "ndimage")
MODES = ["constant", "nearest", "reflect", "mirror", "wrap", "grid-constant", "grid-wrap", "grid-mirror"]
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]


def random_input(rng, shape, dtype, special=False):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith("float"):
        a = (rng.random(shape) * 200 - 100).astype(dtype)
        if special and a.size >= 3:
            flat = a.reshape(-1)
            flat[rng.integers(a.size)] = np.nan
            flat[rng.integers(a.size)] = np.inf
        return a
    info = np.iinfo(dtype)
    low, high = max(info.min, -1000), min(info.max, 1000)
    if rng.random() < 0.2:
        low, high = info.min, info.max  # extremes too
    return rng.integers(low, high, size=shape, endpoint=True, dtype=dtype)


def random_coordinates(rng, in_shape, out_shape, kind):
    """Coordinates of shape (len(in_shape), *out_shape)."""
    rank = len(in_shape)
    c = np.empty((rank,) + tuple(out_shape))
    for axis, n in enumerate(in_shape):
        if kind == "inside":
            c[axis] = rng.random(out_shape) * (n - 1)
        elif kind == "near":
            c[axis] = rng.random(out_shape) * (n + 4) - 2.0
        elif kind == "far":
            c[axis] = rng.random(out_shape) * (6 * n + 10) - 3 * n - 5
        elif kind == "grid":  # exact integers and halves, where rounding ties matter
            c[axis] = rng.integers(-2 * n, 2 * n, size=out_shape) * 0.5
        else:  # hostile
            pool = np.array([np.nan, np.inf, -np.inf, 1e300, -1e300, 1e18, -1e18, 1e10, -1e10,
                             -0.5, n - 0.5, -1.0, n * 1.0, -1e-16, n - 1 + 1e-9, 0.0, n - 1.0, 2.5])
            c[axis] = rng.choice(pool, size=out_shape)
    return c


def in_child(function):
    """function() computed in a forked child: its result, None when the child died (a crash in
    SciPy's C code), or the ValueError it raised."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            payload = pickle.dumps(("ok", function()))
        except (ValueError, OverflowError) as error:
            payload = pickle.dumps(("error", str(error)))
        with os.fdopen(write, "wb") as f:
            f.write(payload)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    kind, value = pickle.loads(data)
    if kind == "error":
        raise ValueError(value)
    return value


def scipy_reads_outside(coords, order, mode):
    """Flat indices of the output points where SciPy 1.17.1 reads outside its input: order >= 2 and
    an axis whose coordinate makes `(npy_intp)floor(c) - order / 2` wrap to a huge positive start
    (NaN or |c| >= 2^63 in `nearest`; c >= 2^63 after the period reduction in `wrap`/`grid-wrap`).
    FilterJIT clamps those taps instead; the tests do not compare these points."""
    if order < 2:
        return []
    c = coords.reshape(coords.shape[0], -1)
    with np.errstate(invalid="ignore"):
        if mode == "nearest":
            bad = np.isnan(c) | (np.abs(c) >= 2.0 ** 63)
        elif mode in ("wrap", "grid-wrap"):
            bad = c >= 2.0 ** 63
        else:
            return []
    return [int(i) for i in np.nonzero(bad.any(axis=0))[0]]


def main():
    crashed = []
    rng = np.random.default_rng(SEED)
    spline_cases, map_cases, transform_cases = [], [], []

    # spline_filter
    for order in range(2, 6):
        for mode in MODES:
            for shape in ([1], [2], [3], [7], [13], [2, 3], [4, 5], [1, 6], [3, 2, 4]):
                dtype = rng.choice(["float64", "float32", "int16", "uint8"])
                a = random_input(rng, shape, str(dtype))
                out = ndi.spline_filter(a, order=order, output=np.float64, mode=mode)
                spline_cases.append({"order": order, "mode": mode, "input": encode(a), "expected": encode(out)})

    # map_coordinates: every order x mode x prefilter on a rotating choice of the rest
    shapes = [[1], [2], [5], [9], [1, 4], [3, 3], [4, 6], [2, 3, 4], [3, 1, 2]]
    kinds = ["inside", "near", "far", "grid", "hostile"]
    k = 0
    for order in range(6):
        for mode in MODES:
            for prefilter in (True, False):
                for rep in range(3):
                    shape = shapes[k % len(shapes)]
                    in_dtype = DTYPES[(k * 7 + rep) % len(DTYPES)]
                    out_dtype = DTYPES[(k * 5 + 3 * rep + order) % len(DTYPES)] if rep > 0 else in_dtype
                    kind = kinds[(k + rep) % len(kinds)]
                    k += 1
                    a = random_input(rng, shape, in_dtype, special=(rep == 2))
                    out_shape = [int(rng.integers(1, 7))] + ([int(rng.integers(1, 4))] if rep == 1 else [])
                    coords = random_coordinates(rng, shape, out_shape, kind)
                    cval = [0.0, -7.25, 3.5, 300.0, np.nan][(k + order) % 5]
                    case = {"order": order, "mode": mode, "cval": num(cval), "prefilter": prefilter,
                            "input": encode(a), "coordinates": encode(coords), "output_dtype": out_dtype}
                    def run():
                        with np.errstate(all="ignore"):
                            return ndi.map_coordinates(a, coords, output=np.dtype(out_dtype), order=order,
                                                       mode=mode, cval=cval, prefilter=prefilter)
                    try:
                        out = in_child(run)
                    except ValueError as error:  # np.pad cannot cast a NaN cval to an integer input
                        case["error"] = str(error)
                        map_cases.append(case)
                        continue
                    if out is None:  # SciPy itself crashed (huge coordinates read outside its buffer)
                        crashed.append({k: case[k] for k in ("order", "mode", "cval", "prefilter")})
                        continue
                    case["expected"] = encode(out)
                    case["skip"] = scipy_reads_outside(coords, order, mode)
                    map_cases.append(case)

    # geometric_transform with Python mappings; output shapes bigger, smaller and of another rank
    def shift(dy, dx):
        return lambda o: (o[0] - dy, o[1] - dx)

    def rotate(theta, cy, cx):
        c, s = np.cos(theta), np.sin(theta)
        return lambda o: (c * (o[0] - cy) - s * (o[1] - cx) + cy, s * (o[0] - cy) + c * (o[1] - cx) + cx)

    mappings = [
        ("shift", [5, 6], None, shift(0.5, 0.25)),
        ("shift-big-output", [5, 6], [8, 9], shift(-1.5, 0.75)),
        ("rotate", [7, 7], None, rotate(0.5235987755982988, 3.0, 3.0)),
        ("rotate-small-output", [7, 8], [4, 5], rotate(1.0, 3.5, 2.0)),
        ("zoom", [6, 5], [11, 9], lambda o: (o[0] * 0.5, o[1] * 0.5)),
        ("1d-to-2d", [8], [3, 4], lambda o: (o[0] * 2.0 + o[1] * 0.4,)),
        ("3d-shift", [3, 4, 5], None, lambda o: (o[0] - 0.3, o[1] + 0.6, o[2] - 1.25)),
        ("2d-to-1d", [5, 5], [7], lambda o: (o[0] * 0.6, 4.0 - o[0] * 0.55)),
    ]
    for name, shape, out_shape, mapping in mappings:
        for order in range(6):
            for mode in MODES:
                dtype = DTYPES[(order * 3 + MODES.index(mode)) % len(DTYPES)]
                a = random_input(rng, shape, dtype)
                oshape = tuple(out_shape) if out_shape else tuple(shape)
                coords = np.empty((len(shape),) + oshape)
                for index in np.ndindex(*oshape):
                    mapped = mapping(index)
                    for axis in range(len(shape)):
                        coords[(axis,) + index] = mapped[axis]
                cval = 2.5 if order % 2 else -1.0
                out = ndi.geometric_transform(a, mapping, output_shape=oshape, order=order, mode=mode, cval=cval)
                transform_cases.append({"name": name, "order": order, "mode": mode, "cval": num(cval),
                                        "prefilter": True, "input": encode(a), "coordinates": encode(coords),
                                        "expected": encode(out)})

    os.makedirs(ROOT, exist_ok=True)
    path = os.path.join(ROOT, "interpolation_cases.json")
    with open(path, "w") as f:
        json.dump({"scipy": scipy.__version__, "numpy": np.__version__, "seed": SEED,
                   "spline_filter": spline_cases, "map_coordinates": map_cases,
                   "geometric_transform": transform_cases, "scipy_crashed": crashed}, f, separators=(",", ":"))
    print(f"seed {SEED}: {len(spline_cases)} spline_filter, {len(map_cases)} map_coordinates, "
          f"{len(transform_cases)} geometric_transform cases ({len(crashed)} where SciPy crashed, left out) -> {os.path.relpath(path)} "
          f"({os.path.getsize(path) // 1024} KiB)")


if __name__ == "__main__":
    main()
