#!/usr/bin/env python3
"""Writes numeric.json: NumPy/CPython results of the reductions and scalar operations the JIT
lowers, as exact float64 bit patterns, for Tests/FilterJITTests/NumericFixtureTests.swift.

Run from anywhere: python3 make_numeric_fixtures.py (seed fixed; output committed)."""
import json, math, os, random, struct
import numpy as np

SEED = 20261128
rng = random.Random(SEED)

def bits(x):
    return struct.unpack('<q', struct.pack('<d', float(x)))[0]

def special():
    return rng.choice([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e300, -1e300, 5e-324,
                       float('inf'), float('-inf'), float('nan'), 0.1, 3.0, -7.0, 1e-3, 9.0, 1e18])

def value(nan_rate):
    r = rng.random()
    if r < nan_rate:
        return float('nan')
    if r < 0.15:
        return special()
    if r < 0.3:
        return float(rng.randint(-5, 5))
    return rng.uniform(-100, 100)

def reduction_cases():
    cases = []
    for n in list(range(0, 20)) + [rng.randint(20, 300) for _ in range(60)]:
        for nan_rate in (0.0, 0.05):
            a = [value(nan_rate) for _ in range(n)]
            x = np.array(a, dtype=np.float64)
            q = rng.choice([0.0, 100.0, 50.0, 25.0, rng.uniform(0, 100)])
            res = {}
            def put(name, f):
                try:
                    with np.errstate(all='ignore'):
                        import warnings
                        with warnings.catch_warnings():
                            warnings.simplefilter('ignore')
                            res[name] = bits(f())
                except (ValueError, IndexError):
                    res[name] = None
            put('pyMin', lambda: min(a))
            put('pyMax', lambda: max(a))
            put('pySum', lambda: sum(a, 0.0) if a else 0.0)
            put('npMin', lambda: np.min(x))
            put('npMax', lambda: np.max(x))
            put('npSum', lambda: np.sum(x))
            put('prod', lambda: np.prod(x))
            put('mean', lambda: np.mean(x) if n else float('nan'))
            put('median', lambda: np.median(x) if n else float('nan'))
            put('variance', lambda: np.var(x) if n else float('nan'))
            put('std', lambda: np.std(x) if n else float('nan'))
            put('any', lambda: 1.0 if np.any(x) else 0.0)
            put('all', lambda: 1.0 if np.all(x) else 0.0)
            put('argmin', lambda: float(np.argmin(x)))
            put('argmax', lambda: float(np.argmax(x)))
            put('percentile', lambda: np.percentile(x, q))
            put('quantile', lambda: np.quantile(x, q / 100.0))
            put('nanmin', lambda: np.nanmin(x))
            put('nanmax', lambda: np.nanmax(x))
            put('nansum', lambda: np.nansum(x))
            put('nanmean', lambda: np.nanmean(x) if n else float('nan'))
            put('nanmedian', lambda: np.nanmedian(x) if n else float('nan'))
            cases.append({'values': [bits(v) for v in a], 'q': bits(q), 'results': res})
    return cases

def binary_cases():
    cases = []
    for _ in range(400):
        a, b = value(0.05), value(0.05)
        if rng.random() < 0.3:
            b = special()
        res = {}
        with np.errstate(all='ignore'):
            res['floorDivide'] = bits(np.floor_divide(np.float64(a), np.float64(b)))
            res['modulo'] = bits(np.remainder(np.float64(a), np.float64(b)))
            res['minimum'] = bits(np.minimum(np.float64(a), np.float64(b)))
            res['maximum'] = bits(np.maximum(np.float64(a), np.float64(b)))
            res['fmin'] = bits(np.fmin(np.float64(a), np.float64(b)))
            res['fmax'] = bits(np.fmax(np.float64(a), np.float64(b)))
        for name, f in (('atan2', math.atan2), ('hypot', math.hypot), ('copysign', math.copysign)):
            res[name] = bits(f(a, b))
        try:
            res['pow'] = bits(math.pow(a, b))
        except (ValueError, OverflowError):
            res['pow'] = None  # CPython raises where C returns nan/inf; not compared
        cases.append({'a': bits(a), 'b': bits(b), 'results': res})
    return cases

def unary_cases():
    cases = []
    for _ in range(300):
        x = value(0.05)
        if rng.random() < 0.3:
            x = rng.choice([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 9.2e18, -9.2e18, 9.3e18, -9.3e18,
                            -9.223372036854775808e18, 9.223372036854775808e18, 4503599627370497.0])
        res = {}
        for name, f in (('exp', math.exp), ('log', math.log), ('log2', math.log2), ('log10', math.log10),
                        ('sin', math.sin), ('cos', math.cos), ('tan', math.tan), ('asin', math.asin),
                        ('acos', math.acos), ('atan', math.atan), ('sinh', math.sinh), ('cosh', math.cosh),
                        ('tanh', math.tanh), ('sqrt', math.sqrt)):
            try:
                res[name] = bits(f(x))
            except (ValueError, OverflowError):
                res[name] = None  # CPython raises; C gives nan/inf (checked elsewhere)
        for name, f in (('floorToInt', math.floor), ('ceilToInt', math.ceil), ('truncToInt', math.trunc),
                        ('roundToInt', round), ('toInt', int)):
            try:
                r = f(x)
                res[name] = ['int', str(r)] if -2**63 <= r < 2**63 else 'error'
            except (ValueError, OverflowError):
                res[name] = 'error'
        res['npFloor'] = bits(np.floor(x)); res['npCeil'] = bits(np.ceil(x))
        res['npTrunc'] = bits(np.trunc(x)); res['npRound'] = bits(np.round(x))
        res['abs'] = bits(abs(x))
        cases.append({'x': bits(x), 'results': res})
    return cases

def int_cases():
    cases = []
    picks = [0, 1, -1, 2, -2, 3, -3, 7, -7, 10, -10, 2**62, -2**62, 2**53, -2**53]
    for _ in range(300):
        a = rng.choice(picks + [rng.randint(-1000, 1000)])
        b = rng.choice(picks + [rng.randint(-1000, 1000)])
        wrap = lambda v: (v + 2**63) % 2**64 - 2**63
        res = {'floorDivide': None if b == 0 else str(wrap(a // b)),
               'modulo': None if b == 0 else str(wrap(a % b)),
               'multiply': str(wrap(a * b)), 'add': str(wrap(a + b)), 'subtract': str(wrap(a - b))}
        cases.append({'a': str(a), 'b': str(b), 'results': res})
    return cases

out = {'seed': SEED, 'reductions': reduction_cases(), 'binary': binary_cases(), 'unary': unary_cases(), 'ints': int_cases()}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'numeric.json')
with open(path, 'w') as f:
    json.dump(out, f)
print('wrote', path)
