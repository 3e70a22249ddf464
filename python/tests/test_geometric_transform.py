"""filterjit.geometric_transform and filterjit.map_coordinates equal scipy.ndimage's, bit for bit."""

import numpy as np
import pytest
import scipy.ndimage as ndi

import filterjit
from conftest import example_text

MODES = ["constant", "nearest", "reflect", "mirror", "wrap", "grid-constant", "grid-wrap", "grid-mirror"]


@pytest.fixture(scope="module")
def shift():
    return filterjit.jit_transform(example_text("shift"))


@pytest.mark.parametrize("order", range(6))
@pytest.mark.parametrize("mode", MODES)
def test_geometric_transform_equals_scipy_with_the_same_kernel(shift, order, mode):
    rng = np.random.default_rng(order * 10 + MODES.index(mode))
    image = rng.random((13, 17)) * 100 - 50
    for output_shape, dy, dx in [(None, 0.5, 0.25), ((20, 9), -3.25, 7.5)]:
        expected = ndi.geometric_transform(image, shift.with_parameters(dy=dy, dx=dx), output_shape=output_shape,
                                           order=order, mode=mode, cval=-2.5)
        for threads in (1, 3):
            for engine in ("fused", "callback"):
                actual = filterjit.geometric_transform(image, shift, output_shape=output_shape, order=order, mode=mode,
                                                       cval=-2.5, threads=threads, engine=engine, dy=dy, dx=dx)
                np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.int64])
@pytest.mark.parametrize("prefilter", [True, False])
def test_integer_outputs_are_rounded_and_clamped_like_scipy(shift, dtype, prefilter):
    image = (np.random.default_rng(3).random((9, 8)) * 300 - 20).astype(dtype)
    expected = ndi.geometric_transform(image, shift, order=3, mode="nearest", prefilter=prefilter)
    actual = filterjit.geometric_transform(image, shift, order=3, mode="nearest", prefilter=prefilter)
    assert actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)
    out = np.empty((9, 8), dtype=np.uint8)
    result = filterjit.geometric_transform(image, shift, output=out, order=1)
    assert result is out
    np.testing.assert_array_equal(out, ndi.geometric_transform(image, shift, output=np.uint8, order=1))


def test_parameters_come_from_extra_arguments_and_extra_keywords(shift):
    image = np.random.default_rng(4).random((6, 7))
    expected = ndi.geometric_transform(image, shift.with_parameters(dy=1.5, dx=-0.5), order=1)
    np.testing.assert_array_equal(filterjit.geometric_transform(image, shift, order=1, extra_arguments=(1.5, -0.5)),
                                  expected)
    np.testing.assert_array_equal(
        filterjit.geometric_transform(image, shift, order=1, extra_keywords={"dy": 1.5, "dx": -0.5}), expected)
    with pytest.raises(TypeError, match="no parameter"):
        filterjit.geometric_transform(image, shift, nope=1.0)


def test_decorated_transform_works_in_scipy_and_filterjit():
    @filterjit.jit_geometric_function
    def zoom(out_coords, in_coords, scale=0.5):
        for d in range(len(out_coords)):
            in_coords[d] = out_coords[d] * scale

    image = np.random.default_rng(5).random((5, 6, 4))
    expected = ndi.geometric_transform(image, zoom, output_shape=(9, 11, 7), order=2, mode="mirror")
    np.testing.assert_array_equal(
        filterjit.geometric_transform(image, zoom, output_shape=(9, 11, 7), order=2, mode="mirror"), expected)


@pytest.mark.parametrize("order", range(6))
@pytest.mark.parametrize("mode", MODES)
def test_map_coordinates_equals_scipy(order, mode):
    rng = np.random.default_rng(100 + order)
    for image in (rng.random((11, 7)), (rng.random(30) * 255).astype(np.uint8), rng.random((4, 5, 6)).astype(np.float32)):
        coordinates = rng.random((image.ndim, 8, 5)) * (np.array(image.shape)[:, None, None] + 6) - 3
        coordinates[0, 0, 0] = np.nan
        expected = ndi.map_coordinates(image, coordinates, order=order, mode=mode, cval=1.25)
        actual = filterjit.map_coordinates(image, coordinates, order=order, mode=mode, cval=1.25, threads=2)
        np.testing.assert_array_equal(actual, expected)


def test_argument_errors_match_scipy(shift):
    image = np.zeros((4, 4))
    with pytest.raises(RuntimeError, match="spline order not supported"):
        filterjit.geometric_transform(image, shift, order=6)
    with pytest.raises(RuntimeError, match="boundary mode not supported"):
        filterjit.geometric_transform(image, shift, mode="edge")
    with pytest.raises(RuntimeError, match="invalid shape for coordinate array"):
        filterjit.map_coordinates(image, np.zeros((3, 5)))
    with pytest.raises(RuntimeError, match="output shape not correct"):
        filterjit.geometric_transform(image, shift, output=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="@filter kernel"):
        filterjit.geometric_transform(image, filterjit.jit_filter("min(values)"))


def test_a_failing_kernel_names_the_element_and_line():
    bad = filterjit.jit_transform("""
@transform
def bad(out_coords, in_coords):
    in_coords[0] = out_coords[0]
    in_coords[5] = 1.0
""")
    for engine in ("fused", "callback"):
        with pytest.raises(RuntimeError, match=r"element \(0, 0\).*out of range.*line 5"):
            filterjit.geometric_transform(np.zeros((3, 3)), bad, engine=engine)


def test_the_fused_engine_equals_scipy_on_a_rotation_with_long_rows_and_an_unknown_engine_is_refused():
    rotate = filterjit.jit_transform(example_text("rotate"), angle=30.0, cy=100.0, cx=150.0)
    image = np.random.default_rng(7).random((200, 300))
    for order in (1, 3):
        expected = ndi.geometric_transform(image, rotate, order=order, mode="nearest")
        for threads in (1, 2):
            actual = filterjit.geometric_transform(image, rotate, order=order, mode="nearest", threads=threads)
            np.testing.assert_array_equal(actual, expected)
    with pytest.raises(ValueError, match="engine"):
        filterjit.geometric_transform(image, rotate, engine="turbo")


def scipy_shift(output_coords, dy, dx):
    return (output_coords[0] - dy, output_coords[1] - dx)


@pytest.mark.parametrize("order", [0, 1, 3, 5])
def test_scipys_own_mapping_form_compiles_with_parameters_from_extra_arguments(order):
    image = np.random.default_rng(order).random((12, 10))
    expected = ndi.geometric_transform(image, scipy_shift, order=order, extra_arguments=(0.5, 0.25))
    np.testing.assert_array_equal(
        filterjit.geometric_transform(image, scipy_shift, order=order, extra_arguments=(0.5, 0.25)), expected)
    np.testing.assert_array_equal(
        filterjit.geometric_transform(image, scipy_shift, order=order, extra_keywords={"dy": 0.5, "dx": 0.25}),
        expected)
    callable_ = filterjit.jit_geometric_function(scipy_shift)
    np.testing.assert_array_equal(ndi.geometric_transform(image, callable_.with_parameters(dy=0.5, dx=0.25),
                                                          order=order), expected)


def test_a_missing_parameter_is_named():
    with pytest.raises(TypeError, match="needs a value for parameter 'dx'"):
        filterjit.geometric_transform(np.zeros((4, 4)), scipy_shift, extra_arguments=(0.5,))
    # SciPy calling the callable without the values gets the kernel's failure, not garbage.
    with pytest.raises(RuntimeError):
        ndi.geometric_transform(np.zeros((4, 4)), filterjit.jit_geometric_function(scipy_shift))
