"""Every example kernel: SciPy with FilterJIT's LowLevelCallable equals SciPy with the same function
in plain Python, and filterjit.generic_filter (both engines, several thread counts) equals SciPy."""

import numpy as np
import pytest
import scipy.ndimage as ndi

import filterjit
from conftest import example_text, plain_python

FILTER_EXAMPLES = ["fmin", "erode_loop", "min", "mean", "median", "threshold", "contrast", "degree"]
MODES = ["reflect", "constant", "nearest", "mirror", "wrap"]
FOOTPRINTS = {
    "box3x3": np.ones((3, 3), bool),
    "cross": ndi.generate_binary_structure(2, 1),
    "holed2x3": np.array([[1, 0, 1], [0, 1, 1]], bool),
    "row1x4": np.ones((1, 4), bool),
}
# Valid origins per footprint (SciPy: -(s//2) <= o <= (s-1) - s//2).
ORIGINS = {"box3x3": [(0, 0), (1, -1)], "cross": [(0, 0), (-1, 1)], "holed2x3": [(0, 0), (-1, 1)],
           "row1x4": [(0, 0), (0, -2)]}
DTYPES = [np.float64, np.float32, np.uint8, np.int16]


def make_image(dtype, shape=(9, 8), seed=1):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.random(shape) * 4 - 1).astype(dtype)
    return rng.integers(0, 4 if dtype == np.uint8 else 50, size=shape).astype(dtype)


def footprints_for(name):
    # degree reads values[4], the centre of a 3x3 window: only footprints with at least 5 taps.
    return ["box3x3", "cross"] if name == "degree" else list(FOOTPRINTS)


CASES = [(name, fp, origin) for name in FILTER_EXAMPLES for fp in footprints_for(name) for origin in ORIGINS[fp]]


@pytest.fixture(scope="module")
def kernels():
    return {name: (filterjit.jit_filter(example_text(name)), plain_python(example_text(name)))
            for name in FILTER_EXAMPLES}


@pytest.mark.parametrize("name,fp,origin", CASES)
def test_low_level_callable_equals_plain_python(kernels, name, fp, origin):
    callable_, plain = kernels[name]
    for dtype in DTYPES:
        image = make_image(dtype)
        for mode in MODES:
            expected = ndi.generic_filter(image, plain, footprint=FOOTPRINTS[fp], mode=mode, cval=-0.5, origin=origin)
            actual = ndi.generic_filter(image, callable_, footprint=FOOTPRINTS[fp], mode=mode, cval=-0.5, origin=origin)
            assert actual.dtype == expected.dtype
            np.testing.assert_array_equal(actual, expected, err_msg=f"{name} {dtype.__name__} {mode}")


@pytest.mark.parametrize("engine", ["fused", "callback"])
@pytest.mark.parametrize("name,fp,origin", CASES)
def test_filterjit_generic_filter_equals_scipy(kernels, engine, name, fp, origin):
    callable_, _ = kernels[name]
    for dtype in DTYPES:
        image = make_image(dtype, shape=(40, 13), seed=2)
        for mode, threads in zip(MODES, [1, 2, 3, 4, 1]):
            expected = ndi.generic_filter(image, callable_, footprint=FOOTPRINTS[fp], mode=mode, cval=2.5, origin=origin)
            actual = filterjit.generic_filter(image, callable_, footprint=FOOTPRINTS[fp], mode=mode, cval=2.5,
                                              origin=origin, engine=engine, threads=threads)
            assert actual.dtype == expected.dtype
            np.testing.assert_array_equal(actual, expected, err_msg=f"{name} {dtype.__name__} {mode} {threads}")


@pytest.mark.parametrize("dtype", [np.float64, np.uint8])
@pytest.mark.parametrize("threads", [1, 2, 5])
@pytest.mark.parametrize("mode", MODES)
def test_threaded_slabs_equal_scipy_on_a_larger_image(kernels, dtype, threads, mode):
    # Large enough (>= 16k elements per slab) for the driver to really split the rows.
    image = make_image(dtype, shape=(257, 130), seed=3)
    callable_, _ = kernels["mean"]
    for footprint, origin in [(np.ones((5, 3), bool), (2, 0)), (np.ones((1, 3), bool), (0, 1)),
                              (np.ones((4, 4), bool), (-2, 1)), (FOOTPRINTS["holed2x3"], (-1, 1)),
                              (np.ones((90, 1), bool), (0, 0))]:
        expected = ndi.generic_filter(image, callable_, footprint=footprint, mode=mode, cval=-1.0, origin=origin)
        actual = filterjit.generic_filter(image, callable_, footprint=footprint, mode=mode, cval=-1.0, origin=origin,
                                          threads=threads)
        np.testing.assert_array_equal(actual, expected)


def test_strided_byteswapped_and_fortran_inputs_and_output_dtypes(kernels):
    callable_, _ = kernels["contrast"]
    base = make_image(np.float64, shape=(30, 40), seed=4)
    variants = [base[::-2, 1::3], base.astype(">f8"), np.asfortranarray(base), base.T, base.astype(np.int32)]
    for image in variants:
        for output in [None, np.float32, np.uint16]:
            expected = ndi.generic_filter(image, callable_, size=(3, 2), output=output, mode="mirror")
            actual = filterjit.generic_filter(image, callable_, size=(3, 2), output=output, mode="mirror")
            assert actual.dtype == expected.dtype
            np.testing.assert_array_equal(actual, expected)
    # An output array given by the caller, non-contiguous and byte-swapped, is filled in place.
    output = np.zeros((40, 30), ">f4").T
    result = filterjit.generic_filter(base, callable_, size=3, output=output)
    assert result is output
    np.testing.assert_array_equal(output, ndi.generic_filter(base, callable_, size=3, output=np.float32))


def test_output_aliasing_input_gives_the_unaliased_result(kernels):
    callable_, _ = kernels["mean"]
    image = make_image(np.float64, shape=(20, 20), seed=5)
    expected = ndi.generic_filter(image, callable_, size=3)
    filterjit.generic_filter(image, callable_, size=3, output=image)
    np.testing.assert_array_equal(image, expected)


def test_axes_and_three_dimensional_inputs(kernels):
    callable_, _ = kernels["median"]
    image = make_image(np.float64, shape=(6, 7, 40), seed=6)
    for axes, size in [((0, 2), (3, 2)), ((1,), (4,)), (None, (2, 3, 3))]:
        expected = ndi.generic_filter(image, callable_, size=size, axes=axes, mode="wrap")
        actual = filterjit.generic_filter(image, callable_, size=size, axes=axes, mode="wrap", threads=3)
        np.testing.assert_array_equal(actual, expected)


def test_argument_errors_match_scipy(kernels):
    callable_, _ = kernels["min"]
    image = np.zeros((5, 5))
    with pytest.raises(ValueError, match="invalid origin"):
        filterjit.generic_filter(image, callable_, size=3, origin=2)
    with pytest.raises(RuntimeError, match="boundary mode not supported"):
        filterjit.generic_filter(image, callable_, size=3, mode="bogus")
    with pytest.raises(RuntimeError, match="no footprint or filter size provided"):
        filterjit.generic_filter(image, callable_)
    with pytest.raises(RuntimeError, match="output shape not correct"):
        filterjit.generic_filter(image, callable_, size=3, output=np.zeros((4, 5)))
    with pytest.raises(TypeError, match="Complex"):
        filterjit.generic_filter(image.astype(complex), callable_, size=3)
    with pytest.raises(RuntimeError, match="must match len"):
        filterjit.generic_filter(image, callable_, footprint=np.ones(3, bool))
    with pytest.warns(UserWarning, match="ignoring size"):
        filterjit.generic_filter(image, callable_, size=3, footprint=np.ones((3, 3)))
    with pytest.raises(ValueError, match="engine"):
        filterjit.generic_filter(image, callable_, size=3, engine="turbo")
    with pytest.raises(TypeError, match="scipy.ndimage.generic_filter"):
        filterjit.generic_filter(image, np.min, size=3)
