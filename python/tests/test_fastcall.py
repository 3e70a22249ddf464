"""The C call of array functions (filterjit._fastcall, branch w15f): the same results, exceptions and messages as
the ctypes path (the fallback, FILTERJIT_NO_FASTCALL=1), its own checks (argument types, read-only arrays, ints
beyond int64, dtype changes, many arguments), threads calling one dispatcher, results freed, and a seeded fuzz of
argument layouts against the interpreter. Every test also passes without the extension (the ctypes path)."""

import os
import random
import subprocess
import threading

import numpy as np
import pytest

import filterjit
from filterjit import _array_function

FAST = _array_function.FAST_CALL


def counts():
    """(C calls, Python-path calls) so far; (0, 0) without the extension."""
    return _array_function._fastcall.counts() if FAST else (0, 0)


def python_path(dispatcher, *args):
    """The ctypes path (what the C call hands over to), called directly."""
    return _array_function._PYTHON_CALL(dispatcher, *args)


def outcome(call, *args):
    try:
        value = call(*args)
    except Exception as error:  # noqa: BLE001 - the very exception is what is compared
        return ("raised", type(error), str(error))
    return ("value", value)


def same(a, b):
    if a[0] != b[0]:
        return False
    if a[0] == "raised":
        return a == b
    x, y = a[1], b[1]
    if isinstance(x, np.ndarray):
        return isinstance(y, np.ndarray) and x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
    return type(x) is type(y) and (x == y or (x != x and y != y))


def addarr(x, y):
    result = np.zeros_like(x)
    for i in range(x.size):
        result[i] = x[i] + y[i]
    return result


def first(a):
    return a[0]


def pick(a, i):
    return a[i]


def scale_into(a, s):
    for i in range(len(a)):
        a[i] = a[i] * s
    return a


def is_positive(x):
    return x > 0


def twice(x):
    return x * 2


def nothing(a, b):
    a[0] = b[0]


def grid(a):
    m, n = a.shape
    out = np.zeros((m, n), np.float64)
    for i in range(m):
        for j in range(n):
            out[i, j] = a[i, j] * 2 + i - j
    return out


def total(a):
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += a[i, j]
    return s


def make(n):
    return np.zeros(n, np.uint16)


def first_of_empty(a):
    return a.max()


def sixteen(a0, a1, a2, a3, a4, a5, a6, a7, s8, s9, s10, s11, s12, s13, s14, s15):
    return a0[0] + a1[0] + a2[0] + a3[0] + a4[0] + a5[0] + a6[0] + a7[0] + s8 + s9 + s10 + s11 + s12 + s13 + s14 + s15


def seventeen(a0, a1, a2, a3, a4, a5, a6, a7, s8, s9, s10, s11, s12, s13, s14, s15, s16):
    return a0[0] + a1[0] + a2[0] + a3[0] + a4[0] + a5[0] + a6[0] + a7[0] + s8 + s9 + s10 + s11 + s12 + s13 + s14 + s15 + s16


def test_the_c_call_is_taken_when_built():
    """python_tests.sh builds the extension and sets FILTERJIT_EXPECT_FASTCALL=1: then it must be in use."""
    if os.environ.get("FILTERJIT_EXPECT_FASTCALL") == "1":
        assert FAST, "filterjit._fastcall is not in use (not built, or it failed to import)"
    if not FAST:
        pytest.skip("the extension is not built or FILTERJIT_NO_FASTCALL is set (ctypes path)")
    assert type(filterjit.Dispatcher.__call__).__name__ == "wrapper_descriptor"  # the base type's C tp_call
    f = filterjit.jit(addarr)
    x = np.arange(10, dtype=np.uint8)
    f(x, x)  # compiles through the Python path and fills the table
    before = counts()
    for _ in range(5):
        assert np.array_equal(f(x, x), x + x)
    after = counts()
    assert after[0] - before[0] == 5 and after[1] == before[1]
    assert f._fast_signature_count() == 1


INSTALLED_CHECK = """
import numpy as np
import filterjit
from filterjit import _array_function, _fastcall
assert _array_function.FAST_CALL, "the C call is not in use"
assert "site-packages" in _fastcall.__file__, _fastcall.__file__

@filterjit.jit
def addarr(x, y):
    result = np.zeros_like(x)
    for i in range(x.size):
        result[i] = x[i] + y[i]
    return result

x = np.arange(100, dtype=np.uint8)
for _ in range(3):
    assert np.array_equal(addarr(x, x), x + x)
assert _fastcall.counts() == (2, 1), _fastcall.counts()
print("C call in use:", _fastcall.__file__)
"""


@pytest.mark.skipif(not os.environ.get("FILTERJIT_TEST_VENV"), reason="python_tests.sh's fresh venv only")
def test_the_installed_package_takes_the_c_call(tmp_path):
    """`pip install ./python` (python_tests.sh's fresh venv) must build and use filterjit._fastcall."""
    venv = os.environ["FILTERJIT_TEST_VENV"]
    env = {key: value for key, value in os.environ.items()
           if key not in ("FILTERJIT_LIB", "PYTHONPATH", "FILTERJIT_NO_FASTCALL")}
    script = tmp_path / "installed_check.py"
    script.write_text(INSTALLED_CHECK)
    result = subprocess.run([os.path.join(venv, "bin", "python"), str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_results_of_every_kind_equal_the_python_path_and_the_interpreter():
    cases = [
        (filterjit.jit(first), [np.array([2**64 - 1, 3], np.uint64)]),
        (filterjit.jit(first), [np.array([-7, 3], np.int16)]),
        (filterjit.jit(first), [np.array([1.25, 3.0], np.float32)]),
        (filterjit.jit(first), [np.array([True, False])]),
        (filterjit.jit(pick), [np.arange(5.0), -2]),
        (filterjit.jit(pick), [np.arange(5.0), np.int32(3)]),
        (filterjit.jit(pick), [np.arange(5.0), True]),
        (filterjit.jit(pick), [np.arange(5.0), np.bool_(True)]),
        (filterjit.jit(is_positive), [np.float32(-0.5)]),
        (filterjit.jit(is_positive), [np.int8(3)]),
        (filterjit.jit(twice), [np.uint64(2**63 - 1)]),
        (filterjit.jit(twice), [2**63 - 1]),
        (filterjit.jit(twice), [-(2**63)]),
        (filterjit.jit(twice), [float("nan")]),
        (filterjit.jit(twice), [np.float64(-0.0)]),
        (filterjit.jit(grid), [np.arange(12.0).reshape(3, 4)[:, ::-2]]),
        (filterjit.jit(grid), [np.zeros((0, 3), np.int32)]),
        (filterjit.jit(total), [np.asfortranarray(np.arange(12, dtype=np.uint16).reshape(3, 4))]),
        (filterjit.jit(make), [3]),
        (filterjit.jit(make), [0]),
    ]
    for function, args in cases:
        expected = outcome(python_path, function, *args)
        for _ in range(3):  # the first call fills the C call's table; the next ones take it
            got = outcome(function, *args)
            assert same(got, expected), (function.__name__, args, got, expected)
        assert same(outcome(function.interpret, *args), expected), (function.__name__, args)


def test_a_returned_argument_is_the_very_object_and_writes_land_in_it():
    f = filterjit.jit(scale_into)
    a = np.arange(6.0)[::-1]
    for _ in range(3):
        assert f(a, 2) is a
    assert np.array_equal(a, np.arange(6.0)[::-1] * 8)
    g = filterjit.jit(nothing)
    x, y = np.zeros(2), np.array([5.0])
    for _ in range(2):
        assert g(x, y) is None
    assert x[0] == 5.0


def test_new_arrays_are_c_contiguous_writable_and_own_their_memory():
    f = filterjit.jit(grid)
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    for _ in range(3):
        r = f(a)
        assert r.flags.c_contiguous and r.flags.writeable and r.flags.aligned and r.dtype == np.float64
        assert r.shape == (2, 3) and r.ctypes.data % 64 == 0
        r[0, 0] = 42.0
        assert r[0, 0] == 42.0
    view = f(a)[1]  # a view keeps the result's memory alive after the array itself is gone
    del a
    assert np.array_equal(view, np.array([7.0, 8.0, 9.0]))
    if FAST:  # the owner of the memory is the C call's base object (the ctypes path's is a ctypes buffer)
        assert type(view.base.base).__name__ == "ResultMemory", type(view.base.base)


def test_failures_keep_their_exceptions_and_messages():
    f = filterjit.jit(addarr)
    x, y = np.zeros(5), np.zeros(3)
    f(x, x)
    for _ in range(2):
        with pytest.raises(IndexError) as raised:
            f(x, y)
        assert str(raised.value) == str(python_path_failure(f, x, y))
        assert "index 3 is out of bounds for axis 0 with size 3 (array 'y' of shape (3,)) at line" in str(raised.value)
    g = filterjit.jit(first_of_empty)
    g(np.ones(2))
    for _ in range(2):
        with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
            g(np.ones(0))
    h = filterjit.jit(make)
    h(2)
    for _ in range(2):
        with pytest.raises(ValueError, match="negative dimensions are not allowed"):
            h(-1)


def python_path_failure(function, *args):
    try:
        python_path(function, *args)
    except Exception as error:  # noqa: BLE001
        return error
    raise AssertionError("the Python path did not fail")


def test_wrong_arguments_raise_what_the_python_path_raises():
    f = filterjit.jit(addarr)
    x = np.zeros(3)
    f(x, x)
    wrong = [
        (x, [1, 2, 3]), (x, "abc"), (x, None), (x, 1j), (x, np.zeros(3, np.float16)), (x, np.zeros(3, ">f8")),
        (x, np.zeros(3, np.complex128)), (x, np.zeros(3, object)), (x, np.zeros(3, "U1")), (x,), (x, x, x),
        (x, 2**63), (x, -(2**63) - 1), (x, np.uint64(2**64 - 1)), (x, 10**30),
    ]
    for args in wrong:
        expected = outcome(python_path, f, *args)
        assert expected[0] == "raised", args
        assert same(outcome(f, *args), expected), (args, outcome(f, *args), expected)
    with pytest.raises(OverflowError, match="does not fit an int64"):
        filterjit.jit(twice)(2**64)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        f(x, y=x)


def test_read_only_arrays_are_refused_by_either_path():
    f = filterjit.jit(addarr)
    x = np.zeros(4)
    f(x, x)
    frozen = np.zeros(4)
    frozen.flags.writeable = False
    for args in ((frozen, x), (x, frozen), (np.broadcast_to(x, (4,)), x)):
        with pytest.raises(ValueError, match="read-only; array functions may write into their arguments"):
            f(*args)
        assert same(outcome(f, *args), outcome(python_path, f, *args))


def test_a_dtype_change_is_a_new_signature_and_never_a_wrong_read():
    f = filterjit.jit(first)
    a = np.array([1.5, 2.5])
    assert f(a) == 1.5 and f(a) == 1.5
    a.dtype = np.int64
    assert f(a) == np.array([1.5]).view(np.int64)[0] and f(a) == a[0]
    a.dtype = np.uint8
    assert f(a) == a[0] and a.shape == (16,)
    assert f.signatures == ["(float64[:])", "(int64[:])", "(uint8[:])"]
    # Another thread flips the dtype while calls run: each call reads one consistent dtype (the C call reads the
    # array with the GIL held; the Python path refuses a dtype changed between its reads).
    b = np.array([1.5, 2.5, 3.5, 4.5])
    as_int = b.view(np.int64)[0]
    stop = threading.Event()

    def flip():
        while not stop.is_set():
            b.dtype = np.int64
            b.dtype = np.float64

    thread = threading.Thread(target=flip)
    thread.start()
    try:
        for _ in range(3000):
            try:
                value = f(b)
            except ValueError as error:
                assert "dtype changed during the call" in str(error)
                continue
            assert value in (1.5, as_int), value
    finally:
        stop.set()
        thread.join()


def test_sixteen_arguments_take_the_c_call_and_seventeen_the_python_path():
    arrays = [np.array([k + 1], dtype=dtype) for k, dtype in
              enumerate(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "float64"])]
    scalars = [9, 10.5, True, np.int16(12), np.float32(13.5), -14, np.uint8(15), 16]
    f = filterjit.jit(sixteen)
    expected = 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10.5 + 1 + 12 + 13.5 - 14 + 15 + 16
    for _ in range(3):
        assert f(*arrays, *scalars) == expected
    before = counts()
    assert f(*arrays, *scalars) == expected
    if FAST:
        assert counts()[0] == before[0] + 1
    g = filterjit.jit(seventeen)
    for _ in range(2):
        assert g(*arrays, *scalars, 17) == expected + 17
    before = counts()
    g(*arrays, *scalars, 17)
    if FAST:
        assert counts()[0] == before[0] and counts()[1] == before[1] + 1


def test_threads_calling_one_dispatcher_at_once():
    f = filterjit.jit(addarr)
    rng = np.random.default_rng(5)
    inputs = {dtype: ((rng.random(5000) * 100).astype(dtype), (rng.random(5000) * 100).astype(dtype))
              for dtype in ("uint8", "int32", "float64", "float32")}
    expected = {dtype: x + y for dtype, (x, y) in inputs.items()}
    failures = []
    start = threading.Barrier(6)

    def work(index):
        try:
            start.wait()
            names = list(inputs)
            for k in range(300):
                dtype = names[(index + k) % len(names)]
                x, y = inputs[dtype]
                r = f(x, y)
                if r.dtype != x.dtype or r.tobytes() != expected[dtype].tobytes():
                    failures.append((index, k, dtype))
                if k % 50 == 0:
                    try:
                        f(x, y[:10])
                    except IndexError as error:
                        if "array 'y' of shape (10,)" not in str(error):
                            failures.append((index, k, str(error)))
                    else:
                        failures.append((index, k, "no IndexError"))
        except Exception as error:  # noqa: BLE001
            failures.append((index, repr(error)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:5]
    assert sorted(f.signatures) == sorted(f"({d}[:], {d}[:])" for d in inputs)


def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_results_are_freed_no_growth_over_a_hundred_thousand_calls():
    f = filterjit.jit(addarr)
    g = filterjit.jit(grid)
    x = np.arange(2000, dtype=np.float64)  # 16 kB a result: 1.6 GB if none were freed
    a = np.ones((8, 8))
    for _ in range(2000):
        f(x, x)
        g(a)
    before = resident_bytes()
    for _ in range(100_000):
        f(x, x)
    for _ in range(20_000):
        g(a)[1:3]
    kept = [f(x, x) for _ in range(100)]
    del kept
    growth = resident_bytes() - before
    assert growth < 32 * 2**20, f"resident memory grew by {growth / 2**20:.1f} MiB over 10^5 calls"


def test_seeded_fuzz_of_argument_layouts_against_the_interpreter():
    seed = int(os.environ.get("FILTERJIT_FUZZ_SEED", random.randrange(2**32)))
    print(f"fastcall fuzz seed {seed} (FILTERJIT_FUZZ_SEED={seed} reruns it)")
    rng = np.random.default_rng(seed)
    functions = [filterjit.jit(f) for f in (addarr, total, grid, first, scale_into, pick)]
    by_name = {f.__name__: f for f in functions}
    dtypes = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]

    def array(rank):
        dtype = dtypes[rng.integers(len(dtypes))]
        shape = tuple(int(rng.integers(0, 6)) for _ in range(rank))
        if rng.random() < 0.5:
            shape = tuple(max(s, 1) for s in shape)
        base_shape = tuple(s * 2 + 1 for s in shape)
        base = (rng.random(base_shape) * 200 - 100).astype(dtype) if dtype != "bool" else rng.random(base_shape) < 0.5
        index = tuple(slice(None, None, int(rng.choice([1, 2, -1, -2]))) for _ in shape)
        view = base[index][tuple(slice(0, s) for s in shape)]
        if rank == 2 and rng.random() < 0.3:
            view = view.T
        return view

    for round_ in range(150):
        name = ["addarr", "total", "grid", "first", "scale_into", "pick"][round_ % 6]
        function = by_name[name]
        if name == "addarr":
            x = array(1)
            y = x.copy() if rng.random() < 0.7 else array(1)
            args = [x, y]
        elif name in ("total", "grid"):
            args = [array(2)]
        elif name == "first":
            args = [array(int(rng.integers(1, 3)))]
        elif name == "scale_into":
            args = [array(1), [2, -1, 0.5, True, np.int8(3)][int(rng.integers(5))]]
        else:
            a = array(1)
            args = [a, int(rng.integers(-7, 7))]
        copies = [arg.copy() if isinstance(arg, np.ndarray) else arg for arg in args]
        got = outcome(function, *args)
        expected = outcome(function.interpret, *copies)
        # A returned argument array (not a small int that happens to be the int argument's cached object).
        if got[0] == "value" and isinstance(got[1], np.ndarray) and any(got[1] is arg for arg in args):
            got = ("value", got[1].copy())
            expected = ("value", expected[1].copy())
        assert same(got, expected), (seed, round_, name, [getattr(a, "dtype", a) for a in args], got, expected)
        for a, b in zip(args, copies):
            if isinstance(a, np.ndarray):
                assert a.tobytes() == b.tobytes(), (seed, round_, name)


def pick_scaled(a, k):
    return a[0] * k


def test_scalar_subclasses_convert_before_any_array_is_read():
    # A subclass's __int__ / __float__ is Python code: it could resize or free an array whose data pointer the C call
    # had already laid out. Such scalars take the Python path, which converts every scalar before reading arrays.
    f = filterjit.jit(pick_scaled)
    a = np.arange(1.0, 10**6 + 1)
    assert f(a, 2) == 2.0  # the signature (float64[:], int64) is compiled and in the C call's table

    class Resizing(np.int64):
        def __int__(self):
            a.resize((1,), refcheck=False)  # frees the data laid out before this argument was read
            return 3

    before = counts()
    assert f(a, Resizing(5)) == 3.0
    assert a.shape == (1,)
    if FAST:
        assert counts()[1] == before[1] + 1  # the Python path took it

    class Four(int):
        def __int__(self):
            return 198

    class Half(float):
        def __float__(self):
            return 0.25

    g = filterjit.jit(twice)
    for value in (Four(4), Half(3.0), np.int16(7), np.float32(1.5), True):
        assert same(outcome(g, value), outcome(lambda v: python_path(g, v), value)), value


def test_a_patched_call_is_what_instances_call():
    f = filterjit.jit(twice)
    assert f(2) == 4
    original = filterjit.Dispatcher.__dict__.get("__call__")
    filterjit.Dispatcher.__call__ = lambda self, *args, **kwargs: ("patched", args, kwargs)
    try:
        assert f(2) == ("patched", (2,), {})
        assert f(2, k=1) == ("patched", (2,), {"k": 1})
    finally:
        if original is None:
            del filterjit.Dispatcher.__call__
        else:  # pragma: no cover - the ctypes path defines it
            filterjit.Dispatcher.__call__ = original
    assert f(2) == 4
