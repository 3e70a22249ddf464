#!/usr/bin/env python3
"""Generates the NDImage test fixtures from the real SciPy/NumPy/Pillow on this machine.

Outputs (committed, so `swift test` needs no Python), all under Tests/Fixtures/ndimage/:
  generic_filter_cases.json    >= 500 scipy.ndimage.generic_filter cases
  generic_filter1d_cases.json  >= 80 scipy.ndimage.generic_filter1d cases
  npy/                         .npy files written by numpy (every dtype, order, byte order, version)
                               plus npy/index.json with their expected values
  npy_bad/                     malformed .npy files; npy_bad/index.json names the expected error
  png/                         PNGs written by Pillow plus png/index.json with the expected arrays

Numbers are written as strings: Python's repr of floats (shortest round trip; "nan", "inf",
"-inf") and plain integers, so Swift parses them exactly.
Run:  python3 scripts/make_ndimage_fixtures.py   (seeded; prints its seed)
"""
import json, os, sys, random, struct
import numpy as np
import scipy.ndimage as ndi

SEED = 20261128
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "ndimage")
MODES = ["reflect", "constant", "nearest", "mirror", "wrap", "grid-mirror", "grid-constant", "grid-wrap"]
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]


def num(v):
    """A number as an exact string."""
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f != f:
            return "nan"
        if f in (float("inf"), float("-inf")):
            return "inf" if f > 0 else "-inf"
        return repr(f)
    return str(int(v))


def encode_array(a):
    a = np.asarray(a)
    if a.dtype == np.bool_:
        flat = a.view(np.uint8).ravel(order="C")
    else:
        flat = a.ravel(order="C")
    return {"dtype": str(a.dtype), "shape": list(a.shape), "data": [num(v) for v in flat.tolist()]}


# ---- reducers; the Swift tests reproduce each one's arithmetic exactly ----
def weight(j):
    return 1.0 + 0.25 * j


def r_seqsum(b):
    s = 0.0
    for v in b:
        s += float(v)
    return s


def r_wsum(b):
    s = 0.0
    for j, v in enumerate(b):
        s += float(v) * weight(j)
    return s


REDUCERS = {
    "min": lambda b: float(np.min(b)),
    "max": lambda b: float(np.max(b)),
    "median": lambda b: float(np.median(b)),
    "seqsum": r_seqsum,
    "wsum": r_wsum,
    "npsum": lambda b: float(np.sum(b)),
}


def in_defined_range(values, dtype):
    """Section 1.4: only values whose cast is defined C behaviour (or the bool byte rule)."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return True
    values = np.asarray(values, dtype=np.float64)
    if np.any(~np.isfinite(values)):
        return False
    t = np.trunc(values)
    if dt.kind == "b":
        lo, hi = 0, 255
        return bool(np.all(np.abs(t) <= hi))
    info = np.iinfo(dt)
    if dt.kind == "u":
        return bool(np.all(np.abs(t) <= info.max))
    return bool(np.all((t >= info.min) & (t <= info.max)))


def random_input(rng, shape, dtype):
    dt = np.dtype(dtype)
    n = int(np.prod(shape)) if shape else 1
    if dt.kind == "b":
        vals = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in "iu":
        lo = 0 if dt.kind == "u" else -20
        vals = rng.integers(lo, 21, n).astype(dt)
    else:
        vals = (rng.standard_normal(n) * 10).astype(dt)
        if rng.random() < 0.15 and n > 2:
            vals[rng.integers(0, n)] = np.nan
    return vals.reshape(shape)


def layout_of(rng, rank):
    if rank >= 2 and rng.random() < 0.25:
        return "F"
    if rank >= 1 and rng.random() < 0.2:
        return "reversed"
    return "C"


def wide_reflect_bug(shape, fshape, origins, mode, axes):
    """Section 2.4: skip reflect configurations where s//2 + origin >= 4n on some axis with n > 1."""
    if mode not in ("reflect", "grid-mirror"):
        return False
    for i, ax in enumerate(axes):
        n = shape[ax]
        if n > 1 and fshape[i] // 2 + origins[i] >= 4 * n:
            return True
    return False


def gf_case(rng, cid, shape, dtype, reducer, mode, cval, size=None, footprint=None, origin=0, axes=None,
            output_dtype=None, layout="C", prealloc=False, data=None):
    x = random_input(rng, shape, dtype) if data is None else np.asarray(data, dtype=dtype).reshape(shape)
    kwargs = dict(mode=mode, cval=cval, origin=origin)
    if axes is not None:
        kwargs["axes"] = axes
    if footprint is not None:
        kwargs["footprint"] = footprint
    else:
        kwargs["size"] = size
    if output_dtype is not None:
        kwargs["output"] = np.dtype(output_dtype)
    fn = REDUCERS[reducer]
    try:
        with np.errstate(all="ignore"):
            raw = ndi.generic_filter(x, lambda b: _float_result(fn, b), **kwargs)
    except ValueError:
        return None  # e.g. np.min of an empty buffer
    out_dtype = np.dtype(output_dtype) if output_dtype else x.dtype
    with np.errstate(all="ignore"):
        floats = ndi.generic_filter(x.astype(np.float64), lambda b: _float_result(fn, b), **{**kwargs, "output": np.float64})
    if not in_defined_range(floats, out_dtype):
        return None
    case = {"id": cid, "input": encode_array(x), "layout": layout, "reducer": reducer, "mode": mode,
            "cval": num(float(cval)), "origin": origin if isinstance(origin, list) else [origin],
            "output_dtype": output_dtype, "prealloc": prealloc, "expected": encode_array(raw)}
    if axes is not None:
        case["axes"] = axes
    if footprint is not None:
        case["footprint"] = encode_array(np.asarray(footprint, dtype=bool))
    else:
        case["size"] = size if isinstance(size, list) else [size]
    return case


def _float_result(fn, b):
    with np.errstate(all="ignore"):
        return fn(b)


def make_generic_filter_cases(rng):
    cases = []
    cid = 0

    def add(c):
        nonlocal cid
        if c is not None:
            c["id"] = cid
            cid += 1
            cases.append(c)

    pick = lambda seq: seq[int(rng.integers(0, len(seq)))]
    # 1. every valid origin for sizes 1..6, rank 1, every mode
    for s in range(1, 7):
        for o in range(-(s // 2), (s - 1) - s // 2 + 1):
            for mode in MODES:
                n = int(rng.integers(1, 9))
                add(gf_case(rng, 0, [n], pick(["float64", "int16", "uint8", "float32"]), pick(["wsum", "min", "max", "npsum"]),
                            mode, pick([0.0, -1.5, 7.25]), size=s, origin=o))
    # 2. rank 2, every origin pair for some sizes, including even sizes
    for s in [(2, 3), (4, 1), (3, 5), (6, 2), (1, 6)]:
        for o0 in range(-(s[0] // 2), (s[0] - 1) - s[0] // 2 + 1):
            for o1 in range(-(s[1] // 2), (s[1] - 1) - s[1] // 2 + 1):
                mode = pick(MODES)
                shape = [int(rng.integers(1, 6)), int(rng.integers(1, 6))]
                add(gf_case(rng, 0, shape, pick(DTYPES[1:]), pick(["wsum", "seqsum", "median", "max"]), mode,
                            pick([0.0, 3.5, float("nan")]), size=list(s), origin=[o0, o1], layout=layout_of(rng, 2)))
    # 3. random ranks 1..4, holed / non-square footprints, explicit outputs, cvals
    while len(cases) < 470:
        rank = int(rng.integers(1, 5))
        maxlen = {1: 9, 2: 6, 3: 4, 4: 3}[rank]
        shape = [int(rng.integers(1, maxlen + 1)) for _ in range(rank)]
        dtype = pick(DTYPES)
        mode = pick(MODES)
        cval = pick([0.0, -1.5, 1000.0, 300.0, -7.0, float("nan"), 2.5])
        reducer = pick(list(REDUCERS))
        use_fp = rng.random() < 0.45
        axes = None
        nax = rank
        if rank >= 2 and rng.random() < 0.2:
            nax = int(rng.integers(1, rank + 1))
            axes = sorted(rng.choice(rank, nax, replace=False).tolist())
            if rng.random() < 0.5:
                axes = [a - rank for a in axes]  # negative axes as a sequence
        fshape = [int(rng.integers(1, 5 if rank > 2 else 7)) for _ in range(nax)]
        if rng.random() < 0.1:  # a window larger than the array
            fshape = [int(rng.integers(5, 12)) for _ in range(nax)]
        origins = [int(rng.integers(-(s // 2), (s - 1) - s // 2 + 1)) for s in fshape]
        if wide_reflect_bug(shape, fshape, origins, mode, [a % rank for a in (axes or range(rank))]):
            continue
        footprint = None
        if use_fp:
            footprint = rng.random(fshape) < 0.6
            if rng.random() < 0.05:
                footprint[...] = False
            if not footprint.any():
                reducer = pick(["seqsum", "npsum", "wsum"])
            if rng.random() < 0.3:  # any numeric footprint: non-zero is True
                footprint = footprint.astype(np.int8) * pick([1, -1, 2])
        out = pick([None, None, None, "float64", "float32", "int32", "uint8", "int64", "uint16", "bool"])
        if out == "bool" and reducer not in ("min", "max", "median"):
            out = None
        add(gf_case(rng, 0, shape, dtype, reducer, mode, cval, size=None if use_fp else fshape,
                    footprint=footprint.tolist() if use_fp else None, origin=origins, axes=axes,
                    output_dtype=out, layout=layout_of(rng, rank), prealloc=rng.random() < 0.15))
    # 4. tiny arrays under large windows, every mode
    for mode in MODES:
        for n in (1, 2, 3):
            s = int(rng.integers(7, 14))
            o = int(rng.integers(-(s // 2), (s - 1) - s // 2 + 1))
            if wide_reflect_bug([n], [s], [o], mode, [0]):
                o = 0
            add(gf_case(rng, 0, [n], "float64", "wsum", mode, -2.0, size=s, origin=o))
    # 5. 0-d and empty inputs
    add(gf_case(rng, 0, [], "float64", "seqsum", "reflect", 0.0, size=3, data=[5.0]))
    add(gf_case(rng, 0, [], "int16", "wsum", "constant", 1.0, footprint=np.array(True).tolist(), data=[-4]))
    add(gf_case(rng, 0, [], "float64", "npsum", "constant", 1.0, footprint=np.array(False).tolist(), data=[2.0]))
    for shape in ([0], [0, 3], [2, 0], [3, 0, 2]):
        add(gf_case(rng, 0, shape, "float32", "seqsum", "reflect", 0.0, size=3, output_dtype=pick([None, "float64"])))
    # 6. unsigned negative wrap, bool bytes, truncation toward zero, and out-of-range stores (section 1.4)
    weird = [300.0, -300.5, 255.9, -3.7, 2.7, -2.7, 70000.0, 1e10, -1e10, 4e9, -0.5, 0.5, float("nan"), float("inf"), float("-inf"), 3e19]
    for out in ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "bool"]:
        x = np.array(weird)
        cases.append({"id": cid, "input": encode_array(x), "layout": "C", "reducer": "seqsum", "mode": "reflect",
                      "cval": "0.0", "origin": [0], "output_dtype": out, "prealloc": False, "size": [1],
                      "expected": encode_array(ndi.generic_filter(x, r_seqsum, size=1, output=np.dtype(out)))})
        cid += 1
    x = np.array([-3.7, 2.5, 1e19, 1.8446744073709550e19, 9.3e18, -5.0])
    cases.append({"id": cid, "input": encode_array(x), "layout": "C", "reducer": "seqsum", "mode": "reflect",
                  "cval": "0.0", "origin": [0], "output_dtype": "uint64", "prealloc": False, "size": [1],
                  "expected": encode_array(ndi.generic_filter(x, r_seqsum, size=1, output=np.uint64))})
    return cases


def make_generic_filter1d_cases(rng):
    cases = []
    pick = lambda seq: seq[int(rng.integers(0, len(seq)))]

    def line_fn(kind, fs):
        def f(inp, out):
            n = len(out)
            assert len(inp) == n + fs - 1
            for i in range(n):
                if kind == "wwin":
                    s = 0.0
                    for j in range(fs):
                        s += inp[i + j] * weight(j)
                    out[i] = s
                else:  # "ends": exposes the whole extended line
                    out[i] = inp[i] - 2.0 * inp[len(inp) - 1 - i]
        return f

    cid = 0
    while len(cases) < 100:
        rank = int(rng.integers(1, 4))
        shape = [int(rng.integers(1, 7)) for _ in range(rank)]
        if rng.random() < 0.05:
            shape[int(rng.integers(0, rank))] = 0
        dtype = pick(["float64", "float32", "int16", "uint8", "int32"])
        axis = int(rng.integers(-rank, rank))
        fs = int(rng.integers(1, 7)) if rng.random() < 0.8 else int(rng.integers(7, 15))
        origin = int(rng.integers(-(fs // 2), (fs - 1) - fs // 2 + 1))
        mode = pick(MODES)
        cval = pick([0.0, -1.5, 4.0, float("nan")])
        kind = pick(["wwin", "ends"])
        out = pick([None, "float64", "int32", "float32"])
        x = random_input(rng, shape, dtype)
        floats = ndi.generic_filter1d(x.astype(np.float64), line_fn(kind, fs), fs, axis=axis, mode=mode, cval=cval,
                                      origin=origin, output=np.float64)
        out_dtype = np.dtype(out) if out else x.dtype
        if not in_defined_range(floats, out_dtype) or (out_dtype.kind == "u" and np.any(floats < 0)):
            continue
        kw = dict(axis=axis, mode=mode, cval=cval, origin=origin)
        if out:
            kw["output"] = np.dtype(out)
        raw = ndi.generic_filter1d(x, line_fn(kind, fs), fs, **kw)
        cases.append({"id": cid, "input": encode_array(x), "kind": kind, "filter_size": fs, "axis": axis, "mode": mode,
                      "cval": num(cval), "origin": origin, "output_dtype": out, "expected": encode_array(raw)})
        cid += 1
    return cases


def write_npy_files():
    folder = os.path.join(ROOT, "npy")
    os.makedirs(folder, exist_ok=True)
    index = []
    rng = np.random.default_rng(SEED + 1)
    from numpy.lib import format as npformat
    for dtype in DTYPES:
        for order in ("C", "F"):
            for endian in ("<", ">"):
                for shape in ([2, 3], [4], [], [2, 0], [3, 2, 2]):
                    if np.dtype(dtype).itemsize == 1 and endian == ">":
                        continue
                    base = random_input(rng, shape, dtype) if shape else np.array(random_input(rng, [1], dtype)[0])
                    if np.dtype(dtype).kind == "f":
                        base = np.nan_to_num(base)
                    dt = np.dtype(dtype).newbyteorder(endian) if np.dtype(dtype).itemsize > 1 else np.dtype(dtype)
                    arr = np.asarray(base, dtype=dt)
                    if arr.ndim > 0:  # ascontiguousarray would make a 0-d array 1-d
                        arr = np.asfortranarray(arr) if order == "F" else np.ascontiguousarray(arr)
                    name = f"{dtype}_{order}_{'be' if endian == '>' else 'le'}_{'x'.join(map(str, shape)) or 'scalar'}.npy"
                    np.save(os.path.join(folder, name), arr)
                    index.append({"file": name, "expected": encode_array(np.asarray(base, dtype=dtype))})
    # versions 2.0 and 3.0
    for version in ((2, 0), (3, 0)):
        arr = np.arange(6, dtype="<i4").reshape(2, 3)
        name = f"version{version[0]}.npy"
        with open(os.path.join(folder, name), "wb") as fh:
            npformat.write_array(fh, arr, version=version)
        index.append({"file": name, "expected": encode_array(arr)})
    with open(os.path.join(folder, "index.json"), "w") as fh:
        json.dump(index, fh, indent=0)


def write_bad_npy_files():
    folder = os.path.join(ROOT, "npy_bad")
    os.makedirs(folder, exist_ok=True)

    def header(d, version=1):
        text = d.encode("latin1")
        pad = (64 - (10 + len(text) + 1) % 64) % 64
        text = text + b" " * pad + b"\n"
        return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<H", len(text)) + text

    good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
    cases = {
        "bad_magic.npy": (b"\x93NUMPX\x01\x00" + header(good)[8:] + b"\0" * 16, "bad magic"),
        "empty.npy": (b"", "bad magic"),
        "bad_version.npy": (b"\x93NUMPY\x07\x00" + header(good)[8:] + b"\0" * 16, "unsupported format version"),
        "truncated_header.npy": (header(good)[:30], "truncated header"),
        "truncated_data.npy": (header(good) + b"\0" * 9, "truncated data"),
        "extra_data.npy": (header(good) + b"\0" * 24, "shape/data mismatch"),
        "huge_header.npy": (b"\x93NUMPY\x02\x00" + struct.pack("<I", 0x7FFFFFF0) + b"{}", "too large"),
        "not_a_dict.npy": (header("[1, 2, 3]") + b"", "not a dictionary"),
        "missing_shape.npy": (header("{'descr': '<f8', 'fortran_order': False, }"), "needs the keys"),
        "bad_shape.npy": (header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -1), }"), "non-negative"),
        "garbage_header.npy": (header("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }"), "unexpected character"),
        "complex.npy": (header("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }") + b"\0" * 16, "complex"),
        "float16.npy": (header("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }") + b"\0" * 2, "float16"),
        "object.npy": (header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }") + b"\0" * 8, "object"),
        "strings.npy": (header("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }") + b"\0" * 12, "string"),
        "structured.npy": (header("{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }") + b"\0" * 12, "structured"),
        "overflow_shape.npy": (header("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"), "overflow"),
        "huge_shape.npy": (header("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }"), "out of range"),
    }
    index = []
    for name, (data, message) in cases.items():
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(data)
        index.append({"file": name, "message": message})
    with open(os.path.join(folder, "index.json"), "w") as fh:
        json.dump(index, fh, indent=0)


def write_png_files():
    try:
        from PIL import Image
    except ImportError:
        os.system(f"{sys.executable} -m pip install pillow")
        from PIL import Image
    folder = os.path.join(ROOT, "png")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(SEED + 2)
    index = []

    def save(name, image, expected, **kw):
        image.save(os.path.join(folder, name), **kw)
        index.append({"file": name, "expected": encode_array(expected)})

    h, w = 5, 7
    grey = rng.integers(0, 256, (h, w), dtype=np.uint8)
    save("grey8.png", Image.fromarray(grey, "L"), grey)
    grey16 = rng.integers(0, 65536, (h, w)).astype(np.uint16)
    im16 = Image.fromarray(grey16.astype(np.uint16))  # mode I;16
    save("grey16.png", im16, grey16)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    im = Image.fromarray(rgb, "RGB")
    save("rgb8.png", im, np.asarray(im.convert("L")))
    rgba = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    im = Image.fromarray(rgba, "RGBA")
    save("rgba8.png", im, np.asarray(im.convert("L")))
    la = rng.integers(0, 256, (h, w, 2), dtype=np.uint8)
    im = Image.fromarray(la, "LA")
    save("la8.png", im, np.asarray(im.convert("L")))
    pal = Image.fromarray(rgb, "RGB").quantize(colors=16)
    save("palette.png", pal, np.asarray(pal.convert("L")))
    pal_t = pal.copy()
    pal_t.info["transparency"] = 3
    save("palette_transparent.png", pal_t, np.asarray(pal.convert("L")), transparency=3)
    for bits in (1, 2, 4):
        levels = 2 ** bits
        values = rng.integers(0, levels, (h, w)).astype(np.uint8)
        scaled = (values * (255 // (levels - 1))).astype(np.uint8)
        im = Image.fromarray(scaled, "L")
        if bits == 1:
            im = im.convert("1")
            save("grey1.png", im, np.asarray(im.convert("L")))
        else:
            save(f"grey{bits}.png", im, np.asarray(Image.open(_tmp_save(im, bits)).convert("L")), bits=bits)
    # 16-bit colour and alpha, and a gAMA chunk, which Pillow cannot write: a minimal encoder.
    def grey601(rgb):
        rgb = rgb.astype(np.int64)
        return ((rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16)
    rgb16 = rng.integers(0, 65536, (h, w, 3)).astype(np.uint16)
    _raw_png(os.path.join(folder, "rgb16.png"), rgb16, 16, 2)
    index.append({"file": "rgb16.png", "expected": encode_array(grey601(rgb16).astype(np.uint16))})
    rgba16 = rng.integers(0, 65536, (h, w, 4)).astype(np.uint16)
    _raw_png(os.path.join(folder, "rgba16.png"), rgba16, 16, 6)
    index.append({"file": "rgba16.png", "expected": encode_array(grey601(rgba16).astype(np.uint16))})
    la16 = rng.integers(0, 65536, (h, w, 2)).astype(np.uint16)
    _raw_png(os.path.join(folder, "la16.png"), la16, 16, 4)
    index.append({"file": "la16.png", "expected": encode_array(la16[..., 0])})
    g8 = rng.integers(0, 256, (h, w)).astype(np.uint8)
    _raw_png(os.path.join(folder, "grey8_gamma.png"), g8[..., None], 8, 0, gamma=100000)
    index.append({"file": "grey8_gamma.png", "expected": encode_array(g8)})
    with open(os.path.join(folder, "index.json"), "w") as fh:
        json.dump(index, fh, indent=0)
    # Check Pillow reads back what we claim for the files it wrote.
    for entry in index:
        if entry["file"] in ("rgb16.png", "rgba16.png", "la16.png"):
            continue  # Pillow reduces 16-bit colour to 8 bits
        got = np.asarray(Image.open(os.path.join(folder, entry["file"])).convert("L" if "16" not in entry["file"] else "I;16"))
        assert encode_array(got.astype(entry["expected"]["dtype"]))["data"] == entry["expected"]["data"], entry["file"]


def _raw_png(path, samples, bit_depth, colour_type, gamma=None):
    """Writes a non-interlaced PNG from an (h, w, channels) array, samples stored big-endian."""
    import zlib
    height, width = samples.shape[:2]
    dtype = ">u2" if bit_depth == 16 else "u1"
    rows = b"".join(b"\x00" + samples[y].astype(dtype).tobytes() for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
    if gamma is not None:
        body += chunk(b"gAMA", struct.pack(">I", gamma))
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + body + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _tmp_save(im, bits):
    import io
    buf = io.BytesIO()
    im.save(buf, format="PNG", bits=bits)
    buf.seek(0)
    return buf


def main():
    print(f"seed {SEED}")
    rng = np.random.default_rng(SEED)
    os.makedirs(ROOT, exist_ok=True)
    gf = make_generic_filter_cases(rng)
    with open(os.path.join(ROOT, "generic_filter_cases.json"), "w") as fh:
        json.dump(gf, fh, separators=(",", ":"))
    g1 = make_generic_filter1d_cases(rng)
    with open(os.path.join(ROOT, "generic_filter1d_cases.json"), "w") as fh:
        json.dump(g1, fh, separators=(",", ":"))
    write_npy_files()
    write_bad_npy_files()
    write_png_files()
    print(f"{len(gf)} generic_filter cases, {len(g1)} generic_filter1d cases")


if __name__ == "__main__":
    main()
