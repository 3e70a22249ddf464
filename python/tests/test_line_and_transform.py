"""smooth1d with generic_filter1d and shift with geometric_transform: FilterJIT callables equal the
same functions in plain Python; filterjit.generic_filter1d equals SciPy."""

import numpy as np
import pytest
import scipy.ndimage as ndi

import filterjit
from conftest import example_text, plain_python

MODES = ["reflect", "constant", "nearest", "mirror", "wrap"]


@pytest.fixture(scope="module")
def smooth():
    text = example_text("smooth1d")
    return filterjit.jit_filter1d(text), plain_python(text)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.uint8])
@pytest.mark.parametrize("filter_size,origin", [(1, 0), (2, -1), (3, 0), (3, 1), (5, -2), (12, 3)])
def test_line_filter_callable_equals_plain_python(smooth, dtype, filter_size, origin):
    callable_, plain = smooth
    image = (np.random.default_rng(7).random((6, 9)) * 20).astype(dtype)
    for axis in (0, -1):
        for mode in MODES:
            expected = ndi.generic_filter1d(image, plain, filter_size, axis=axis, mode=mode, cval=1.5, origin=origin)
            actual = ndi.generic_filter1d(image, callable_, filter_size, axis=axis, mode=mode, cval=1.5, origin=origin)
            np.testing.assert_array_equal(actual, expected, err_msg=f"axis {axis} {mode}")


@pytest.mark.parametrize("engine", ["fused", "callback"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_filterjit_generic_filter1d_equals_scipy(smooth, engine, threads):
    callable_, _ = smooth
    rng = np.random.default_rng(8)
    for image in [rng.random((200, 170)), (rng.random((7, 300, 40)) * 100).astype(np.int16)]:
        for axis in range(image.ndim):
            for mode, (size, origin) in zip(MODES, [(3, 0), (4, 1), (7, -3), (2, 0), (9, 4)]):
                expected = ndi.generic_filter1d(image, callable_, size, axis=axis, mode=mode, cval=-3.0, origin=origin)
                actual = filterjit.generic_filter1d(image, callable_, size, axis=axis, mode=mode, cval=-3.0,
                                                    origin=origin, engine=engine, threads=threads)
                np.testing.assert_array_equal(actual, expected, err_msg=f"axis {axis} {mode}")


def test_generic_filter1d_argument_errors(smooth):
    callable_, _ = smooth
    with pytest.raises(RuntimeError, match="invalid filter size"):
        filterjit.generic_filter1d(np.zeros(5), callable_, 0)
    with pytest.raises(ValueError, match="invalid origin"):
        filterjit.generic_filter1d(np.zeros(5), callable_, 3, origin=2)
    with pytest.raises(np.exceptions.AxisError):
        filterjit.generic_filter1d(np.zeros((5, 5)), callable_, 3, axis=2)


@pytest.mark.parametrize("order", [0, 1, 3])
@pytest.mark.parametrize("mode", ["constant", "nearest", "reflect", "wrap", "grid-wrap"])
def test_transform_callable_equals_plain_python(order, mode):
    text = example_text("shift")
    plain_shift = plain_python(text)
    image = np.random.default_rng(9).random((7, 6))
    for dy, dx in ((0.5, 0.25), (-1.25, 2.0)):
        callable_ = filterjit.jit_transform(text, dy=dy, dx=dx)

        def mapping(output_coordinates):
            input_coordinates = [0.0] * image.ndim
            plain_shift(output_coordinates, input_coordinates, dy, dx)
            return tuple(input_coordinates)

        expected = ndi.geometric_transform(image, mapping, order=order, mode=mode, cval=-1.0)
        actual = ndi.geometric_transform(image, callable_, order=order, mode=mode, cval=-1.0)
        np.testing.assert_array_equal(actual, expected)


def test_decorated_line_filter_and_transform_match_their_python_functions():
    @filterjit.jit_filter1d_function
    def running_max(line, out):
        window = len(line) - len(out) + 1
        for i in range(len(out)):
            best = line[i]
            for k in range(1, window):
                if line[i + k] > best:
                    best = line[i + k]
            out[i] = best

    @filterjit.jit_geometric_function(scale=2.0)
    def zoom_out(out_coords, in_coords, scale=1.0):
        for d in range(len(out_coords)):
            in_coords[d] = out_coords[d] * scale

    image = np.random.default_rng(10).random((8, 11))
    np.testing.assert_array_equal(ndi.generic_filter1d(image, running_max, 4),
                                  ndi.generic_filter1d(image, running_max.py_func, 4))

    def mapping(coordinates):
        result = [0.0, 0.0]
        zoom_out.py_func(coordinates, result, 2.0)
        return tuple(result)

    np.testing.assert_array_equal(ndi.geometric_transform(image, zoom_out, order=1),
                                  ndi.geometric_transform(image, mapping, order=1))
