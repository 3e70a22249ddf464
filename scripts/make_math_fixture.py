#!/usr/bin/env python3
"""Writes Tests/Fixtures/jit/math-hard-cases.json: hard cases of every `math` function the language has,
from CPython on this machine (issue 13's audit of the math functions beside hypot).

Per function: IEEE specials (signed zeros, infinities, NaN, subnormals, the largest double), the edges
where results overflow or underflow, arguments where the result is exact or nearly so (log2 of powers of
two, asin of 1), large trigonometric arguments whose reduction is hard, and seeded random draws over the
function's domain. The expectation is CPython's `math.NAME` result; where CPython raises (ValueError for a
domain error, OverflowError), the language gives NumPy's IEEE result instead (spec: "Where Python would
raise on floats, NumPy's IEEE result is used"), taken from the C library's function, and the case records
which exception CPython raised.

Run: python3 scripts/make_math_fixture.py   (from the repository root; writes the file and prints a summary)
"""
import ctypes
import json
import math
import os
import random
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "jit", "math-hard-cases.json")
SEED = 20261205

libm = ctypes.CDLL("libm.so.6")
UNARY = ["exp", "log", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
         "sqrt", "fabs"]
BINARY = ["atan2", "copysign", "pow", "hypot"]
for name in UNARY:
    getattr(libm, name).restype = ctypes.c_double
    getattr(libm, name).argtypes = [ctypes.c_double]
for name in BINARY:
    getattr(libm, name).restype = ctypes.c_double
    getattr(libm, name).argtypes = [ctypes.c_double, ctypes.c_double]


def bits(x):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def neighbours(x):
    """x and the doubles either side of it."""
    return [math.nextafter(x, -math.inf), x, math.nextafter(x, math.inf)]


SPECIALS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 5e-324, -5e-324, 2.2250738585072014e-308,
            -2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308, 1e-300, 1e300,
            math.inf, -math.inf, math.nan]
PI_MULTIPLES = [k * math.pi / 4 for k in range(-16, 17)] + [math.pi, math.pi / 2, 2 * math.pi]
HUGE_ANGLES = [1e22, -1e22, 2.0 ** 1023, 6381956970095103 * 2.0 ** 797, 5.319372648326541e+255, 1e15 + 0.3,
               3.0 ** 30, 710.0, 1e6 * math.pi]
EDGES = {
    "exp": neighbours(709.782712893384) + neighbours(-745.1332191019411) + neighbours(-708.3964185322641)
           + [1e-17, -1e-17, 0.693147180559945, 88.72283905206835, 1e3, -1e3],
    "log": neighbours(1.0) + [math.e, 10.0, 2.0 ** -1074, 2.0 ** 1023, 0.9999999999999999],
    "log2": [2.0 ** k for k in range(-1074, 1024, 97)] + neighbours(1.0) + [3.0, 10.0],
    "log10": [10.0 ** k for k in range(-300, 301, 37)] + neighbours(1.0) + [1e23, 1e22],
    "asin": neighbours(1.0) + neighbours(-1.0) + [0.5, 1e-9, 0.7071067811865476],
    "acos": neighbours(1.0) + neighbours(-1.0) + [0.5, 1e-9, 0.7071067811865476],
    "atan": [1e16, -1e16, 1e-16, 0.4142135623730951, 2.414213562373095],
    "sinh": neighbours(710.4758600739439) + neighbours(-710.4758600739439) + [1e-9, 22.0, 0.5],
    "cosh": neighbours(710.4758600739439) + neighbours(-710.4758600739439) + [1e-9, 22.0, 0.5],
    "tanh": [19.06154746539849, 22.0, -22.0, 1e-9, 0.55, 0.5493061443340549],
    "sqrt": [2.0 ** -1074, 2.0 ** 1023, 2.0, 3.0, 0.25, -4.0, -5e-324],
    "fabs": [],
}
for trig in ("sin", "cos", "tan"):
    EDGES[trig] = PI_MULTIPLES + HUGE_ANGLES + [1e-9, 1e-300, 0.5, 1.5707963267948966]


def unary_draws(name, rng):
    if name in ("asin", "acos"):
        return [rng.uniform(-1, 1) for _ in range(60)]
    if name in ("log", "log2", "log10", "sqrt"):
        return [math.ldexp(rng.random(), rng.randint(-1074, 1024)) for _ in range(60)]
    if name in ("exp", "sinh", "cosh"):
        return [rng.uniform(-750, 750) for _ in range(60)]
    return [rng.uniform(-1, 1) * math.ldexp(1.0, rng.randint(-60, 60)) for _ in range(60)]


def evaluate(name, arguments):
    """CPython's result, or the C library's where CPython raises; and the exception's name."""
    try:
        return getattr(math, name)(*arguments), None
    except (ValueError, OverflowError) as error:
        return getattr(libm, name)(*arguments), type(error).__name__


def main():
    rng = random.Random(SEED)
    cases = []
    raised = 0
    for name in UNARY:
        inputs = SPECIALS + EDGES[name] + unary_draws(name, rng)
        for x in inputs:
            result, error = evaluate(name, [x])
            raised += error is not None
            cases.append({"function": name, "arguments": [bits(x)], "result": bits(result), "cpython_raises": error})
    binary_specials = [0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 3.0, -3.0, 1e308, 5e-324, math.inf, -math.inf, math.nan]
    for name in BINARY:
        pairs = [(a, b) for a in binary_specials for b in binary_specials]
        if name == "pow":
            pairs += [(-8.0, 1 / 3), (2.0, 1024.0), (2.0, 1023.0), (-2.0, 1023.0), (10.0, -400.0), (0.0, -1.0),
                      (-0.0, -3.0), (-0.0, -2.0), (1.0000000000000002, 1e16), (0.5, 1075.0), (-1.0, 1e300),
                      (2.0, -1074.0), (2.0, -1075.0), (math.e, 709.0)]
            pairs += [(rng.uniform(0, 10), rng.uniform(-50, 50)) for _ in range(60)]
        elif name == "atan2":
            pairs += [(rng.uniform(-1, 1) * 10.0 ** rng.randint(-20, 20), rng.uniform(-1, 1) * 10.0 ** rng.randint(-20, 20))
                      for _ in range(60)]
        else:
            pairs += [(rng.uniform(-1e6, 1e6), rng.uniform(-1e6, 1e6)) for _ in range(30)]
        for a, b in pairs:
            result, error = evaluate(name, [a, b])
            raised += error is not None
            cases.append({"function": name, "arguments": [bits(a), bits(b)], "result": bits(result), "cpython_raises": error})
    with open(OUT, "w") as f:
        header = json.dumps({"generator": "scripts/make_math_fixture.py", "seed": SEED, "python": sys.version.split()[0]})
        f.write(header[:-1] + ', "cases": [\n')
        f.write(",\n".join(json.dumps(case) for case in cases))
        f.write("\n]}\n")
    print("wrote %d cases (%d where CPython raises) for %d functions to %s"
          % (len(cases), raised, len(UNARY) + len(BINARY), os.path.relpath(OUT, ROOT)))


if __name__ == "__main__":
    main()
