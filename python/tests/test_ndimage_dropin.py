"""filterjit.ndimage against scipy.ndimage, call for call, bit for bit: every covered function over the
eight modes, several dtypes (NaN and -0.0 included), sizes, footprints, structures, origins, axes,
output dtypes and ranks 1 to 3. Cases are drawn from a seeded generator (the seed is printed)."""

import itertools
import random
import zlib

import numpy as np
import pytest
import scipy.ndimage as sp

import filterjit.ndimage as fj

SEED = 20261204
MODES = ["reflect", "constant", "nearest", "mirror", "wrap", "grid-mirror", "grid-constant", "grid-wrap"]
DTYPES = ["float64", "float32", "uint8", "int16", "uint16", "int32", "int64"]
SHAPES = [(23,), (9, 11), (12, 7), (5, 6, 4)]


def make_input(rng: np.random.Generator, shape, dtype, special: bool) -> np.ndarray:
    """Random data with many ties; floats with NaN and -0.0 sprinkled in when `special`."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        data = rng.integers(-3, 4, size=shape).astype(dtype) * dtype.type(0.5) + rng.random(shape).astype(dtype) * (
            rng.random(shape) < 0.5)
        if special:
            data[rng.random(shape) < 0.15] = np.nan
            data[rng.random(shape) < 0.15] = -0.0
            data[rng.random(shape) < 0.1] = 0.0
        return data
    info = np.iinfo(dtype)
    low, high = max(info.min, -40), min(info.max, 40)
    return rng.integers(low, high + 1, size=shape).astype(dtype)


def same_bits(expected: np.ndarray, actual: np.ndarray) -> bool:
    return (expected.dtype == actual.dtype and expected.shape == actual.shape
            and np.array_equal(np.ascontiguousarray(expected).view(np.uint8),
                               np.ascontiguousarray(actual).view(np.uint8)))


def window_arguments(rng: random.Random, ndim: int, allow_structure: bool):
    """Keyword arguments describing a window: size, footprint or (optionally) structure, with origins."""
    choice = rng.choice(["size", "sizes", "footprint", "footprint_full", "structure"] if allow_structure
                        else ["size", "sizes", "footprint", "footprint_full"])
    if choice == "size":
        lengths = [rng.choice([1, 2, 3, 4, 5])] * ndim
        arguments = {"size": lengths[0]}
    elif choice == "sizes":
        lengths = [rng.choice([1, 2, 3, 4]) for _ in range(ndim)]
        arguments = {"size": tuple(lengths)}
    else:
        lengths = [rng.choice([1, 2, 3]) for _ in range(ndim)]
        if choice == "footprint_full":
            mask = np.ones(lengths, bool)
        else:
            mask = np.array([rng.random() < 0.6 for _ in range(int(np.prod(lengths)))]).reshape(lengths)
            mask.flat[rng.randrange(mask.size)] = True
        if choice == "structure":
            arguments = {"structure": np.array([rng.choice([0.0, -0.0, 1.0, 0.5, -2.0, 3.25]) for _ in mask.flat])
                         .reshape(lengths)}
            if rng.random() < 0.5:
                arguments["footprint"] = mask
        else:
            arguments = {"footprint": mask}
    if rng.random() < 0.5:
        arguments["origin"] = [rng.randint(-(length // 2), (length - 1) - length // 2) for length in lengths]
    return arguments


def cases(function: str, count: int, allow_structure=False, dtypes=DTYPES):
    rng = random.Random(f"{SEED}-{function}")
    for index in range(count):
        shape = rng.choice(SHAPES)
        dtype = rng.choice(dtypes)
        special = rng.random() < 0.5
        arguments = window_arguments(rng, len(shape), allow_structure)
        arguments["mode"] = rng.choice(MODES)
        if rng.random() < 0.5:
            arguments["cval"] = rng.choice([0.0, -0.0, 1.5, -2.0, float("nan")] if np.dtype(dtype).kind == "f"
                                           else [0.0, 3.0, 7.0])
        if rng.random() < 0.2:
            arguments["output"] = rng.choice(["float64", "float32", "int32"])
        yield pytest.param(index, shape, dtype, special, arguments, id=f"{function}-{index}")


def compare(function: str, shape, dtype, special, arguments, leading=()):
    data = make_input(np.random.default_rng(zlib.crc32(repr((function, shape, dtype, arguments)).encode())),
                      shape, dtype, special)
    if "structure" in arguments and dtype != "float64":
        with pytest.raises(NotImplementedError, match=f"scipy.ndimage.{function}"):
            getattr(fj, function)(data, *leading, **arguments)
        return
    try:
        expected = getattr(sp, function)(data, *leading, **arguments)
    except Exception as error:  # SciPy refuses: so must we, with the same exception type
        with pytest.raises(type(error)):
            getattr(fj, function)(data, *leading, **arguments)
        return
    try:
        actual = getattr(fj, function)(data, *leading, **arguments)
    except NotImplementedError as error:
        assert f"scipy.ndimage.{function}" in str(error)
        assert data.ndim == 1 and special, f"refused a form that should be covered: {error}"
        return
    assert same_bits(expected, actual), f"{function}{arguments} on {dtype} {shape}:\n{expected}\n{actual}"


@pytest.mark.parametrize("index,shape,dtype,special,arguments", list(cases("minimum_filter", 60)))
def test_minimum_filter_equals_scipy(index, shape, dtype, special, arguments):
    compare("minimum_filter", shape, dtype, special, arguments)


@pytest.mark.parametrize("index,shape,dtype,special,arguments", list(cases("maximum_filter", 60)))
def test_maximum_filter_equals_scipy(index, shape, dtype, special, arguments):
    compare("maximum_filter", shape, dtype, special, arguments)


@pytest.mark.parametrize("index,shape,dtype,special,arguments",
                         [case for case in cases("uniform_filter", 60) if "footprint" not in case.values[4]])
def test_uniform_filter_equals_scipy(index, shape, dtype, special, arguments):
    compare("uniform_filter", shape, dtype, special, arguments)


@pytest.mark.parametrize("index,shape,dtype,special,arguments", list(cases("median_filter", 60)))
def test_median_filter_equals_scipy(index, shape, dtype, special, arguments):
    compare("median_filter", shape, dtype, special, arguments)


@pytest.mark.parametrize("index,shape,dtype,special,arguments", list(cases("rank_filter", 60)))
def test_rank_filter_equals_scipy(index, shape, dtype, special, arguments):
    compare("rank_filter", shape, dtype, special, arguments, leading=(index % 5 - 2,))


@pytest.mark.parametrize("index,shape,dtype,special,arguments", list(cases("percentile_filter", 60)))
def test_percentile_filter_equals_scipy(index, shape, dtype, special, arguments):
    compare("percentile_filter", shape, dtype, special, arguments, leading=([0, 10, 33.3, 50, 99.9, 100, -20][index % 7],))


MORPHOLOGY = ["grey_erosion", "grey_dilation", "grey_opening", "grey_closing", "morphological_gradient",
              "white_tophat", "black_tophat"]


@pytest.mark.parametrize("function", MORPHOLOGY)
@pytest.mark.parametrize("index,shape,dtype,special,arguments",
                         list(cases("morphology", 25, allow_structure=True, dtypes=["float64", "float32", "uint8",
                                                                                    "int16"])))
def test_grey_morphology_equals_scipy(function, index, shape, dtype, special, arguments):
    compare(function, shape, dtype, special, arguments)


@pytest.mark.parametrize("function", ["minimum_filter1d", "maximum_filter1d", "uniform_filter1d"])
@pytest.mark.parametrize("size,axis,origin,mode", [
    (size, axis, origin, mode) for (size, axis), mode in itertools.product([(1, 0), (2, -1), (3, 1), (6, 0)], MODES)
    for origin in sorted({0, -(size // 2), (size - 1) - size // 2})])
@pytest.mark.parametrize("dtype", ["float64", "float32", "uint8"])
def test_filters_1d_equal_scipy(function, size, axis, origin, mode, dtype):
    data = make_input(np.random.default_rng(size * 7 + origin), (8, 9), dtype, special=True)
    arguments = dict(size=size, axis=axis, origin=origin, mode=mode, cval=-1.5)
    assert same_bits(getattr(sp, function)(data, **arguments), getattr(fj, function)(data, **arguments))


def test_filters_1d_fuzz_equal_scipy():
    """The 1-D filters over every integer width (which take the window strategies where that gives SciPy's
    bits: min/max without NaN or -0.0, integer means whose running sums are exact), floats with NaN and -0.0,
    cvals SciPy's running sum does not hold exactly (3.7, NaN, inf), other output dtypes and in-place outputs."""
    seed = SEED + 1
    print("filters_1d_fuzz seed", seed)
    rng = np.random.default_rng(seed)
    problems = []
    for case in range(400):
        dtype = str(rng.choice(["uint8", "int8", "uint16", "int16", "int32", "uint32", "int64", "float32", "float64"]))
        shape = tuple(int(n) for n in rng.integers(1, 12, int(rng.integers(1, 4))))
        if np.dtype(dtype).kind == "f":
            data = make_input(rng, shape, dtype, special=bool(rng.random() < 0.3))
        else:
            info = np.iinfo(dtype)
            data = rng.integers(max(info.min, -10**6), min(info.max, 10**6), shape, endpoint=True).astype(dtype)
        size = int(rng.integers(1, 9))
        arguments = dict(size=size, axis=int(rng.integers(-len(shape), len(shape))), mode=str(rng.choice(MODES)),
                         cval=float(rng.choice([0.0, 3.0, 3.7, -1.0, 300.0, -0.0, np.nan, np.inf])),
                         origin=int(rng.integers(-(size // 2), (size - 1) // 2 + 1)))
        output = None if rng.random() < 0.6 else str(rng.choice(["float64", "float32", "int16", "uint8", dtype]))
        in_place = output is None and rng.random() < 0.2
        for function in ["uniform_filter1d", "minimum_filter1d", "maximum_filter1d"]:
            with np.errstate(all="ignore"):
                if in_place:
                    expected, actual = data.copy(), data.copy()
                    getattr(sp, function)(expected, output=expected, **arguments)
                    getattr(fj, function)(actual, output=actual, **arguments)
                else:
                    expected = getattr(sp, function)(data, output=output, **arguments)
                    actual = getattr(fj, function)(data, output=output, **arguments)
            if not same_bits(expected, actual):
                problems.append((case, function, dtype, shape, arguments, output, in_place))
    assert not problems, problems[:5]


def test_filters_1d_edge_cases_equal_scipy():
    """Where the 1-D filters must not take the window strategies: size 1 (SciPy still passes the values through
    its double line buffers: int64 beyond 2**53 rounds), and running sums past 2**53 (windows of more than 2**21
    taps over large 32-bit values, which SciPy's running sum rounds)."""
    x = np.array([2**53 + 1, 5, -7, 2**60 + 3], np.int64)
    for function in ["minimum_filter1d", "maximum_filter1d", "uniform_filter1d"]:
        assert same_bits(getattr(sp, function)(x, 1), getattr(fj, function)(x, 1)), function
    y = np.array([4294967295, 4294967291, 4294967293, 3, 4294967295] * 2, np.uint32)
    for mode, cval in [("wrap", 0.0), ("constant", 2.0**32 - 1), ("reflect", 0.0)]:
        arguments = dict(size=2**22, mode=mode, cval=cval)  # (the line filters take at most 2**22)
        for output in [None, np.float64]:
            assert same_bits(sp.uniform_filter1d(y, output=output, **arguments),
                             fj.uniform_filter1d(y, output=output, **arguments)), (mode, output)


def test_axes_select_the_filtered_axes_as_scipy():
    data = make_input(np.random.default_rng(3), (6, 7, 5), "float64", special=False)
    for function in ["minimum_filter", "maximum_filter", "median_filter", "uniform_filter", "grey_erosion"]:
        for axes in [(0,), (1, 2), (-1, 0)]:
            arguments = dict(size=3, axes=axes, mode="nearest")
            assert same_bits(getattr(sp, function)(data, **arguments), getattr(fj, function)(data, **arguments)), \
                (function, axes)


def test_output_array_is_filled_and_returned_as_scipy():
    data = make_input(np.random.default_rng(4), (10, 10), "float32", special=False)
    for function in ["minimum_filter", "median_filter", "uniform_filter", "grey_dilation"]:
        expected, actual = np.empty((10, 10), np.float64), np.empty((10, 10), np.float64)
        getattr(sp, function)(data, size=3, output=expected)
        assert getattr(fj, function)(data, size=3, output=actual) is actual
        assert same_bits(expected, actual), function


def test_output_aliasing_input_gives_scipys_result():
    data = make_input(np.random.default_rng(5), (12, 9), "float64", special=False)
    for function in ["minimum_filter", "median_filter", "uniform_filter"]:
        expected = getattr(sp, function)(data.copy(), size=3)
        aliased = data.copy()
        getattr(fj, function)(aliased, size=3, output=aliased)
        assert same_bits(expected, aliased), function


def test_large_median_on_2048_square_equals_scipy():
    data = np.random.default_rng(6).random((2048, 2048))
    assert same_bits(sp.median_filter(data, size=5), fj.median_filter(data, size=5))


def test_generic_filter_with_python_function_equal_scipy():
    data = make_input(np.random.default_rng(7), (9, 10), "float64", special=False)

    def spread(values):
        return max(values) - min(values)
    scale = 3.0

    def uses_a_global(values):
        return values[0] * scale
    for function in (spread, uses_a_global, "max(values) - min(values)"):
        expected = sp.generic_filter(data, spread if isinstance(function, str) else function, size=3)
        assert same_bits(expected, fj.generic_filter(data, function, size=3))
    assert same_bits(sp.generic_filter(data, lambda v, k: v.sum() * k, size=2, extra_arguments=(2.0,)),
                     fj.generic_filter(data, lambda v, k: v.sum() * k, size=2, extra_arguments=(2.0,)))


def test_generic_filter1d_with_python_function_equals_scipy():
    data = make_input(np.random.default_rng(8), (7, 12), "float64", special=False)

    def moving_sum(line, out):
        for i in range(len(out)):
            out[i] = line[i] + line[i + 1] + line[i + 2]
    assert same_bits(sp.generic_filter1d(data, moving_sum, 3), fj.generic_filter1d(data, moving_sum, 3))


@pytest.mark.parametrize("name", ["gaussian_filter", "sobel", "label", "zoom", "correlate"])
def test_uncovered_scipy_names_raise_not_implemented_naming_them(name):
    with pytest.raises(NotImplementedError, match=f"scipy.ndimage.{name}"):
        getattr(fj, name)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError):
        fj.no_such_function  # noqa: B018


def test_non_flat_structure_on_integers_is_refused_naming_scipys_function():
    with pytest.raises(NotImplementedError, match="scipy.ndimage.grey_erosion"):
        fj.grey_erosion(np.zeros((4, 4), np.uint8), structure=np.ones((3, 3)))
