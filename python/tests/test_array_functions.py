"""Issue 15: array functions through filterjit.jit. The published addarr, unchanged, against pure Python and
NumPy bit for bit; the dtype/rank matrix; strided and negative-stride arrays; out-of-range indices raising
with their location; NumPy's wraparound on stores; the dispatcher's signatures, IR, pickling and GIL."""

import importlib.util
import os
import pickle
import threading
import time

import numpy as np
import pytest

import filterjit
from conftest import REPOSITORY

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "float32", "float64"]


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, REPOSITORY / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


addarr = load_example("addarr").addarr


def random_array(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    return (rng.standard_normal(shape) * 1e3).astype(dtype)


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_addarr_equals_pure_python_and_numpy_bit_for_bit(dtype):
    x, y = random_array(dtype, 1000, 1), random_array(dtype, 1000, 2)
    with np.errstate(over="ignore"):
        expected = addarr.py_func(x, y)
        numpy_sum = (x + y) if dtype != "bool" else (x | y)
    got = addarr(x, y)
    assert same_bits(got, expected)
    assert same_bits(got, numpy_sum.astype(dtype))
    assert same_bits(addarr.interpret(x, y), expected)


def test_addarr_on_a_million_elements_float64_and_uint8():
    for dtype in ("float64", "uint8"):
        x, y = random_array(dtype, 10**6, 3), random_array(dtype, 10**6, 4)
        assert same_bits(addarr(x, y), x + y)
    assert "(float64[:], float64[:])" in addarr.signatures and "(uint8[:], uint8[:])" in addarr.signatures


def test_strided_and_reversed_arguments():
    x = random_array("float64", 101, 5)[::-3]
    y = random_array("float64", 204, 6)[5::6]
    assert len(x) == len(y) == 34
    assert same_bits(addarr(x, y), x + y)
    u = random_array("int16", (7, 9), 7)
    v = u.T[::-1]  # negative and transposed strides, not contiguous

    @filterjit.jit
    def bump(a, k):
        m, n = a.shape
        for i in range(m):
            for j in range(n):
                a[i, j] = a[i, j] * k + i - j
        return a

    before = v.copy()
    expected = before.copy()
    with np.errstate(over="ignore"):
        bump.py_func(expected, 3)
    assert bump(v, 3) is v
    assert same_bits(np.ascontiguousarray(v), expected)
    assert same_bits(np.ascontiguousarray(u.T[::-1]), expected)  # the write went through the view into u


def test_out_of_range_index_raises_index_error_with_array_shape_and_line():
    x = np.zeros(10)
    with pytest.raises(IndexError) as caught:
        addarr(x, np.zeros(5))
    message = str(caught.value)
    assert "index 5 is out of bounds for axis 0 with size 5 (array 'y' of shape (5,))" in message
    lines = (REPOSITORY / "examples" / "addarr.py").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "result[i] = x[i] + y[i]" in text)
    assert f"at line {line}, column 30" in message  # y[i] in examples/addarr.py

    @filterjit.jit
    def corner(a):
        return a[-1, -1] + a[0, -4]

    assert corner(np.arange(12.0).reshape(3, 4)) == 11.0 + 0.0
    with pytest.raises(IndexError, match=r"index -4 is out of bounds for axis 1 with size 3 \(array 'a' of shape \(4, 3\)\)"):
        corner(np.zeros((4, 3)))


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d != "bool"])
def test_stores_wrap_as_numpy_casts(dtype):
    @filterjit.jit
    def store(a, v, w):
        a[0] = v
        a[1] = -v
        a[2] = v * 1000003
        a[3] = w

    a = np.zeros(4, dtype)
    store(a, 300, 70000.75)
    values = np.array([300, -300, 300 * 1000003], dtype=np.int64)
    expected = np.concatenate([values.astype(dtype), np.array([70000.75]).astype(dtype)])
    if dtype.startswith(("int", "uint")):
        expected[3] = np.array([70000], dtype=np.int64).astype(dtype)[0]  # truncated toward zero, then wrapped
    assert same_bits(a, expected)


def test_float_without_an_int_value_into_an_int_array_raises():
    @filterjit.jit
    def put(a, v):
        a[0] = v

    with pytest.raises(RuntimeError, match="cannot convert nan to an int"):
        put(np.zeros(1, np.int32), float("nan"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_two_dimensional_sums_and_new_arrays_match_pure_python(dtype):
    @filterjit.jit(nopython=True, cache=True)
    def rowsums(a):
        out = np.zeros(a.shape[0], dtype=np.float64)
        counts = np.empty((a.shape[0], 2), np.int64)
        for i in range(a.shape[0]):
            s = 0.0
            for j in range(a.shape[1]):
                s += a[i, j]
            out[i] = s
            counts[i, 0] = i
            counts[i, 1] = a.ndim
        return out

    a = random_array(dtype, (5, 7), 8)
    # `s = 0.0; s += a[i, j]` is a float64 sum in Numba and here; pure Python on NumPy 2 keeps float32 for a
    # float32 array (a Python float is "weak" under NEP 50), so the float64 reference reads the array as float64.
    reference = a.astype(np.float64) if dtype == "float32" else a
    assert same_bits(rowsums(a), rowsums.py_func(reference))
    assert same_bits(rowsums(a[:, ::-2]), rowsums.py_func(reference[:, ::-2]))


def test_scalars_none_and_signatures():
    @filterjit.jit
    def count_above(a, t):
        n = 0
        for i in range(len(a)):
            if a[i] > t:
                n += 1
        return n

    a = np.array([1, 5, 3, 7], np.uint16)
    assert count_above(a, 2) == 3 and count_above(a, 5.5) == 1 and count_above(a, True) == 3
    assert count_above.signatures == ["(uint16[:], int64)", "(uint16[:], float64)", "(uint16[:], bool)"]
    ir = count_above.inspect_ir("(uint16[:], int64)")
    assert "define" in ir

    @filterjit.jit
    def nothing(a):
        a[0] = 1
        return None

    assert nothing(np.zeros(2)) is None


def test_pickles_as_source_and_recompiles():
    clone = pickle.loads(pickle.dumps(addarr))
    x = np.arange(5, dtype=np.int32)
    assert same_bits(clone(x, x), x + x)


def test_runs_with_the_gil_released():
    @filterjit.jit
    def spin(n):
        s = 0
        for i in range(n):
            s = (s * 31 + i) % 1000003
        return s

    spin(10)  # compile first
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    thread = threading.Thread(target=tick)
    thread.start()
    time.sleep(0.01)
    before = len(ticks)
    spin(200_000_000)
    during = len(ticks) - before
    stop.set()
    thread.join()
    assert during > 5, "the Python thread did not run while the array function did"


def first(a):
    return a[0]


def test_refusals():
    with pytest.raises(ValueError, match="read-only"):
        x = np.zeros(3)
        x.flags.writeable = False
        addarr(x, x)
    with pytest.raises(TypeError, match="not supported"):
        addarr(np.zeros(3), [1, 2, 3])
    with pytest.raises(TypeError, match="option"):
        filterjit.jit(parallel=True)


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="Numba is not installed (a test-only dependency)")
def test_addarr_equals_numba():
    import numba

    reference = numba.njit(addarr.py_func)
    for dtype in ("float64", "uint8", "int32"):
        x, y = random_array(dtype, 1000, 9), random_array(dtype, 1000, 10)
        assert same_bits(addarr(x, y), reference(x, y))


def test_skan_build_graph_equals_pure_python_on_the_example_and_random_skeletons():
    skan = load_example("skan_graph")
    graph = skan.pixel_graph(skan.SKELETON)
    assert graph.nnz == 22 and (graph != graph.T).nnz == 0  # an undirected graph: every edge both ways
    rng = np.random.default_rng(11)
    for trial in range(10):
        image = np.pad(rng.random((5, 7)) < 0.35, 1)  # the 7x9 shape `steps` was frozen for
        labels = np.zeros(image.size, dtype=np.int32)
        labels[image.ravel()] = np.arange(1, image.sum() + 1, dtype=np.int32)
        size = 8 * int(image.sum())
        row, col = np.zeros(size, np.int32), np.zeros(size, np.int32)
        row0, col0 = row.copy(), col.copy()
        assert skan.build_graph(labels, skan.steps, row, col) is None
        skan.build_graph.py_func(labels, skan.steps, row0, col0)
        assert same_bits(row, row0) and same_bits(col, col0)
        small = np.zeros(1, np.int32)
        if image.sum() > 1 and (row0 != 0).sum() > 1:
            with pytest.raises(IndexError, match="array 'row' of shape \\(1,\\)"):
                skan.build_graph(labels, skan.steps, small, small.copy())


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="Numba is not installed (a test-only dependency)")
def test_integer_widening_and_wrapping_stores_equal_numba():
    import numba

    def rules(a, b, out, total):
        for i in range(len(out)):
            out[i] = a[i] * b[i] + a[i] - 1000 * b[i]   # int8 * uint8 ... in int64, stored into int16: wraps
            total[0] += a[i] * 1000003 * b[i]           # int64 arithmetic wraps
        return total[0] // 7 + out[0] % 5

    compiled = filterjit.jit(rules)
    reference = numba.njit(rules)
    for seed in range(5):
        a, b = random_array("int8", 64, seed), random_array("uint8", 64, seed + 10)
        out1, out2 = np.zeros(64, np.int16), np.zeros(64, np.int16)
        total1, total2 = np.full(1, 2**62, np.int64), np.full(1, 2**62, np.int64)
        assert compiled(a, b, out1, total1) == reference(a, b, out2, total2)
        assert same_bits(out1, out2) and same_bits(total1, total2)


def test_boundscheck_false_is_the_only_way_to_drop_the_checks():
    unchecked = filterjit.jit(boundscheck=False)(addarr.py_func)
    x = np.arange(6, dtype=np.int16)
    assert same_bits(unchecked(x, x), x + x)
    assert unchecked.signatures == ["(int16[:], int16[:]) boundscheck=False"]
    assert "call void @filterjit_nd_index_fail" not in unchecked.inspect_ir(unchecked.signatures[0])
    with pytest.raises(IndexError):
        unchecked.interpret(x, x[:2])  # the interpreter checks regardless
    assert pickle.loads(pickle.dumps(unchecked)).signatures == []


@pytest.mark.parametrize("dtype", ["int8", "uint16", "float32", "float64", "bool"])
def test_iterating_over_a_one_dimensional_array_equals_pure_python(dtype):
    @filterjit.jit
    def nbmin_like(values, out):
        result = np.inf
        for v in values:
            if v < result:
                result = v
        out[0] = result
        return result

    values = random_array(dtype, 50, 12)[::-2]
    out1, out2 = np.zeros(1), np.zeros(1)
    assert nbmin_like(values, out1) == nbmin_like.py_func(values, out2)
    assert same_bits(out1, out2)


# uint64 arrays (branch w15d): Numba's rules, measured with Numba 0.68.1 (docs/array-functions.md).
U = np.array([2**64 - 1, 5, 2**63, 3, 7, 0, 2**53 + 1], dtype=np.uint64)
I = np.array([-1, 2, 1, -7, 2**53, 0, 9], dtype=np.int64)


def uint64_rules(u, i, o, s, f, c):
    o[0] = u[0] + u[1]
    o[1] = u[1] - u[0]
    o[2] = u[0] * u[1]
    o[3] = u[0] // u[1]
    o[4] = u[0] % u[1]
    o[5] = -u[1]
    o[6] = -1.5
    o[7] = 1e19
    o[8] = -1
    o[9] = np.max(u)
    o[10] = u.min()
    o[11] = u[1] - 1.0
    s[0] = u[0] + i[0]
    s[1] = u[0] // i[1]
    s[2] = u[0] + 1
    s[3] = u[0] * 2
    s[4] = int(u[0])
    s[5] = u[1] ** 2
    s[6] = u[4] // i[3]
    s[7] = i[0] // u[4]
    s[8] = u[0]
    s[9] = i[u[3]]
    s[10] = u[2] + True
    total = 0
    for v in u:
        total += v
    s[11] = total
    f[0] = u[0]
    f[1] = u[0] / u[1]
    f[2] = u[0] + 1.5
    f[3] = float(u[0])
    f[4] = max(u[1], 1)
    f[5] = u[2] / i[0]
    c[0] = u[0] > i[0]
    c[1] = u[0] < i[0]
    c[2] = u[0] > u[2]
    c[3] = u[0] == -1
    c[4] = u[6] == i[4]
    c[5] = u[6] > i[4]
    c[6] = u[0] > -1
    c[7] = u[6] == u[6] - u[5]
    c[8] = not u[5]
    c[9] = u[0] >= u[2] > u[1]


def run_uint64_rules(function):
    arrays = (U.copy(), I.copy(), np.zeros(12, np.uint64), np.zeros(12, np.int64), np.zeros(6), np.zeros(10, bool))
    function(*arrays)
    return arrays[2:]


def test_uint64_rules_both_engines_and_numpy():
    jitted = filterjit.jit(uint64_rules)
    got = run_uint64_rules(jitted)
    interpreted = run_uint64_rules(jitted.interpret)
    for a, b in zip(got, interpreted):
        assert same_bits(a, b)
    o, s, f, c = got
    with np.errstate(over="ignore"):
        # uint64 with uint64 is NumPy's uint64 arithmetic; stores are NumPy's casts.
        assert o[:6].tolist() == [int(U[0] + U[1]), int(U[1] - U[0]), int(U[0] * U[1]), int(U[0] // U[1]), int(U[0] % U[1]),
                                  int(-U[1])]
        assert o[6:9].tolist() == np.array([-1.5, 1e19, -1.0]).astype(np.uint64).tolist()
    assert o[9:].tolist() == [2**64 - 1, 0, 4]
    # With a signed int (or a bool): int64 arithmetic on the uint64's bits, as Numba (NumPy gives float64 there).
    assert s.tolist() == [-2, -1, 0, -2, -1, 25, -1, -1, -1, -7, -(2**63) + 1, -9214364837600034801]
    assert (U[:1] + I[:1]).dtype == np.float64
    # With a float, or converted: unsigned (2^64 - 1 is 2.0**64).
    assert f.tolist() == [2.0**64, (2**64 - 1) / 5, 2.0**64, 2.0**64, 5.0, -(2.0**63)]
    # Compared with an int: as float64s (2^53 + 1 == 2^53 holds), with a uint64: unsigned.
    assert c.tolist() == [True, False, True, False, True, False, True, True, True, True]


def test_uint64_indices_stores_and_failures():
    @filterjit.jit
    def read(a, u, k):
        return a[u[k]]

    a = np.arange(5) * 10
    u = np.array([2, 2**64 - 1, 2**63, 4], dtype=np.uint64)
    assert read(a, u, 0) == 20 and read(a, u, 3) == 40
    for k in (1, 2):  # never counted from the end: out of bounds, as in Numba
        with pytest.raises(IndexError, match="out of bounds"):
            read(a, u, k)

    @filterjit.jit
    def store(out, x):
        out[0] = x

    for value in (3.7, -3.7, 2.0**63, 1.8e19, -(2.0**63), 2**63 - 1, -5):
        out = np.zeros(1, np.uint64)
        store(out, value)
        assert out.tolist() == np.array([value]).astype(np.uint64).tolist(), value
    for value in (2.0**64, float("nan"), float("inf"), -(2.0**63) * 1.5):
        with pytest.raises(RuntimeError, match="cannot convert"):
            store(np.zeros(1, np.uint64), value)

    @filterjit.jit
    def divide(u, k):
        out = np.zeros_like(u)
        out[0] = u[0] // u[k]
        return out

    with pytest.raises(RuntimeError, match="integer division by zero"):
        divide(np.array([7, 0], np.uint64), 1)
    assert divide(np.array([2**64 - 1, 5], np.uint64), 1).tolist() == [(2**64 - 1) // 5, 0]
    assert "(uint64[:], int64)" in divide.signatures


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="Numba is not installed (a test-only dependency)")
def test_uint64_rules_equal_numba():
    import numba

    got = run_uint64_rules(filterjit.jit(uint64_rules))
    expected = run_uint64_rules(numba.njit(uint64_rules))
    # o[6] stores the literal -1.5: unspecified in Numba (0 here, 2^64 - 1 when the value comes from an argument);
    # FilterJIT stores NumPy's astype (2^64 - 1).
    got[0][6] = expected[0][6] = 0
    for a, b in zip(got, expected):
        assert same_bits(a, b)


def total_2d(a):
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += a[i, j]
    return s


def rank_and_size(a):
    return a.ndim * 1000 + a.size


class Subclass(np.ndarray):
    pass


def test_arrays_passed_as_their_objects_keep_every_layout():
    from filterjit import _array_function
    assert _array_function._OBJECTS  # NumPy's PyArrayObject layout was recognised at import (w15d)
    total = filterjit.jit(total_2d)
    base = np.arange(24.0).reshape(4, 6)
    for view in (base, base.T, base[::-1, ::2], np.asfortranarray(base), base[1:3, 2:5], base.view(Subclass), base[:0]):
        assert total(view) == view.sum() and total.interpret(view) == view.sum()
    shape = filterjit.jit(rank_and_size)
    assert shape(np.array(2.5)) == 1 and shape(np.zeros((2, 3, 4), np.int16)) == 3024 and shape(np.zeros(0)) == 1000


def biggest_minus_second(u):
    return u.max() - u[1]


def test_uint64_values_are_returned_as_ints():
    u = np.array([2**64 - 1, 5, 2**63], np.uint64)
    for function, expected in ((first, 2**64 - 1), (biggest_minus_second, 2**64 - 6)):
        jitted = filterjit.jit(function)
        assert jitted(u) == expected and jitted.interpret(u) == expected and type(jitted(u)) is int
    if importlib.util.find_spec("numba") is not None:
        import numba
        assert numba.njit(first)(u) == 2**64 - 1 and numba.njit(biggest_minus_second)(u) == 2**64 - 6
