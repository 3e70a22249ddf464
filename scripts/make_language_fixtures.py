#!/usr/bin/env python3
"""Writes the language fixtures Tests/Fixtures/programs/*.filter and the numerics fixture
Tests/Fixtures/programs/numerics/numpy-reductions.txt
(kept out of the test target's folder so SwiftPM does not warn about an unhandled file).

Each program below is run in CPython 3.11 with NumPy, with the language's bare names bound to
their NumPy / math meaning (see `namespace()`); a Python exception gives the expectation "error".
Where the language deliberately differs from CPython (IEEE float division by zero, 64-bit int wrap,
NumPy float // and % by zero, sorted() with NaN, the local-array size limit ...), the case carries
a hand-written expectation with the reason, and the fixture marks it `# case (by hand: REASON):`.

Fixture format (one program per file, the expectations in comments at the top):
    # kind: filter | line_filter | transform
    # function: NAME                        (optional: the kernel to compile; default the last def)
    # case: values=[1.0, nan] params=[0.5] -> 1.0
    # case: line=[1.0, 2.0, 3.0] out=2 -> [1.0, 2.0]
    # case: out_coords=[1, 2] in_rank=2 -> [0.5, 1.0]
    # case (by hand: REASON): values=[0.0] -> inf
Results: a float, a list of floats, or `error`. A result prefixed by `~` accepts either zero
where the expectation is a zero (np.min / np.max / median may give -0.0 or +0.0).
Floats are Python `repr`s (round-trip exact), plus `nan`, `inf`, `-inf`, `-0.0`.

Run: python3 scripts/make_language_fixtures.py   (from the repository root)
"""
import ctypes
import inspect
import math
import os
import random
import struct
import sys
import types
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAM_DIR = os.path.join(ROOT, "Tests", "Fixtures", "programs")
NUMERICS_FILE = os.path.join(ROOT, "Tests", "Fixtures", "programs", "numerics", "numpy-reductions.txt")

inf, nan = math.inf, math.nan
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# The language calls glibc's libm (as the JIT does); NumPy's SIMD sin/exp/log may differ by an ulp,
# and Python's math raises where libm returns NaN or inf. So the float functions are libm's own.
_libm = ctypes.CDLL("libm.so.6")


def _c(name, arity=1):
    fn = getattr(_libm, name)
    fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.c_double] * arity

    def call(*args):
        # On arrays (issue 13's element-wise np.sqrt(a), np.log2(a) ...), libm element by element,
        # with NumPy's broadcasting, as the language does.
        if any(isinstance(a, np.ndarray) for a in args):
            arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in args])
            return np.array([fn(*[float(a) for a in xs]) for xs in zip(*[a.ravel() for a in arrays])],
                            dtype=np.float64).reshape(arrays[0].shape)
        return fn(*[float(a) for a in args])
    return call


LIBM1 = {n: _c(n) for n in ["sqrt", "exp", "log", "log2", "log10", "sin", "cos", "tan", "asin", "acos",
                            "atan", "sinh", "cosh", "tanh", "floor", "ceil", "trunc"]}
LIBM2 = {n: _c(n, 2) for n in ["atan2", "hypot", "copysign", "pow"]}


def checked_int(x):
    """int() of a number, as the language does: beyond 64 bits is an error (Python would give a big int)."""
    r = int(x)
    if not INT64_MIN <= r <= INT64_MAX:
        raise OverflowError("beyond 64 bits")
    return r


def namespace():
    """The names a program sees when run in Python, bound to the language's meaning."""
    m = types.SimpleNamespace(**LIBM1, **LIBM2)
    m.floor = lambda x: checked_int(math.floor(x))
    m.ceil = lambda x: checked_int(math.ceil(x))
    m.trunc = lambda x: checked_int(math.trunc(x))
    m.isnan, m.isinf, m.isfinite = math.isnan, math.isinf, math.isfinite
    m.hypot = math.hypot  # CPython 3.8+ computes hypot more accurately than libm (issue 13)
    m.inf, m.nan, m.pi, m.e = math.inf, math.nan, math.pi, math.e

    class NP:
        def __getattr__(self, name):
            return getattr(np, name)
    n = NP()
    for name, fn in LIBM1.items():
        if name not in ("floor", "ceil", "trunc"):
            setattr(n, name, fn)
    n.power = LIBM2["pow"]
    for name in ("atan2", "hypot", "copysign"):
        setattr(n, name, LIBM2[name])
    n.empty = np.zeros  # unspecified contents in NumPy; zero-filled in the language

    ns = dict(np=n, math=m, inf=inf, nan=nan, pi=math.pi,
              mean=np.mean, median=np.median, var=np.var, std=np.std, prod=np.prod,
              argmin=np.argmin, argmax=np.argmax, clip=np.clip,
              floor=m.floor, ceil=m.ceil, trunc=m.trunc,
              round=lambda x: checked_int(round(x)), int=checked_int,
              isnan=math.isnan, isinf=math.isinf, isfinite=math.isfinite)
    ns.update(LIBM2)
    ns["hypot"] = math.hypot  # bare hypot is math's: CPython's algorithm; np.hypot stays libm's
    ns["pow"] = pow  # bare pow is **
    for name in ("sqrt", "exp", "log", "log2", "log10", "sin", "cos", "tan", "asin", "acos", "atan",
                 "sinh", "cosh", "tanh"):
        ns[name] = LIBM1[name]
    identity = lambda f: f  # noqa: E731
    aliases = dict(jit_filter_function=identity, jit_filter1d_function=identity, jit_geometric_function=identity)
    for deco in ("filter", "line_filter", "transform"):
        ns[deco] = identity
    ns.update(aliases)
    ns["llc"] = types.SimpleNamespace(**aliases)
    ns["filterjit"] = types.SimpleNamespace(**aliases)
    return ns


def fmt(x):
    """A round-trip-exact float token."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def fmt_list(xs, as_int=False):
    return "[" + ", ".join(str(int(v)) if as_int else fmt(v) for v in xs) + "]"


def python_run(src, kind, args, params, function=None):
    """Runs the program as Python; returns a float, a list of floats, or 'error'."""
    code = "\n".join(line for line in src.splitlines()
                     if not line.startswith(("import ", "from ")))
    # `int` is bound to the checked conversion below, which NumPy cannot take as a dtype.
    code = code.replace(".astype(int)", ".astype(np.int64)")
    ns = namespace()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            if "def " not in code:
                return float(eval(code.strip(), ns, {"values": np.array(args, dtype=np.float64)}))
            exec(code, ns)
            names = [n for n in ns if isinstance(ns[n], types.FunctionType) and ns[n].__code__.co_filename == "<string>"]
            fn = ns[function] if function else ns[names[-1]]
            sig = list(inspect.signature(fn).parameters.values())
            n_arrays = 1 if kind == "filter" else 2
            extra = []
            for p, v in zip(sig[n_arrays:], params):
                if isinstance(p.default, (bool, int)):
                    if not math.isfinite(v) or not -2.0**63 <= v < 2.0**63:
                        return "error"
                    extra.append(int(v))
                else:
                    extra.append(float(v))
            if kind == "filter":
                return float(fn(np.array(args, dtype=np.float64), *extra))
            if kind == "line_filter":
                line, n_out = args
                out = np.zeros(n_out)
                fn(np.array(line, dtype=np.float64), out, *extra)
                return [float(v) for v in out]
            coords, rank = args
            inc = np.zeros(rank)
            fn(np.array(coords, dtype=np.int64), inc, *extra)
            return [float(v) for v in inc]
        except (ArithmeticError, ValueError, IndexError, TypeError, OverflowError) as error:
            return "error"


def fmt_result(r, either_zero=False):
    if r == "error":
        return "error"
    prefix = ""
    if either_zero and (r == 0.0 if not isinstance(r, list) else any(v == 0.0 for v in r)):
        prefix = "~"
    if isinstance(r, list):
        return prefix + fmt_list(r)
    return prefix + fmt(r)


def same(a, b):
    if a == "error" or b == "error":
        return a == b
    if isinstance(a, list) != isinstance(b, list):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))


# ---------------------------------------------------------------------------------------------
# The programs. Each: (file name, kind, source, cases, options). A case is
#   filter:      (values, params)                    or (values, params, hand_result, reason)
#   line_filter: ((line, out_length), params)        ...
#   transform:   ((out_coords, in_rank), params)     ...
# options: "function" (kernel name), "either_zero" (±0 results equal).

SPECIAL = [1.0, -2.5, nan, inf, -inf, 0.0, -0.0, 1e308, 5e-324, 3.0]
RAND = random.Random(20261128)


def rvals(n):
    return [RAND.choice([RAND.uniform(-10, 10), RAND.randint(-5, 5) * 1.0, RAND.uniform(-1e3, 1e3)]) for _ in range(n)]


BUFS = [[1.0, 2.0, 3.0], [3.0, -1.0, 2.0, -1.0], [nan, 1.0, 2.0], [1.0, nan, 0.5], [inf, -inf, 1.0],
        [], [0.5], [-0.0, 0.0], [1e308, 1e308, -1e308], [5e-324, 1e-310, -5e-324], rvals(9), rvals(17),
        [2.0, 2.0, 1.0, 1.0, 3.0, 3.0]]

PROGRAMS = []


def program(name, kind, src, cases, **options):
    PROGRAMS.append((name, kind, inspect.cleandoc(src) + "\n", cases, options))


def each(bufs, params=()):
    return [(b, list(params)) for b in bufs]


# --- reductions, one per built-in ------------------------------------------------------------
for name, expr, ez in [
    ("py_min", "min(values)", False), ("py_max", "max(values)", False), ("py_sum", "sum(values)", False),
    ("np_min", "np.min(values)", True), ("np_max", "np.max(values)", True), ("np_sum", "np.sum(values)", False),
    ("method_sum", "values.sum()", False), ("prod", "prod(values)", False), ("np_prod", "np.prod(values)", False),
    ("mean", "mean(values)", False), ("np_mean", "np.mean(values)", False), ("median", "median(values)", True),
    ("var", "var(values)", False), ("std", "np.std(values)", False), ("method_var", "values.var()", False),
    ("argmin", "argmin(values)", False), ("argmax", "np.argmax(values)", False),
    ("any", "1.0 if any(values) else 0.0", False), ("all", "1.0 if np.all(values) else 0.0", False),
    ("nanmin", "np.nanmin(values)", True), ("nanmax", "np.nanmax(values)", True),
    ("nansum", "np.nansum(values)", False), ("nanmean", "np.nanmean(values)", False),
    ("nanmedian", "np.nanmedian(values)", True), ("len", "len(values) + values.size * 10 + values.shape[0] * 100", False),
    ("method_minmax", "values.min() + values.max() * 2", True), ("method_mean_std", "values.mean() - values.std()", False),
    ("method_prod", "values.prod()", False), ("method_argminmax", "values.argmin() * 10 + values.argmax()", False),
]:
    program(f"reduce_{name}", "filter", expr, each(BUFS), either_zero=ez)

program("percentile", "filter", """
    def f(values, q=50.0):
        return np.percentile(values, q)
    """, [(b, [q]) for b in ([1.0, 2.0, 3.0, 4.0], [3.0, 1.0, 2.0], [inf, 1.0], [1.0, nan], [7.5], [-inf, inf, 0.0],
                              rvals(10), [1e308, -1e308, 2.0])
           for q in (0.0, 12.5, 50.0, 99.9, 100.0)] + [([1.0, 2.0], [100.5]), ([1.0, 2.0], [-1.0]), ([], [50.0]),
                                                      ([1.0, 2.0], [nan])])
program("quantile", "filter", """
    def f(values, q=0.5):
        return np.quantile(values, q)
    """, [(b, [q]) for b in ([1.0, 2.0, 3.0, 4.0], rvals(7), [inf], [-inf, 5.0, 6.0]) for q in (0.0, 0.3, 0.5, 0.75, 1.0)]
    + [([1.0], [1.5])])

# --- scalar built-ins -----------------------------------------------------------------------
for name, expr in [("sqrt", "sqrt(x)"), ("exp", "exp(x)"), ("log", "log(x)"), ("log2", "math.log2(x)"),
                   ("log10", "np.log10(x)"), ("sin", "sin(x)"), ("cos", "math.cos(x)"), ("tan", "tan(x)"),
                   ("asin", "asin(x)"), ("acos", "acos(x)"), ("atan", "atan(x)"), ("sinh", "sinh(x)"),
                   ("cosh", "cosh(x)"), ("tanh", "np.tanh(x)"), ("abs", "abs(x)"), ("np_floor", "np.floor(x)"),
                   ("np_ceil", "np.ceil(x)"), ("np_trunc", "np.trunc(x)"), ("np_round", "np.round(x)"),
                   ("np_rint", "np.rint(x)"),
                   ("isnan", "1.0 if isnan(x) else 0.0"), ("isinf", "1.0 if math.isinf(x) else 0.0"),
                   ("isfinite", "1.0 if isfinite(x) else 0.0"), ("float", "float(x) * 2")]:
    program(f"scalar_{name}", "filter", f"""
        def f(values):
            x = values[0]
            return {expr}
        """, each([[v] for v in [0.5, -0.5, 2.5, -3.5, 0.0, -0.0, 1e300, -1e-300, 710.0, nan, inf, -inf]]))

for name, expr in [("floor", "floor(x)"), ("ceil", "math.ceil(x)"), ("trunc", "trunc(x)"), ("round", "round(x)"),
                   ("int", "int(x)")]:
    program(f"toint_{name}", "filter", f"""
        def f(values):
            x = values[0]
            return {expr} + 1
        """, each([[v] for v in [2.5, -2.5, 3.5, -0.5, 0.49999999999999994, 1e15 + 0.5, 9.2e18, -9.223372036854775808e18,
                                 9.223372036854775808e18, nan, inf, -inf]]))

for name, expr in [("atan2", "atan2(x, y)"), ("hypot", "math.hypot(x, y)"), ("copysign", "copysign(x, y)"),
                   ("math_pow", "math.pow(x, y)"), ("minimum", "np.minimum(x, y)"), ("maximum", "np.maximum(x, y)"),
                   ("fmin", "np.fmin(x, y)"), ("fmax", "np.fmax(x, y)"), ("min_of", "min(x, y, 0.25)"),
                   ("max_of", "max(y, x)"), ("clip", "clip(x, -1.0, y)"), ("np_clip", "np.clip(y, x, 2.0)")]:
    program(f"binary_{name}", "filter", f"""
        def f(values):
            x = values[0]
            y = values[1]
            return {expr}
        """, each([[1.0, 2.0], [-3.0, 0.5], [nan, 1.0], [1.0, nan], [inf, -inf], [-0.0, 0.0], [0.0, -0.0],
                   [2.0, 0.5], [-8.0, 1.0 / 3.0], [0.0, -1.0]]), either_zero=name in ("minimum", "maximum", "fmin", "fmax"))

# --- operators -------------------------------------------------------------------------------
FLOAT_PAIRS = [[7.0, 2.0], [-7.0, 2.0], [7.0, -2.0], [-7.0, -2.0], [1.0, 0.1], [0.5, 0.0], [-0.5, 0.0], [0.0, 0.0],
               [nan, 2.0], [inf, 2.0], [2.0, inf], [-2.0, inf], [1e308, 1e-308], [-0.0, 3.0], [5e-324, 2.0]]
for name, op in [("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/"), ("floordiv", "//"), ("mod", "%"),
                 ("pow", "**")]:
    cases = []
    for pair in FLOAT_PAIRS:
        a, b = pair
        hand = None
        if b == 0.0 and op in ("/", "//", "%"):
            # values[i] are np.float64 in Python, so NumPy's IEEE answer is what Python gives too;
            # written here as the language defines it (TypedIR: trueDivide IEEE, npy_floor_divide, fmod).
            hand = {"/": a / b if False else (math.copysign(inf, a) * math.copysign(1, b) if a != 0 and not math.isnan(a) else nan),
                    "//": (math.copysign(inf, a) * math.copysign(1, b) if a != 0 and not math.isnan(a) else nan),
                    "%": nan}[op]
        cases.append((pair, [], hand, "NumPy IEEE result for a zero divisor") if hand is not None else (pair, []))
    program(f"float_{name}", "filter", f"""
        def f(values):
            return values[0] {op} values[1]
        """, cases)

INT_PAIRS = [(7, 2), (-7, 2), (7, -2), (-7, -2), (0, 5), (5, 0), (2**62, 2**62), (INT64_MIN, -1), (INT64_MIN, 3),
             (3, 40), (-3, 0)]


def wrap(v):
    return (v + 2**63) % 2**64 - 2**63


for name, op in [("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/"), ("floordiv", "//"), ("mod", "%")]:
    cases = []
    for a, b in INT_PAIRS:
        # The ints are parameters (their default is an int), so the language's 64-bit int arithmetic applies.
        try:
            exact = {"+": a + b, "-": a - b, "*": a * b, "/": None, "//": a // b if b else None, "%": a % b if b else None}[op]
        except ZeroDivisionError:
            exact = None
        if op == "/" and b == 0:
            cases.append(([], [float(a), float(b)], math.copysign(inf, a) if a else nan, "IEEE division: int / 0 is float division"))
        elif exact is not None and wrap(exact) != exact:
            cases.append(([], [float(a), float(b)], float(wrap(exact)), "64-bit int wrap"))
        else:
            cases.append(([], [float(a), float(b)]))
    program(f"int_{name}", "filter", f"""
        def f(values, a=1, b=1):
            return a {op} b
        """, cases)

program("int_pow_literal", "filter", """
    def f(values, a=3):
        return a ** 3 + a ** 0 + (a ** 40) % 1000
    """, [([], [v]) for v in (2.0, 0.0)] + [([], [-3.0], float(wrap(-27 + 1 + wrap(3**40) % 1000)), "64-bit int wrap"),([], [3.0], float(wrap(27 + 1 + wrap(3**40) % 1000)), "64-bit int wrap"),
                                                    ([], [2.0**62], float(wrap(wrap(2**186) + 1 + wrap(2**(62 * 40)) % 1000)), "64-bit int wrap")])
program("int_pow_negative_is_float", "filter", """
    def f(values, a=2, b=-2):
        return a ** b
    """, [([], [2.0, -2.0]), ([], [0.0, 3.0]), ([], [-2.0, 3.0]), ([], [10.0, -1.0])])
program("int_negate_abs_wrap", "filter", """
    def f(values, a=1):
        b = -a
        c = abs(a)
        return b * 0.5 + c
    """, [([], [5.0]), ([], [-7.0]), ([], [-9.223372036854775808e18], -(-2.0**63) * 0.5 * -1 + (-2.0**63), "64-bit int wrap: -INT64_MIN and abs(INT64_MIN) are INT64_MIN")])
program("int_param_truncation", "filter", """
    def f(values, k=3, t=0.5, flag=True):
        return k * 1000 + t + flag * 10
    """, [([], []), ([], [2.9, 0.25, 0.0]), ([], [-2.9, -0.0, 7.0]), ([], [nan, 0.0, 1.0]), ([], [inf, 0.0, 1.0]),
          ([], [1e19, 0.0, 1.0]), ([], [1.0, 0.0, -1e19])])
program("float_literals", "filter", """
    def f(values):
        return 3 + 3.0 + .5 + 1e-3 + 2.5e2 + True + np.pi + math.e + np.e + math.pi + pi
    """, [([], [])])
program("float_constants", "filter", """
    def f(values):
        a = float('inf')
        b = float('-inf')
        c = np.inf + math.inf
        d = float('nan')
        if isnan(d) and isnan(np.nan) and isnan(math.nan) and isnan(nan):
            return a + c + (1.0 if b < 0 else 0.0)
        return 0.0
    """, [([], [])])
program("pi_shadowed", "filter", """
    def f(values):
        pi = 3
        return pi * 2
    """, [([], [])])

# --- comparisons, logic ---------------------------------------------------------------------
program("compare_chain", "filter", """
    def f(values):
        x = values[0]
        r = 0.0
        if 0 < x < 1:
            r += 1
        if 0 <= x <= 1 < 2:
            r += 10
        if x == x:
            r += 100
        if x != 0.5:
            r += 1000
        if 1 > x >= -1:
            r += 10000
        return r
    """, each([[0.5], [0.0], [1.0], [-1.0], [nan], [inf], [-0.0]]))
program("compare_int_float", "filter", """
    def f(values, k=2):
        n = 0
        if k < values[0]:
            n += 1
        if k == values[0]:
            n += 2
        if len(values) > k >= 1:
            n += 4
        return n
    """, [([2.0, 1.0, 0.0], [2.0]), ([2.5], [2.0]), ([nan, 1.0], [1.0]), ([9.007199254740993e15], [9.007199254740993e15])])
program("and_or_operands", "filter", """
    def f(values):
        a = values[0]
        b = values[1]
        return (a and b) * 10 + (a or b)
    """, each([[0.0, 2.0], [3.0, 0.0], [3.0, 4.0], [0.0, 0.0], [nan, 5.0], [-0.0, 7.0]]))
program("and_or_mixed", "filter", """
    def f(values, k=0):
        x = k or 2.5
        y = k and 1.5
        return x * 100 + y
    """, [([], [0.0]), ([], [3.0]), ([], [-1.0])])
program("not_and_conditional", "filter", """
    def f(values):
        t = values[0]
        r = 1.0 if not t else 2.0
        s = 3.0 if t > 0 and not isnan(t) else -3.0
        return r * s
    """, each([[0.0], [1.0], [-1.0], [nan]]))
program("short_circuit_guards_index", "filter", """
    def f(values):
        if len(values) > 2 and values[2] > 0:
            return 1.0
        if len(values) == 0 or values[0] < 0:
            return 2.0
        return 3.0
    """, each([[], [1.0], [1.0, 2.0, 3.0], [-1.0], [1.0, 1.0, -1.0]]))

# --- indexing -------------------------------------------------------------------------------
program("negative_index", "filter", """
    def f(values):
        return values[-1] * 100 + values[-len(values)]
    """, each([[1.0, 2.0, 3.0], [4.0], []]))
program("index_out_of_range", "filter", """
    def f(values, i=0):
        return values[i]
    """, [([1.0, 2.0], [1.0]), ([1.0, 2.0], [2.0]), ([1.0, 2.0], [-2.0]), ([1.0, 2.0], [-3.0]), ([], [0.0]),
          ([1.0, 2.0], [9.2e18])])
program("center_pixel", "filter", "values[len(values) // 2] * (sum(values) - values[len(values) // 2])",
        each([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], [nan, 0.0, 1.0]]))

# --- statements ------------------------------------------------------------------------------
program("fmin_loop", "filter", """
    def fmin(values):
        result = np.inf
        for v in values:
            if v < result:
                result = v
        return result
    """, each(BUFS))
program("while_break_continue", "filter", """
    def f(values, limit=10.0):
        i = 0
        total = 0.0
        while True:
            if i >= len(values):
                break
            v = values[i]
            i += 1
            if v < 0:
                continue
            total += v
            if total > limit:
                break
        return total * 1000 + i
    """, [(b, [10.0]) for b in ([1.0, -2.0, 3.0], [5.0, 6.0, 7.0], [], [nan, 1.0], [-1.0, -1.0])] + [([4.0, 4.0, 4.0], [5.0])])
program("for_range_forms", "filter", """
    def f(values, a=0, b=5, s=1):
        t = 0
        for i in range(b):
            t += i
        for i in range(a, b):
            t += 10 * i
        for i in range(a, b, s):
            t += 100 * i
        return t
    """, [([], [0.0, 5.0, 1.0]), ([], [5.0, 0.0, -1.0]), ([], [-3.0, 3.0, 2.0]), ([], [0.0, 5.0, 0.0]),
          ([], [0.0, -2.0, 1.0]), ([], [10.0, 0.0, -3.0])])
program("for_range_variable_reassigned", "filter", """
    def f(values):
        n = 0
        i = -1
        for i in range(4):
            n += i
            i = 100
        return n + i
    """, [([], [])])
program("for_each_break_else_path", "filter", """
    def f(values):
        found = -1
        k = 0
        for v in values:
            if isnan(v):
                found = k
                break
            k += 1
        return found
    """, each([[1.0, nan, nan], [1.0], [], [nan]]))
program("nested_loops", "filter", """
    def f(values):
        c = 0
        for i in range(len(values)):
            for j in range(i + 1, len(values)):
                if values[j] < values[i]:
                    c += 1
                    continue
                if values[j] == values[i]:
                    break
        return c
    """, each([[3.0, 1.0, 2.0], [1.0, 1.0, 0.0], rvals(12), []]))
program("tuple_assignment_swap", "filter", """
    def f(values):
        a, b = values[0], values[1]
        a, b = b, a
        c, d = a + b, a - b
        return c * 10 + d
    """, each([[1.0, 2.0], [5.0, -3.0]]))
program("augmented_assignment", "filter", """
    def f(values, k=7):
        x = values[0]
        x += 1
        x -= 0.5
        x *= 3
        x /= 2
        x //= 0.7
        x %= 5
        x **= 2
        k //= 2
        k %= 3
        k **= 3
        k += 1
        return x * 100 + k
    """, [([2.0], [7.0]), ([-3.25], [-9.0]), ([nan], [7.0])])
program("if_elif_else", "filter", """
    def f(values):
        x = values[0]
        if x < 0:
            return -1
        elif x == 0:
            return 0
        elif x < 10:
            return 1
        else:
            return 2
    """, each([[-5.0], [0.0], [-0.0], [3.0], [10.0], [nan]]))
program("int_float_unification", "filter", """
    def f(values):
        x = 1
        if values[0] > 0:
            x = 2.5
        y = True
        y = y + 2
        return x * y
    """, each([[1.0], [-1.0]]))
program("pass_and_docstring", "filter", '''
    def f(values):
        """Docstring is ignored."""
        s = 0.0
        for v in values:
            pass
            s = s + v
        return s
    ''', each([[1.0, 2.0], []]))
program("integer_overflow_in_loop", "filter", """
    def f(values, k=3):
        x = 1
        for i in range(70):
            x = x * k
        return x
    """, [([], [1.0]), ([], [-1.0]), ([], [2.0], 0.0, "64-bit int wrap"), ([], [3.0], float(wrap(3**70)), "64-bit int wrap")])
program("int_floordiv_mod_by_zero_error", "filter", """
    def f(values, d=0):
        return (7 // d) + (7 % d)
    """, [([], [0.0]), ([], [2.0]), ([], [-2.0])])
program("float_div_by_zero_literals", "filter", """
    def f(values):
        a = 1.0 / 0.0
        b = -1.0 / 0.0
        c = 0.0 / 0.0
        d = 1 / 0
        e = 5.0 // 0.0
        g = 5.0 % 0.0
        return a + b * 0 + (1.0 if isnan(c) else 0.0) + d + (1.0 if isnan(g) else 0.0) + e
    """, [([], [], nan, "IEEE division: 1.0/0.0 is inf (Python raises); inf + (-inf * 0) is nan")])
program("float_div_by_zero_finite", "filter", """
    def f(values):
        a = 1.0 / 0.0
        c = 0.0 / 0.0
        e = -5.0 // 0.0
        g = 5.0 % 0.0
        return a + (1.0 if isnan(c) else 0.0) + (1.0 if isnan(g) else 0.0) + (2.0 if e < 0 else 0.0)
    """, [([], [], inf, "IEEE division and NumPy float // and % by zero (Python raises)")])
program("float_pow_special", "filter", """
    def f(values):
        return values[0] ** values[1]
    """, each([[2.0, 10.0], [2.0, -1.0], [0.0, 0.0], [nan, 0.0], [1.0, nan], [-1.0, inf], [10.0, 400.0]])
    + [([0.0, -1.0], [], inf, "C pow: 0.0 ** -1 is inf"), ([-8.0, 1.0 / 3.0], [], nan, "C pow: negative base, fractional exponent is nan")])
program("int_true_division", "filter", """
    def f(values, a=7, b=2):
        return a / b
    """, [([], [7.0, 2.0]), ([], [-7.0, 2.0]), ([], [1.0, 3.0]), ([], [9.007199254740993e15, 1.0]),
          ([], [7.0, 0.0], inf, "IEEE division: int / 0 is float division"), ([], [0.0, 0.0], nan, "IEEE division: int / 0 is float division")])

# --- helpers and local arrays ------------------------------------------------------------------
program("helper_scalar", "filter", """
    def square(x):
        return x * x

    def f(values):
        return square(values[0]) + square(2)
    """, each([[3.0], [-1.5], [nan]]))
program("helper_with_array_writes", "filter", """
    def fill(a, v):
        for i in range(len(a)):
            a[i] = v * i

    def total(a):
        s = 0.0
        for x in a:
            s += x
        return s

    def f(values):
        buf = np.zeros(len(values))
        fill(buf, values[0])
        return total(buf)
    """, each([[1.0, 2.0, 3.0], [2.5], [nan, 1.0]]))
program("helper_no_return_value", "filter", """
    def bump(a):
        a[0] = a[0] + 1

    def f(values):
        b = values.copy()
        bump(b)
        bump(b)
        return b[0] + values[0]
    """, each([[1.0], [10.0, 3.0]]))
program("local_arrays", "filter", """
    def f(values):
        a = np.zeros(3)
        b = np.ones(2)
        c = np.empty(len(values))
        for i in range(len(values)):
            c[i] = values[i] * 2
        a[-1] = 5
        return np.sum(a) + np.sum(b) * 10 + np.sum(c) * 100
    """, each([[1.0, 2.0], [], [0.5]]))
program("local_array_size_errors", "filter", """
    def f(values, n=3):
        a = np.zeros(n)
        return len(a)
    """, [([], [3.0]), ([], [0.0]), ([], [-1.0]), ([], [1048576.0]),
          ([], [1048577.0], "error", "local arrays above 1,048,576 elements are a run-time error")])
program("local_array_index_error", "filter", """
    def f(values):
        a = np.zeros(2)
        a[len(values)] = 1.0
        return a[0]
    """, each([[1.0], [1.0, 2.0], []]))
program("sorted_copies", "filter", """
    def f(values):
        a = np.sort(values)
        b = sorted(values)
        c = values.copy()
        c.sort()
        r = 0.0
        for i in range(len(a)):
            r = r * 3 + a[i] + b[i] - c[i]
        return r
    """, each([[3.0, 1.0, 2.0], [5.0, -1.0, 0.5, 2.0], []])
    + [([nan, 1.0, 0.0], [], nan, "sorted() puts NaN last as np.sort does (CPython's sorted is unspecified with NaN)")])
program("sorted_nan_last", "filter", """
    def f(values):
        b = sorted(values)
        return b[0] * 10 + b[1]
    """, [([2.0, 1.0], []), ([nan, 3.0, 1.0], [], 13.0, "sorted() puts NaN last (CPython leaves NaN in place)"),
          ([1.0, nan, 0.0], [], 1.0, "sorted() puts NaN last (CPython leaves NaN in place)")])
program("kernel_copy_is_fresh", "filter", """
    def f(values):
        c = values.copy()
        c[0] = 100.0
        return values[0] + c[0]
    """, each([[1.0, 2.0]]))

# --- several defs: kernel chosen by name ------------------------------------------------------
program("named_kernel", "filter", """
    def first(values):
        return values[0]

    def last(values):
        return values[-1]
    """, each([[1.0, 2.0, 3.0]]), function="first")

# --- decorators, imports, int versions of the scalar built-ins ---------------------------------
program("imports_and_alias_decorator", "filter", """
    import numpy as np
    import math
    from math import sqrt

    @jit_filter_function
    def rms(values):
        return sqrt(np.sum(values) / len(values)) if len(values) > 0 else math.nan
    """, each([[1.0, 4.0], [], [-1.0]]))
program("alias_decorator_prefixed", "line_filter", """
    @llc.jit_filter1d_function
    def f(line, out):
        for i in range(len(out)):
            out[i] = line[i] * 3
    """, [(([1.0, 2.0], 2), [])])
program("alias_geometric_prefixed", "transform", """
    @filterjit.jit_geometric_function
    def f(out_coords, in_coords):
        in_coords[0] = out_coords[0] + 0.25
    """, [(([2], 1), [])])
program("int_scalar_builtins", "filter", """
    def f(values, a=3, b=-5):
        r = min(a, b) * 1000000 + max(a, b, 0) * 10000
        r = r + np.minimum(a, b) * 100 + np.maximum(a, 2) * 10 + clip(b, -2, 4) + abs(b) * 1000
        return r
    """, [([], [3.0, -5.0]), ([], [-9.0, 7.0]), ([], [0.0, 0.0])])
program("return_bool_and_int", "filter", """
    def f(values):
        if len(values) > 1:
            return values[0] > values[1]
        return len(values)
    """, each([[2.0, 1.0], [1.0, 2.0], [nan, 1.0], [7.0], []]))
program("bool_arithmetic", "filter", """
    def f(values):
        t = values[0] > 0
        u = not t
        return t + u * 10 + (t == u) * 100 + True * 1000
    """, each([[1.0], [-1.0], [nan]]))

# --- larger programs -------------------------------------------------------------------------
program("helper_calls_helper_unified_args", "filter", """
    def scale(x, k):
        return x * k

    def weighted(a, k):
        s = 0.0
        for i in range(len(a)):
            s += scale(a[i], k + i)
        return s

    def f(values):
        return weighted(values, 2) + weighted(values, 0.5) + scale(3, 2)
    """, each([[1.0, 2.0, 3.0], [], [nan], [1e308, 1e308]]))
program("return_inside_nested_loops", "filter", """
    def f(values, target=3.0):
        for i in range(len(values)):
            for j in range(i):
                if values[i] + values[j] == target:
                    return i * 10 + j
        return -1
    """, [(b, [3.0]) for b in ([1.0, 5.0, 2.0], [1.5, 1.5], [], [0.0, 0.0, 3.0])] + [([1.0, 2.0, 4.0], [6.0])])
program("collatz_while", "filter", """
    def f(values):
        n = int(values[0])
        steps = 0
        while n != 1 and steps < 1000:
            if n % 2 == 0:
                n //= 2
            else:
                n = 3 * n + 1
            steps += 1
        return steps
    """, each([[27.0], [1.0], [6.9], [-3.0], [0.0], [nan]]))
program("line_running_median_with_local_copy", "line_filter", """
    def window_median(line, start, width):
        w = np.zeros(width)
        for k in range(width):
            w[k] = line[start + k]
        w.sort()
        if width % 2 == 1:
            return w[width // 2]
        return (w[width // 2 - 1] + w[width // 2]) / 2

    @line_filter
    def f(line, out):
        width = len(line) - len(out) + 1
        for i in range(len(out)):
            out[i] = window_median(line, i, width)
        out[-1] += 0.5
    """, [(([5.0, 1.0, 4.0, 2.0, 3.0], 3), []), (([5.0, 1.0, 4.0, 2.0], 2), []), (([1.0, nan, 3.0, 0.0], 2), []),
          (([2.0], 1), [])])
program("transform_rotate", "transform", """
    @transform
    def rotate(out_coords, in_coords, angle=0.5, cy=1.0, cx=2.0):
        y = out_coords[0] - cy
        x = out_coords[1] - cx
        in_coords[0] = cy + cos(angle) * y - sin(angle) * x
        in_coords[1] = cx + sin(angle) * y + cos(angle) * x
    """, [(([0, 0], 2), []), (([3, 1], 2), [1.25, 0.0, 0.0]), (([1, 2], 2), [math.pi, 1.0, 2.0])])
program("erosion_excluding_center", "filter", """
    def f(values):
        c = len(values) // 2
        m = inf
        for i in range(len(values)):
            if i == c:
                continue
            m = min(m, values[i])
        return m if m < inf else values[c]
    """, each([[3.0, 1.0, 2.0], [5.0], [2.0, -1.0, 7.0, 0.5, 9.0], [nan, 1.0, 2.0], [1.0, 2.0, nan]]))
program("variance_by_hand_vs_builtin", "filter", """
    def f(values):
        n = len(values)
        m = sum(values) / n
        acc = 0.0
        for v in values:
            acc += (v - m) ** 2
        return acc / n - var(values)
    """, each([[1.0, 2.0, 4.0], rvals(11), rvals(25), [1e8, 1e8 + 1, 1e8 + 2]]))
program("mixed_chain_and_nested_conditional", "filter", """
    def f(values):
        i = len(values) - 1
        a = 1.0 if 0 <= i < len(values) > 2.5 else -1.0
        b = (2.0 if values[0] > 0 else 3.0) if i > 0 else (4.0 if i == 0 else 5.0)
        return a * 10 + b
    """, each([[1.0, 2.0, 3.0], [-1.0], [1.0, 0.0], []]))
program("out_augmented_negative_index", "line_filter", """
    @line_filter
    def f(line, out, k=2):
        for i in range(len(out)):
            out[i - len(out)] += line[i] * k
            out[-1] += 1
    """, [(([1.0, 2.0, 3.0], 3), []), (([1.0, 2.0], 2), [-3.0]), (([4.0], 1), [0.0])])

# --- line filters --------------------------------------------------------------------------
program("line_moving_sum", "line_filter", """
    @line_filter
    def f(line, out):
        w = len(line) - len(out) + 1
        for i in range(len(out)):
            s = 0.0
            for j in range(w):
                s += line[i + j]
            out[i] = s
    """, [(([1.0, 2.0, 3.0, 4.0, 5.0], 3), []), (([1.0, nan, 3.0], 1), []), (([], 0), []), (([2.0], 1), [])])
program("line_weighted_params", "line_filter", """
    @line_filter
    def smooth(line, out, a=0.25, b=0.5):
        for i in range(len(out)):
            out[i] = a * line[i] + b * line[i + 1] + a * line[i + 2]
    """, [(([1.0, 2.0, 4.0, 8.0], 2), []), (([1.0, 2.0, 4.0, 8.0], 2), [0.5, 0.0]), (([1.0, 2.0], 1), [])])
program("line_early_return_leaves_zeros", "line_filter", """
    @line_filter
    def f(line, out):
        for i in range(len(out)):
            if line[i] < 0:
                return
            out[i] = line[i] * 2
    """, [(([1.0, 2.0, -1.0, 4.0], 4), []), (([-1.0, 2.0], 2), [])])
program("line_write_out_of_range", "line_filter", """
    @line_filter
    def f(line, out):
        out[len(out)] = 1.0
    """, [(([1.0], 1), []), (([1.0, 2.0], 0), [])])
program("line_reads_out_before_write", "line_filter", """
    @line_filter
    def f(line, out):
        for i in range(len(out)):
            out[i] += line[i] + out[i]
        out[-1] = np.median(line)
    """, [(([3.0, 1.0, 2.0], 3), []), (([4.0, 1.0, 2.0, 3.0], 2), [])])

# --- issue 13: list and tuple literals, fancy indexing, module-level constants -------------------
NINE = [[float(v) for v in range(9)], [3.0, -1.0, 2.0, nan, 0.5, -0.0, 7.0, inf, 1.0], rvals(9), rvals(9),
        [5.0, 5.0, 5.0, 1.0, 5.0, 9.0, 5.0, 5.0, 5.0]]
SHORT = [[1.0, 2.0, 3.0], [], [0.5, -0.5, 2.0, 4.0, 8.0]]
program("list_constant_order", "filter", """
    def lbp(values):
        order = [0, 1, 2, 5, 8, 7, 6, 3]
        c = values[4]
        code = 0
        for k in range(8):
            if values[order[k]] >= c:
                code += 2 ** k
        return code
    """, each(NINE + SHORT))
program("fancy_index_literal", "filter", """
    def f(values):
        ring = values[[0, 1, 2, 5, 8, 7, 6, 3]]
        return np.sum(ring) * 10 + ring[-1] - len(ring) + np.max(values[[4, -1]])
    """, each(NINE + SHORT), either_zero=True)
program("fancy_index_variable", "filter", """
    def f(values):
        idx = [8, 0, 4]
        picked = values[idx]
        s = 0.0
        for v in picked:
            s = s * 2 + v
        return s + np.median(values[[1, 7]])
    """, each(NINE + SHORT), either_zero=True)
program("tuple_constant_weights", "filter", """
    def f(values):
        w = (1, 2, 1)
        s = 0.0
        for i in range(len(w)):
            s += w[i] * values[i]
        return s / sum(np.array(w, dtype=float)) + w[-1] // 2 + np.sum(w) * 100 + np.max(np.array(w)) + sorted(w)[0]
    """, each(NINE + SHORT))
program("list_of_floats_and_ints", "filter", """
    def f(values):
        weights = [0.25, 0.5, 0.25, 1, -1e300]
        t = 0.0
        for w in weights:
            t = t * 0.5 + w
        return t + np.mean(weights) + weights[3] * values[0]
    """, each(NINE + SHORT))
program("list_of_expressions", "filter", """
    def f(values):
        corners = [values[0], values[2], values[-3], values[-1]]
        m = np.median([values[1], values[3], values[5]])
        pair = (values[4], 2)
        return max(corners) - np.mean(np.array(corners)) + m + pair[1] + np.sum(pair)
    """, each(NINE), either_zero=True)
program("list_written_in_place", "filter", """
    def f(values):
        acc = [0, 0, 0]
        for i in range(len(values)):
            acc[i % 3] += values[i]
        acc[1] = acc[1] * 0.5
        return acc[0] - acc[1] + acc[2]
    """, each(NINE + SHORT))
program("list_in_loop_fresh_each_time", "filter", """
    def f(values):
        prev = [0.0, 0.0]
        total = 0.0
        for k in range(len(values) - 1):
            cur = [values[k], values[k + 1]]
            total += cur[0] * prev[1] - cur[1]
            prev = cur
        return total + prev[0]
    """, each(NINE + SHORT))
program("for_over_list_literal", "filter", """
    def f(values):
        s = 0
        for k in [3, -2, 1]:
            s = s * 10 + k
        for x in (0.5, values[0]):
            s = s + x
        return s
    """, each(NINE + SHORT))
program("np_array_forms", "filter", """
    import numpy as np
    def f(values):
        a = np.array([1, 2, 3])
        b = np.array([1, 2, 3], dtype=float)
        c = np.asarray((0.5, 1.5))
        d = np.array([2.7, -2.7], dtype=np.int64)
        e = np.array(values)
        e[0] = 100.0
        return a[2] / 2 + np.sum(b) + c[1] + d[0] * 10 + d[1] + e[0] + values[0] + len(np.array([]))
    """, each(NINE + SHORT))
program("fancy_index_out_of_range", "filter", """
    def f(values):
        return np.sum(values[[0, 8, -9]])
    """, each(NINE + SHORT))
program("module_constants", "filter", """
    import numpy as np
    KX = np.array([-1, 0, 1, -2, 0, 2, -1, 0, 1])
    KY = np.array([-1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0])
    W = (1, 2, 1)
    T = 0.5
    N = 2 ** 4 - 1
    SCALE = 1 / 8
    NEG = -np.pi
    ORDER = [0, 1, 2, 5, 8, 7, 6, 3]

    def sobel(values, t=T):
        gx = 0.0
        gy = 0.0
        for k in range(len(KX)):
            gx += values[k] * KX[k]
            gy += values[k] * KY[k]
        ring = values[ORDER]
        return (abs(gx) + abs(gy)) * SCALE + (1.0 if ring[W[0]] > t else 0.0) + N + NEG + np.sum(np.array(W))
    """, each(NINE[:4]) + [(NINE[0], [100.0])])
program("module_constant_shadowed_by_local", "filter", """
    T = 3
    def helper(x):
        return x * T
    def f(values):
        T = 0.25
        return helper(values[0]) + T
    """, each(NINE[:2]))
program("module_constants_expression_form", "filter", """
    W = [1.0, 2.0]
    def f(values):
        return values[0] * W[0] + values[-1] * W[1]
    """, each(NINE[:2] + [[2.0]]))

# --- issue 13: array expressions -------------------------------------------------------------
NINE_PLAIN = [[float(v) for v in range(9)], rvals(9), rvals(9), [5.0, 5.0, 5.0, 1.0, 5.0, 9.0, 5.0, 5.0, 5.0],
              [-0.0, 0.0, -2.5, 2.5, 1e300, -1e300, 3.0, 0.5, 7.0]]
NINE_SPECIAL = [[3.0, -1.0, 2.0, nan, 0.5, -0.0, 7.0, inf, 1.0], [inf, -inf, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]
ARR = NINE_PLAIN + NINE_SPECIAL
program("array_variance_forms", "filter", """
    def f(values):
        m = values.mean()
        v = ((values - m) ** 2).mean()
        mad = np.mean(np.abs(values - np.median(values)))
        return v * 1000 + mad + np.sum((values - m) * (values - m)) / len(values)
    """, each(ARR + SHORT))
program("array_times_module_kernel", "filter", """
    import numpy as np
    KX = np.array([-1, 0, 1, -2, 0, 2, -1, 0, 1])
    KY = np.array([-1, -2, -1, 0, 0, 0, 1, 2, 1])
    def sobel(values):
        gx = np.sum(values * KX)
        gy = (values * KY).sum()
        return np.sqrt(gx * gx + gy * gy)
    """, each(ARR + SHORT))
program("array_count_above_mean", "filter", """
    def f(values, t=0.5):
        n = np.sum(values > values.mean())
        k = (values >= t).sum()
        e = np.sum(values == values.max())
        return n * 100 + k * 10 + e + sum(values < 0)
    """, each(ARR + SHORT) + [(ARR[0], [4.0])])
program("array_boolean_mask", "filter", """
    def f(values, t=0.0):
        big = values[values > t]
        small = values[values <= t]
        total = 0.0
        for v in big:
            total = total * 0.5 + v
        return len(big) * 1000 + total + np.mean(small) + np.sum(values[values != values])
    """, each(ARR + SHORT) + [(ARR[1], [2.0])])
# np.dot's bits depend on the OpenBLAS kernel NumPy picks for the CPU (a fused multiply-add per tail element
# with AVX-512, a product then an add with AVX2): ARR's random rows replaced by values with few significant
# bits, whose products are exact, so that both orders agree and the fixture holds on every machine.
DOT_ARR = [ARR[0], [-189.6875, 1.0, -2.0, -2.0, 0.7734375, 7.33203125, 0.3046875, -0.05078125, 814.046875],
           [-150.03125, -642.9375, -5.0, -174.8125, -0.3125, -5.25, -703.84375, 8.34375, 5.0]] + ARR[3:]
program("np_dot", "filter", """
    import numpy as np
    K = np.array([0.5, -1.0, 2.0, 0.25, 3.0, -0.5, 1.5, -2.0, 1.0])

    def f(values):
        w = values * 0.5 + 1.0
        return np.dot(values, w) + values.dot(K[:len(values)]) * 10 + np.dot(values[1:], values[:-1].copy())
    """, each(DOT_ARR + SHORT))
program("np_dot_lengths_differ", "filter", """
    def f(values):
        return np.dot(values, values[1:])
    """, each(ARR[:2] + SHORT))
program("array_bitwise_bool_masks", "filter", """
    def f(values, lo=-1.0, hi=5.0):
        band = (values >= lo) & (values <= hi)
        outside = (values < lo) | (values > hi) | (values != values)
        odd = (values > 0) ^ (values[0] > 0)
        total = 0.0
        for v in values[band & ~(values != values)]:
            total = total * 0.5 + v
        return np.sum(band) * 100 + np.count_nonzero(outside) * 10 + np.sum(odd) + total
    """, each(ARR + SHORT) + [(ARR[1], [0.0, 3.0])])
program("bitwise_bool_scalars", "filter", """
    def f(values):
        a = values[0] > 0.5
        b = len(values) > 4
        c = (a & b) | (values[-1] < 0)
        d = a ^ b ^ c
        return float(c) * 10 + float(d) + (1.0 if a & (values[1] < values[2]) else 0.0)
    """, each(ARR + SHORT))
program("array_where_clip_minmax", "filter", """
    def f(values):
        pos = np.where(values > 0, values, 0.0)
        mixed = np.where(values > values[4], 1, values)
        c = np.clip(values, -1.0, 1.0)
        both = np.maximum(values, values[::-1]) - np.minimum(values, 0.5)
        return pos.sum() + mixed.sum() * 3 + c.sum() * 7 + both.max() + np.fmax(values, 2.0).min()
    """, each(ARR + SHORT), either_zero=True)
program("array_astype", "filter", """
    def f(values):
        k = (values * 10).astype(int)
        b = (values > 2).astype(int)
        back = k.astype(float) / 10
        flags = values.astype(bool)
        return k.sum() + b.sum() * 1000 + back.max() + np.sum(flags) * 0.5 + k[0] // 3
    """, each(NINE_PLAIN[:4] + SHORT) + [(NINE_SPECIAL[0], [], "error",
                                             "astype(int) of nan is a run-time error as int(x) is; NumPy gives an unspecified value")])
program("array_slices", "filter", """
    def f(values):
        a = values[1:4]
        b = values[::2]
        c = values[-3:]
        d = values[::-1]
        e = values[5:1:-2]
        g = values[10:]
        h = values[:-1] - values[1:]
        return a.sum() + b.sum() * 2 + c[0] * 3 + d[0] * 5 + e.sum() * 7 + len(g) * 11 + np.abs(h).max()
    """, each(ARR + SHORT))
program("array_slice_extreme_bounds", "filter", """
    def f(values, k=1):
        a = values[::-9223372036854775807 - 1]
        b = values[9223372036854775807::-9223372036854775807 - 1]
        c = values[-9223372036854775807 - 1:9223372036854775807:9223372036854775807]
        d = values[::k]
        return len(a) * 1000 + len(b) * 100 + len(c) * 10 + len(d) + np.sum(a) + np.sum(b) + np.sum(c)
    """, each(ARR[:2] + SHORT) + [(ARR[0], [0.0]), (ARR[0], [-3.0])])
program("array_slice_loop_windows", "filter", """
    def f(values):
        best = -inf
        for i in range(len(values) - 2):
            w = values[i:i + 3]
            m = np.mean(w) + w.std()
            if m > best:
                best = m
        rolled = 0.0
        for i in range(0, len(values), 4):
            rolled += np.sum(values[i:i + 4] * 0.25)
        return best + rolled
    """, each(ARR + SHORT))
program("array_int_arithmetic", "filter", """
    import numpy as np
    W = np.array([3, -7, 2, 0, 5])
    def f(values):
        a = W * 2 + 1
        b = W // 2
        c = W % 3
        d = W ** 2
        e = W / 2
        g = -W
        h = np.abs(W)
        return a.sum() + b.sum() * 10 + c.sum() * 100 + d.sum() + e.sum() + g.max() + h.sum() * values[0]
    """, each([[1.0], [-2.5], [nan]]))
program("array_broadcast_length_one", "filter", """
    def f(values):
        first = values[:1]
        d = values - first
        return d.sum() + (first * 2).sum() + len(values[0:1] + values)
    """, each(ARR + SHORT))
program("array_length_mismatch", "filter", """
    def f(values):
        return np.sum(values[:3] + values[:4])
    """, each(ARR[:1] + SHORT))
program("array_ufuncs", "filter", """
    def f(values):
        a = np.abs(values)
        r = np.sqrt(a) + np.log2(a + 1) + np.floor(values) * 0.5 + np.round(values * 0.3)
        s = np.exp(-a) + np.sin(values) * np.cos(values)
        t = np.isnan(values).sum() + np.isfinite(values).sum() * 10
        return r.sum() + s.sum() + t + np.hypot(values, 1.0).max() + np.power(a, 0.5).sum()
    """, each(ARR + SHORT))
program("array_entropy", "filter", """
    def f(values):
        p = np.abs(values) / np.sum(np.abs(values))
        p = p[p > 0]
        return -np.sum(p * np.log2(p))
    """, each(ARR + SHORT))
program("array_compare_arrays_and_loops", "filter", """
    def f(values):
        up = values > values[::-1]
        total = 0
        for flag in up:
            total = total * 2 + flag
        m = values.mean()
        acc = 0.0
        for v in values - m:
            acc = acc * 0.5 + v
        return total + acc + np.any(values < -5) * 100 + np.all(values > -1e9) * 1000
    """, each(ARR + SHORT))
program("array_methods", "filter", """
    def f(values):
        d = values - values.min()
        return d.max() + d.sum() + d.mean() + d.std() + d.var() + d.argmax() * 10 + d.argmin() + d.prod() * 0
    """, each(ARR + SHORT))
program("line_slice_mean", "line_filter", """
    @line_filter
    def f(line, out):
        k = len(line) - len(out) + 1
        for i in range(len(out)):
            w = line[i:i + k]
            out[i] = np.mean(w) + np.max(w - line[i]) + w[::-1][0]
    """, [((rvals(7), 5), []), (([1.0, nan, 3.0, 4.0], 2), []), (([2.0, 1.0, 0.5], 1), [])])

program("numpy_ptp_count_nonzero_average", "filter", """
    import numpy as np
    W = np.array([1, 2, 1, 2, 4, 2, 1, 2, 1])
    def f(values):
        r = np.ptp(values)
        c = np.count_nonzero(values) + np.count_nonzero(values > 1) * 10 + np.count_nonzero(W - 1) * 100
        a = np.average(values)
        b = np.average(values, weights=W)
        return r + c + a + b * 3
    """, each(ARR) + each([[1.0, 2.0, 3.0], []]), either_zero=True)
program("numpy_average_weights_errors", "filter", """
    def f(values):
        w = values - values
        if len(values) > 4:
            w = values[:2]
        return np.average(values, weights=w)
    """, each([[1.0, 2.0], [1.0, 2.0, 3.0, 4.0, 5.0], [nan, 1.0]]))
program("numpy_average_of_expressions", "filter", """
    def f(values):
        w = np.abs(values) + 1
        return np.average(values ** 2, weights=w) - np.average(values > 0, weights=w > 2)
    """, each(ARR + [[1.0, 2.0, 3.0]]))

program("numpy_bincount_majority", "filter", """
    def majority(values):
        return np.bincount(values.astype(int)).argmax()
    """, each([[1.0, 2.0, 2.0, 3.0, 2.0, 1.0, 0.0, 3.0, 3.0], [5.0, 5.0, 0.0, 1.0, 5.0, 2.0, 9.0, 9.0, 9.0],
               [0.0], [2.9, 2.1, 1.5, 0.2], [], [-1.0, 2.0], [1e6, 1.0]]))
program("numpy_bincount_minlength", "filter", """
    import numpy as np
    LABELS = np.array([0, 3, 3, 1])
    def f(values, m=6):
        counts = np.bincount(LABELS, minlength=m)
        masked = np.bincount(values > 0)
        return len(counts) * 100 + counts[3] * 10 + counts[-1] + len(masked) * 1000 + masked[0] * 10000
    """, each([[1.0, -2.0, 3.0], [-1.0, -2.0], [2.0, 0.0, 5.0, 7.0]]) + [([1.0], [2.0]), ([1.0], [-1.0])])
program("numpy_cumsum", "filter", """
    def f(values):
        c = np.cumsum(values)
        d = (values * 2).cumsum()
        w = np.cumsum(np.array([1, 2, 3]))
        return c[-1] * 3 + d.max() + w[-1] + np.sum(c) - len(np.cumsum(values[:0]))
    """, each(ARR + SHORT[:1] + [[-0.0, -0.0]]), either_zero=True)

program("numpy_unique_and_counts", "filter", """
    def f(values):
        u = np.unique(values)
        vals, counts = np.unique(values, return_counts=True)
        mode = vals[np.argmax(counts)]
        return len(np.unique(values)) * 1000 + u.sum() + mode * 10 + counts.max() * 100 + len(vals)
    """, each(ARR + [[2.0, 1.0, 2.0, nan, nan, 1.0, 2.0], [3.0], [], [-0.0, 0.0, 1.0, 1.0],
                     [5.0, 5.0, 0.0, 1.0, 5.0, 2.0, 9.0, 9.0, 9.0]]), either_zero=True)

program("numpy_unique_counts_with_nan", "filter", """
    def f(values):
        vals, counts = np.unique(values > 1, return_counts=True)
        n = len(np.unique(values))
        _, c = np.unique(values, return_counts=True)
        return n * 100 + c[-1] * 10 + len(vals) + counts[0] * 1000
    """, each(ARR + [[2.0, 1.0, 2.0, nan, nan, 1.0, 2.0], [nan, nan, nan], [-0.0, 0.0, 1.0, 1.0]]))

HIST_DATA = [[float(v) for v in (0, 17, 255, 128, 128, 64, 300, -1, 255)], [3.0, -1.0, 2.0, nan, 0.5, -0.0, 7.0, inf, 1.0],
             rvals(9), [5.0] * 9, [], [0.25, 0.5, 0.75, 1.0, 0.0]]
program("numpy_histogram_forms", "filter", """
    def f(values):
        hist, _ = np.histogram(values, bins=16, range=(0, 256))
        h3 = np.histogram(values, bins=3, range=(-1.0, 1.0))[0]
        e = np.histogram(values, 5, (0.0, 1.0))[1]
        return hist.argmax() * 1000 + h3.sum() * 100 + h3[0] * 10 + e[1] + np.sum(hist)
    """, each(HIST_DATA))
program("numpy_histogram_entropy", "filter", """
    def entropy(values):
        hist, _ = np.histogram(values, bins=8, range=(0, 256))
        p = hist / np.sum(hist)
        p = p[p > 0]
        return -np.sum(p * np.log2(p))
    """, each(HIST_DATA))
program("numpy_histogram_autodetect", "filter", """
    def f(values, bins=4):
        counts, edges = np.histogram(values, bins=bins)
        return counts[0] * 100 + counts[-1] * 10 + edges[0] + edges[-1] * 3 + edges[1]
    """, each(HIST_DATA) + [(HIST_DATA[2], [1.0]), (HIST_DATA[2], [0.0]), (HIST_DATA[3], [7.0])])
program("numpy_histogram_bad_range", "filter", """
    def f(values, lo=0.0):
        counts, edges = np.histogram(values, bins=2, range=(lo, 1.0))
        return counts[0] + edges[-1]
    """, each([[0.5, 2.0]], [0.0]) + each([[0.5]], [2.0]) + each([[0.5]], [nan]) + each([[0.5]], [-inf]))

# --- issue 13: math.hypot is CPython's (not libm's); np.hypot is NumPy's (libm's) ------------------
def _hypot_hard_cases(count):
    """Gradient-like pairs where CPython's math.hypot and libm's hypot differ in the last bit."""
    r = random.Random(13)
    found = []
    while len(found) < count:
        x, y = float(r.randint(-1020, 1020)) + r.choice([0.0, 0.5]), float(r.randint(-1020, 1020))
        if math.hypot(x, y) != LIBM2["hypot"](x, y):
            found.append([x, y])
    return found


HYPOT_HARD = _hypot_hard_cases(12)
program("math_hypot_cpython", "filter", """
    import math
    def f(values):
        return math.hypot(values[0], values[1])
    """, each(HYPOT_HARD + [[3.0, 4.0], [inf, nan], [nan, -inf], [5e-324, 5e-324], [1e308, 1e308], [-0.0, 0.0]]))
program("hypot_bare_and_numpy", "filter", """
    def f(values):
        a = hypot(values[0], values[1])
        b = np.hypot(values[0], values[1])
        return 1.0 if a == b else 0.0
    """, each(HYPOT_HARD[:4] + [[3.0, 4.0]]))

# --- transforms ------------------------------------------------------------------------------
program("transform_shift", "transform", """
    @transform
    def shift(out_coords, in_coords, dx=0.5):
        for i in range(len(in_coords)):
            in_coords[i] = out_coords[i] - dx
    """, [(([1, 2], 2), []), (([0, 0, 7], 3), [1.5]), (([5], 1), [-2.0])])
program("transform_swap_axes", "transform", """
    @transform
    def f(out_coords, in_coords):
        in_coords[0] = out_coords[1] * 1.0
        in_coords[1] = out_coords[0] / 2
    """, [(([3, 4], 2), []), (([-3, 9], 2), []), (([1], 2), [])])
program("transform_int_arithmetic", "transform", """
    @transform
    def f(out_coords, in_coords, k=3):
        s = 0
        for c in out_coords:
            s = s * k + c
        in_coords[0] = s // 2
        in_coords[-1] = s % 5
    """, [(([1, 2, 3], 2), []), (([-7], 1), []), (([4, 4], 3), [-2.0])])


# ---------------------------------------------------------------------------------------------

def case_line(kind, args, params, result_text, reason=None):
    head = f"# case (by hand: {reason}):" if reason else "# case:"
    if kind == "filter":
        body = f"values={fmt_list(args)}"
    elif kind == "line_filter":
        body = f"line={fmt_list(args[0])} out={args[1]}"
    else:
        body = f"out_coords={fmt_list(args[0], as_int=True)} in_rank={args[1]}"
    if params:
        body += f" params={fmt_list(params)}"
    return f"{head} {body} -> {result_text}"


def write_programs():
    os.makedirs(PROGRAM_DIR, exist_ok=True)
    for old in os.listdir(PROGRAM_DIR):
        # numba_*.filter are written by hand: Numba's raw callback form (issue 15) cannot run without Numba.
        if old.endswith(".filter") and not old.startswith("numba_"):
            os.remove(os.path.join(PROGRAM_DIR, old))
    total = 0
    hand_total = 0
    for name, kind, src, cases, options in PROGRAMS:
        lines = [f"# kind: {kind}"]
        if options.get("function"):
            lines.append(f"# function: {options['function']}")
        either = options.get("either_zero", False)
        for case in cases:
            args, params = case[0], case[1]
            python = python_run(src, kind, args, params, options.get("function"))
            if len(case) > 2:
                hand, reason = case[2], case[3]
                if same(hand, python):
                    # The hand value agrees with Python after all: no need to mark it.
                    lines.append(case_line(kind, args, params, fmt_result(python, either)))
                else:
                    lines.append(case_line(kind, args, params, fmt_result(hand, either), reason))
                    hand_total += 1
            else:
                lines.append(case_line(kind, args, params, fmt_result(python, either)))
            total += 1
        with open(os.path.join(PROGRAM_DIR, name + ".filter"), "w") as f:
            f.write("\n".join(lines) + "\n" + src)
    print(f"wrote {len(PROGRAMS)} programs, {total} cases ({hand_total} by hand) to {PROGRAM_DIR}")


# --- numerics fixture: NumPy reductions on random arrays, as raw bits ---------------------------

def bits(x):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def write_numerics():
    rng = np.random.default_rng(7)
    lines = ["# function | q | elements (hex bits) -> result (hex bits); generated by scripts/make_language_fixtures.py"]
    lengths = list(range(0, 40)) + [63, 64, 65, 127, 128, 129, 130, 200, 255, 256, 257, 399, 1000, 1031]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for trial, n in enumerate(lengths * 3):
            style = trial % 4
            a = rng.standard_normal(n) * 10.0 ** rng.integers(-5, 6, n)
            if style == 1:
                a = np.round(a)
            if style >= 2 and n > 0:
                specials = [np.nan, np.inf, -np.inf, 1e308, -1e308, 5e-324, -0.0]
                for k in rng.integers(0, n, max(1, n // 10)):
                    a[k] = specials[rng.integers(0, 3 if style == 3 else len(specials))] if style == 3 else \
                        specials[rng.integers(3, len(specials))]
            a = a.astype(np.float64)
            enc = ",".join(bits(v) for v in a)
            results = {"npSum": np.sum(a), "mean": np.mean(a) if n else nan, "variance": np.var(a) if n else nan,
                       "std": np.std(a) if n else nan, "median": np.median(a) if n else nan,
                       "prod": np.prod(a), "nansum": np.nansum(a), "nanmean": np.nanmean(a) if n else nan,
                       "nanmedian": np.nanmedian(a) if n else nan}
            if n:
                results.update(npMin=np.min(a), npMax=np.max(a), argmin=float(np.argmin(a)),
                               argmax=float(np.argmax(a)), nanmin=np.nanmin(a), nanmax=np.nanmax(a))
            for fname, r in results.items():
                lines.append(f"{fname} | 0 | {enc} -> {bits(r)}")
            if n:
                for q in (0.0, 1.0, 25.0, 33.3, 50.0, 62.5, 99.99, 100.0, float(rng.uniform(0, 100))):
                    lines.append(f"percentile | {bits(q)} | {enc} -> {bits(np.percentile(a, q))}")
                for q in (0.1, 0.5, float(rng.uniform(0, 1))):
                    lines.append(f"quantile | {bits(q)} | {enc} -> {bits(np.quantile(a, q))}")
        # Float // and %: NumPy's npy_floor_divide / npy_remainder (CPython agrees for non-zero divisors).
        specials = [0.0, -0.0, 1.0, -1.0, 0.1, -0.1, 3.0, -7.0, 1e308, -1e308, 5e-324, inf, -inf, nan, 1e-300, 2.5]
        pairs = [(x, y) for x in specials for y in specials]
        pairs += [(float(rng.standard_normal() * 10.0 ** rng.integers(-8, 9)), float(rng.standard_normal() * 10.0 ** rng.integers(-8, 9)))
                  for _ in range(400)]
        for x, y in pairs:
            fd = np.floor_divide(np.float64(x), np.float64(y))
            md = np.remainder(np.float64(x), np.float64(y))
            if y != 0:
                assert same(float(fd), x // y) and same(float(md), x % y), (x, y)
            lines.append(f"floorDivide | 0 | {bits(x)},{bits(y)} -> {bits(fd)}")
            lines.append(f"remainder | 0 | {bits(x)},{bits(y)} -> {bits(md)}")
    os.makedirs(os.path.dirname(NUMERICS_FILE), exist_ok=True)
    with open(NUMERICS_FILE, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines) - 1} numerics cases to {NUMERICS_FILE}")


if __name__ == "__main__":
    write_programs()
    write_numerics()
