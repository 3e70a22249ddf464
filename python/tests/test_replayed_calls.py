"""filterjit.ndimage's replayed calls (filterjit/ndimage.py "Replayed calls"): a call whose arguments repeat an
earlier one's key replays the recorded plan runs; results, dtypes, returned objects, errors and warnings stay
SciPy's on every call, whatever the data."""

import os
import threading
import zlib

import numpy as np
import pytest
import scipy.ndimage as sndi

import filterjit.ndimage as fndi
from filterjit import _ndimage

# (function name, positional arguments after the input, keyword arguments)
CALLS = [
    ("minimum_filter", (3,), {}),
    ("maximum_filter", (), {"size": (3, 5), "mode": "constant", "cval": -1.5}),
    ("minimum_filter", (), {"footprint": np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)}),
    ("minimum_filter1d", (5,), {"axis": 0}),
    ("maximum_filter1d", (4,), {"mode": "wrap", "origin": 1}),
    ("uniform_filter", (5,), {}),
    ("uniform_filter1d", (3,), {"axis": 0, "mode": "nearest"}),
    ("median_filter", (), {"size": 3}),
    ("percentile_filter", (25,), {"size": (3, 5)}),
    ("rank_filter", (2,), {"footprint": np.array([[1, 1, 0], [0, 1, 1]], bool)}),
    ("grey_erosion", (), {"size": 3, "mode": "mirror"}),
    ("grey_dilation", (), {"size": (2, 4)}),
    ("grey_opening", (), {"size": 3}),
    ("grey_closing", (), {"footprint": np.ones((2, 3), bool), "mode": "reflect"}),
    ("morphological_gradient", (), {"size": 3}),
    ("white_tophat", (), {"size": (3, 2)}),
    ("black_tophat", (), {"footprint": np.array([[1, 0], [1, 1]], bool), "mode": "nearest"}),
]


def _plans_in_use():
    if _ndimage._prepare is None:
        pytest.skip("the library has no prepared calls")


def _image(rng, dtype, shape=(19, 23), special=False):
    if np.dtype(dtype).kind == "f":
        image = rng.standard_normal(shape).astype(dtype)
        if special:
            for value in (np.nan, -0.0, 0.0):
                image[tuple(int(rng.integers(0, n)) for n in shape)] = value
        return image
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dtype)


def _same(got, expected):
    return got.dtype == expected.dtype and got.shape == expected.shape and got.tobytes() == expected.tobytes()


def _replays_of(name):
    return [key for key in fndi._REPLAYS if key[0] == name]


@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "int32", "float32", "float64"])
def test_replayed_calls_equal_scipy_on_new_data_each_call(dtype):
    _plans_in_use()
    rng = np.random.default_rng(zlib.crc32(dtype.encode()))
    for name, arguments, keywords in CALLS:
        for call in range(7):
            # Calls 5 and 6 bring NaN and -0.0 into float data: a recorded check answers differently there.
            image = _image(rng, dtype, special=call in (5, 6))
            got = getattr(fndi, name)(image, *arguments, **keywords)
            expected = getattr(sndi, name)(image, *arguments, **keywords)
            assert _same(got, expected), (name, dtype, call)
        assert _replays_of(name), f"{name} was not replayed"


def test_a_replayed_call_runs_no_pass_in_python_and_a_changed_check_runs_the_whole_call(monkeypatch):
    _plans_in_use()
    rng = np.random.default_rng(11)
    for _ in range(3):
        fndi.minimum_filter(_image(rng, np.float64), 5)
        fndi.uniform_filter(_image(rng, np.uint8), 3)
        fndi.grey_opening(_image(rng, np.float32), 3)

    def whole_call(*arguments, **keywords):
        raise AssertionError("the whole call ran")

    monkeypatch.setattr(fndi, "_fj_generic_filter", whole_call)
    monkeypatch.setattr(fndi, "_fj_generic_filter1d", whole_call)
    for _ in range(3):
        image = _image(rng, np.float64)
        assert _same(fndi.minimum_filter(image, 5), sndi.minimum_filter(image, 5))
        image = _image(rng, np.uint8)
        assert _same(fndi.uniform_filter(image, 3), sndi.uniform_filter(image, 3))
        image = _image(rng, np.float32)
        assert _same(fndi.grey_opening(image, 3), sndi.grey_opening(image, 3))
    # NaN in the data: the recorded check answers otherwise, so the whole call runs (SciPy's ring).
    with pytest.raises(AssertionError, match="the whole call ran"):
        fndi.minimum_filter(_image(rng, np.float64, special=True), 5)
    # The same for the second pass's check of grey_opening (on the eroded array the call made), with no
    # output of the caller's written before it.
    image = _image(rng, np.float32)
    image[5:8, 5:8] = np.nan
    out = np.full(image.shape, 7, np.float32)
    with pytest.raises(AssertionError, match="the whole call ran"):
        fndi.grey_opening(image, 3, output=out)


def test_outputs_given_as_arrays_dtypes_or_the_input_itself():
    _plans_in_use()
    rng = np.random.default_rng(12)
    out = np.empty((19, 23), np.float32)
    for _ in range(5):
        image = _image(rng, np.uint8)
        result = fndi.uniform_filter(image, 3, output=out)
        assert result is out and _same(out, sndi.uniform_filter(image, 3, output=np.float32))
        result = fndi.minimum_filter(image, 3, output=np.int16)
        assert _same(result, sndi.minimum_filter(image, 3, output=np.int16))
        # In place: the output is the input.
        image = _image(rng, np.float64)
        expected = sndi.uniform_filter(image, 5)
        result = fndi.uniform_filter(image, 5, output=image)
        assert result is image and _same(image, expected)
        image = _image(rng, np.float64)
        expected = sndi.median_filter(image, 3)
        assert fndi.median_filter(image, 3, output=image) is image and _same(image, expected)
    # The gradient and the top-hats subtract into the output the caller gave, or into a new array.
    grey = np.empty((19, 23), np.int16)
    for _ in range(5):
        image = _image(rng, np.int16)
        assert fndi.morphological_gradient(image, 3, output=grey) is grey
        assert _same(grey, sndi.morphological_gradient(image, 3))
        assert fndi.white_tophat(image, 3, output=grey) is grey and _same(grey, sndi.white_tophat(image, 3))
        mask = _image(rng, np.uint8) > 100
        assert _same(fndi.black_tophat(mask, 3), sndi.black_tophat(mask, 3))
    # The same output array given for another input layout is another key.
    for _ in range(4):
        image = _image(rng, np.uint8, (23, 19)).T
        result = fndi.maximum_filter(image, 3, output=out)
        assert result is out and _same(out, sndi.maximum_filter(image, 3, output=np.float32))


def test_errors_and_warnings_repeat_on_every_call():
    _plans_in_use()
    rng = np.random.default_rng(13)
    image = _image(rng, np.float64)
    read_only = np.zeros(image.shape)
    read_only.flags.writeable = False
    writable = np.zeros(image.shape)
    for _ in range(4):
        # A replay recorded with a writable output of the same layout is not one for a read-only output.
        assert fndi.minimum_filter(image, 3, output=writable) is writable
        with pytest.raises(ValueError):
            fndi.minimum_filter(image, 3, output=read_only)
        assert not read_only.any()
        with pytest.warns(UserWarning, match="ignoring size"):
            fndi.grey_closing(image, size=3, footprint=np.ones((3, 3), bool))
        with pytest.warns(UserWarning, match="ignoring size"):
            fndi.median_filter(image, size=3, footprint=np.ones((3, 3), bool))
    # 64-bit integers: the range check is the data's, so such calls are never replayed.
    footprint = np.array([[1, 0, 1], [0, 1, 0]], bool)
    small = np.arange(19 * 23, dtype=np.int64).reshape(19, 23)
    for _ in range(4):
        assert _same(fndi.minimum_filter(small, footprint=footprint), sndi.minimum_filter(small, footprint=footprint))
    large = small + 2**60
    with pytest.raises(NotImplementedError, match="2\\*\\*53"):
        fndi.minimum_filter(large, footprint=footprint)


def test_footprints_are_keyed_by_their_values():
    _plans_in_use()
    rng = np.random.default_rng(14)
    first = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], bool)
    second = first[::-1].copy()
    for _ in range(5):
        for footprint in (first, second):
            image = _image(rng, np.int16)
            assert _same(fndi.maximum_filter(image, footprint=footprint),
                         sndi.maximum_filter(image, footprint=footprint))
            assert _same(fndi.rank_filter(image, 1, footprint=footprint),
                         sndi.rank_filter(image, 1, footprint=footprint))


def _failures_in_threads(calls, dtypes, rounds, shape=(19, 23), special_every=None):
    """Four threads, each `rounds` times an image of its own (dtypes in turn; NaN and -0.0 in float data every
    `special_every`-th round) through `calls`: the (seed, round, name) of every result that is not SciPy's."""
    failures = []

    def work(seed):
        rng = np.random.default_rng(seed)
        for call in range(rounds):
            special = special_every is not None and call % special_every == special_every - 1
            image = _image(rng, dtypes[call % len(dtypes)], shape=shape, special=special)
            for name, arguments, keywords in calls:
                got = getattr(fndi, name)(image, *arguments, **keywords)
                if not _same(got, getattr(sndi, name)(image, *arguments, **keywords)):
                    failures.append((seed, call, name))

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_threads_replay_their_own_calls():
    _plans_in_use()
    assert not _failures_in_threads(CALLS[:6], (np.uint8, np.float64, np.float32), 30, special_every=7)


def test_array_valued_arguments_and_python_copies_are_not_replayed_as_something_else():
    _plans_in_use()
    rng = np.random.default_rng(15)
    # size, origin and cval given as arrays: by value in SciPy, so never keyed by their layout alone.
    for size, origin, cval in ((np.array([3, 3]), np.array([0, 1]), np.array(2.0)),
                               (np.array([5, 5]), np.array([1, 0]), np.array(7.0))) * 3:
        image = _image(rng, np.float64)
        assert _same(fndi.minimum_filter(image, size=size, origin=origin, mode="constant", cval=cval),
                     sndi.minimum_filter(image, size=size, origin=origin, mode="constant", cval=cval))
    # Passes that are plain copies (size 1): the top-hats' subtraction must not be replayed on a stale output.
    out = np.zeros((19, 23), np.int16)
    for _ in range(4):
        image = _image(rng, np.int16)
        assert fndi.white_tophat(image, 1, output=out) is out and _same(out, sndi.white_tophat(image, 1))
        assert fndi.black_tophat(image, (1, 1), output=out) is out and _same(out, sndi.black_tophat(image, (1, 1)))
    # The same object as footprint and output: the replay must write the output, not the footprint.
    for _ in range(4):
        image = _image(rng, np.float64, (4, 4))
        mask = np.ones((4, 4))
        mask[0, 0] = 0
        expected = sndi.minimum_filter(image, footprint=mask.astype(bool))
        result = fndi.minimum_filter(image, None, mask, mask)
        assert result is mask and _same(result, expected)


def test_seeded_fuzz_of_replayed_calls_against_scipy():
    # Random calls, each made five times on new data of the same layout (so that from the fourth it is replayed),
    # some with NaN / -0.0 arriving late, outputs given as arrays or dtypes (in place: the test above); every
    # result, dtype and returned object against SciPy's. The seed is printed; FILTERJIT_REPLAY_FUZZ_SEED reruns one.
    _plans_in_use()
    seed = int(os.environ.get("FILTERJIT_REPLAY_FUZZ_SEED") or np.random.SeedSequence().entropy % 2**32)
    print(f"replay fuzz seed {seed}")
    rng = np.random.default_rng(seed)
    before = set(fndi._REPLAYS)
    names = ["minimum_filter", "maximum_filter", "uniform_filter", "median_filter", "percentile_filter", "rank_filter",
             "grey_erosion", "grey_dilation", "grey_opening", "grey_closing", "morphological_gradient",
             "white_tophat", "black_tophat", "minimum_filter1d", "maximum_filter1d", "uniform_filter1d"]
    modes = ["reflect", "constant", "nearest", "mirror", "wrap"]
    for round_ in range(120):
        name = names[rng.integers(len(names))]
        dtype = ["uint8", "int16", "uint16", "int32", "float32", "float64"][rng.integers(6)]
        ndim = 1 if rng.random() < 0.15 else (3 if rng.random() < 0.15 else 2)
        shape = tuple(int(n) for n in rng.integers(1, 12, ndim))
        keywords: dict = {"mode": modes[rng.integers(len(modes))]}
        if rng.random() < 0.5:
            keywords["cval"] = [0.0, -0.0, 2.5, -3.0, 7][rng.integers(5)]
        arguments: tuple
        if name.endswith("1d"):
            size = int(rng.integers(1, 6))
            arguments = (size,)
            keywords["axis"] = int(rng.integers(-ndim, ndim))
            keywords["origin"] = int(rng.integers(-(size // 2), (size - 1) // 2 + 1))
        else:
            if rng.random() < 0.5 and name != "uniform_filter":
                footprint = rng.random(tuple(int(n) for n in rng.integers(1, 4, ndim))) < 0.7
                footprint.flat[0] = True
                keywords["footprint"] = footprint
            else:
                keywords["size"] = int(rng.integers(1, 5)) if rng.random() < 0.5 else tuple(
                    int(n) for n in rng.integers(1, 5, ndim))
            arguments = ()
            if name == "percentile_filter":
                arguments = (float(rng.choice([0.0, 25.0, 50.0, 90.0, 100.0])),)
            elif name == "rank_filter":
                arguments = (0,)
        if name in ("median_filter", "percentile_filter", "rank_filter") and ndim == 1:
            continue  # SciPy's 1-D rank code: NotImplementedError for NaN data here, tested elsewhere
        output_kind = rng.integers(4)
        for call in range(5):
            image = _image(rng, dtype, shape, special=call >= 3 and rng.random() < 0.5)
            expected_image = image.copy()
            scipy_keywords = dict(keywords)
            ours = dict(keywords)
            if output_kind == 1:
                ours["output"] = np.zeros(shape, dtype)
                scipy_keywords["output"] = np.zeros(shape, dtype)
            elif output_kind == 2 and not name.endswith("tophat") and name != "morphological_gradient":
                ours["output"] = scipy_keywords["output"] = np.float64
            try:
                expected = getattr(sndi, name)(expected_image, *arguments, **scipy_keywords)
            except Exception as error:  # noqa: BLE001 - the same exception type must come from ours
                with pytest.raises(type(error)):
                    getattr(fndi, name)(image, *arguments, **ours)
                continue
            try:
                got = getattr(fndi, name)(image, *arguments, **ours)
            except NotImplementedError as error:  # none of the documented refusals can be drawn here
                pytest.fail(f"seed {seed}: {error}")
            assert _same(got, expected), (seed, round_, name, dtype, shape, arguments, keywords, output_kind, call)
            if output_kind == 1:
                assert got is ours["output"], (seed, round_, name)
    # Most rounds end in replays (not all: size-1 passes, int32 ranges and refused forms are not replayed).
    assert len(set(fndi._REPLAYS) - before) >= 30, seed


def test_the_c_key_equals_the_python_key():
    # filterjit/_fastcall.c `call_key` builds the replay key where the extension is in use: it must equal
    # `_call_key_python`'s for every kind of argument (or both be None).
    if os.environ.get("FILTERJIT_EXPECT_FASTCALL") == "1":
        assert fndi._call_key is not fndi._call_key_python, "the C key is not in use (a stale build of the extension?)"
    if fndi._call_key is fndi._call_key_python:
        pytest.skip("the C extension is not in use")
    image = np.zeros((4, 5))
    out = np.zeros((4, 5), np.float32)
    footprint = np.ones((2, 2), bool)
    data = frozenset((0, "input", 3, "output"))
    content = frozenset((2, "footprint"))
    cases = [
        ((image, 3), {}), ((image, None, footprint, out), {"mode": "constant", "cval": -0.0}),
        ((image,), {"size": (3, 2), "output": image, "origin": [0, 1]}), ((image, True), {}),
        ((image, 3.5, "a", None, np.float32), {"axes": (0, 1)}), ((image, np.int64(3)), {}),
        ((image, np.array([3, 3])), {}), ((image,), {"footprint": footprint, "other": image}),
        ((image.T, 2, footprint[::-1], image[::2]), {}), ((image, float("nan")), {"output": np.dtype("<f4")}),
        ((), {"input": image, "output": image, "cval": 2**70}), ((image, [1, [2, 3]]), {"mode": "wrap"}),
    ]
    read_only = np.zeros(3)
    read_only.flags.writeable = False
    cases.append(((read_only, 1), {}))
    for arguments, keywords in cases:
        python_key = fndi._call_key_python("f", arguments, keywords, data, content)
        c_key = fndi._call_key("f", arguments, keywords, data, content)
        assert c_key == python_key and (c_key is None or hash(c_key) == hash(python_key)), (arguments, keywords)


TWO_PASS = [call for call in CALLS if call[0] in
            ("grey_opening", "grey_closing", "morphological_gradient", "white_tophat", "black_tophat")]


def test_replays_take_their_intermediates_from_scratch_and_return_new_arrays(monkeypatch):
    """The arrays a replayed call makes and does not return (an opening's first pass) come from scratch kept
    between replays: each call still equals SciPy, returns an array of its own (no memory shared with an earlier
    result, which keeps its values), and the kept scratch stays within its budget."""
    _plans_in_use()
    rng = np.random.default_rng(11)
    for name, arguments, keywords in TWO_PASS:
        results = []
        for call in range(5):
            image = _image(rng, np.float32, shape=(23, 17))
            got = getattr(fndi, name)(image, *arguments, **keywords)
            expected = getattr(sndi, name)(image, *arguments, **keywords)
            assert _same(got, expected), (name, call)
            assert not any(np.shares_memory(got, earlier) for earlier, _ in results), (name, call)
            results.append((got, expected.copy()))
        assert all(_same(got, expected) for got, expected in results), name
        assert _replays_of(name), f"{name} was not replayed"
    assert fndi._SCRATCH and 0 < fndi._scratch_kept <= fndi._SCRATCH_BYTES
    # A budget below one intermediate keeps none of them: each replay makes and drops its own, as before.
    monkeypatch.setattr(fndi, "_SCRATCH_BYTES", 0)
    kept = fndi._scratch_kept
    image = _image(rng, np.float64, shape=(31, 29))
    for _ in range(3):
        assert _same(fndi.grey_opening(image, size=3), sndi.grey_opening(image, size=3))
    assert fndi._scratch_kept <= kept


def test_threads_replaying_two_pass_calls_use_their_own_scratch():
    _plans_in_use()
    assert not _failures_in_threads(TWO_PASS, (np.uint8, np.float64), 25, shape=(40, 37))
