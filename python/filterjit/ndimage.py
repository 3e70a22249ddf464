"""A drop-in for the window reductions of `scipy.ndimage`, computed by FilterJIT kernels.

    import filterjit.ndimage as ndi      # instead of: import scipy.ndimage as ndi
    smooth = ndi.median_filter(image, size=5)

Each function takes SciPy's arguments and gives SciPy's result, bit for bit: it follows the same steps
as `scipy.ndimage` (separable 1-D passes where SciPy makes them, with the output dtype cast between
passes; the same cval casts; the same rank for a percentile), but every pass runs a FilterJIT kernel
on the fused, threaded engine. The kernels are filter text (below), compiled once and cached, so they
get faster as the engine does. Where SciPy's own algorithm decides the bits (NaN or -0.0 in a rank
or a separable minimum), a kernel that is SciPy's algorithm written in the filter language runs
instead of the fast one. Forms that are not reproduced exactly raise `NotImplementedError` naming
them; names of `scipy.ndimage` that this module does not cover raise `NotImplementedError` too.
"""

from __future__ import annotations

import ctypes
import math
import numbers
import operator
import struct
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Union

import functools
import importlib

import numpy as np
import scipy
from numpy.lib.array_utils import normalize_axis_index
from numpy.typing import ArrayLike, DTypeLike

from ._kernel import CompileError, JITCallable, Kernel, jit_filter_function, jit_filter1d_function
from ._ndimage import generic_filter as _fj_generic_filter
from ._ndimage import generic_filter1d as _fj_generic_filter1d
from ._ndimage import RECORDING as _RECORDING
from ._ndimage import _exact_number, _fast_plan_run, _locate, _raise as _raise_failure, _run_plan, _text_kernel
from . import _lib

__all__ = [
    "minimum_filter", "maximum_filter", "minimum_filter1d", "maximum_filter1d",
    "uniform_filter", "uniform_filter1d", "median_filter", "percentile_filter", "rank_filter",
    "grey_erosion", "grey_dilation", "grey_opening", "grey_closing", "morphological_gradient",
    "white_tophat", "black_tophat", "generic_filter", "generic_filter1d",
]

def _scipy_ndimage() -> Any:
    """scipy.ndimage, imported on first need (it costs about 100 ms, and the drop-in rarely needs it)."""
    return importlib.import_module("scipy.ndimage")


Size = Union[int, Sequence[int], None]
Origin = Union[int, Sequence[int]]
Mode = Union[str, Sequence[str]]
Output = Union[np.ndarray, DTypeLike, None]

# --- The kernels -------------------------------------------------------------------------------------

# SciPy's NI_UniformFilter1D: a running sum over the extended line, divided by the size at each step.
UNIFORM_LINE = """\
@line_filter
def uniform_running_sum(line, out):
    size = len(line) - len(out) + 1
    total = 0.0
    for i in range(size):
        total += line[i]
    out[0] = total / size
    for i in range(1, len(out)):
        total += line[i + size - 1] - line[i - 1]
        out[i] = total / size
"""

# SciPy's NI_MinOrMaxFilter1D (Richard Harter's ascending-minima ring), step for step, so that NaN and
# -0.0 come out as SciPy's do. KEEP is the comparison that lets a new value replace the front.
_RING_LINE = """\
@line_filter
def {name}(line, out):
    size = len(line) - len(out) + 1
    if size == 1:
        for i in range(len(out)):
            out[i] = line[i]
    else:
        value = np.zeros(size)
        death = np.zeros(size)
        front = 0
        last = 0
        value[0] = line[0]
        death[0] = size
        o = 0
        for position in range(1, size + len(out) - 1):
            v = line[position]
            if death[front] == position:
                front += 1
                if front >= size:
                    front = 0
            if v {keep} value[front]:
                value[front] = v
                death[front] = position + size
                last = front
            else:
                while value[last] {drop} v:
                    if last == 0:
                        last = size
                    last -= 1
                last += 1
                if last >= size:
                    last = 0
                value[last] = v
                death[last] = position + size
            if position >= size - 1:
                out[o] = value[front]
                o += 1
"""
MINIMUM_LINE = _RING_LINE.format(name="minimum_ring", keep="<=", drop=">=")
MAXIMUM_LINE = _RING_LINE.format(name="maximum_ring", keep=">=", drop="<=")

# SciPy's NI_MinOrMaxFilter without a structure: the first value, replaced by each strictly smaller
# (larger) one. That is CPython's min/max over the window.
MINIMUM_WINDOW = "min(values)"
MAXIMUM_WINDOW = "max(values)"

# SciPy's NI_Select (Hoare's quickselect on a copy of the window), its tail recursion as a loop: what
# NI_RankFilter returns for any window, NaN and -0.0 included.
RANK_SELECT = """\
def rank_select(values, rank=0):
    buffer = values.copy()
    low = 0
    high = len(buffer) - 1
    k = rank
    while low != high:
        pivot = buffer[low]
        i = low - 1
        j = high + 1
        while True:
            j -= 1
            while buffer[j] > pivot:
                j -= 1
            i += 1
            while buffer[i] < pivot:
                i += 1
            if i < j:
                swap = buffer[i]
                buffer[i] = buffer[j]
                buffer[j] = swap
            else:
                break
        count = j - low + 1
        if k < count:
            high = j
        else:
            low = j + 1
            k -= count
    return buffer[low]
"""


def rank_text(rank: int, filter_size: int) -> str:
    """The fast kernel for the rank-th smallest of a window without NaN or -0.0 (the value is then unique)."""
    if filter_size % 2 == 1 and rank == filter_size // 2:
        return "median(values)"
    return f"sorted(values)[{rank}]"


def structure_text(weights: Sequence[float], minimum: bool) -> str:
    """SciPy's NI_MinOrMaxFilter with a float64 structure: value plus weight (minus, for a minimum) per tap,
    the first sum replaced by each strictly smaller (larger) one."""
    def literal(weight: float) -> str:
        weight = -weight if minimum else weight
        if np.isnan(weight):
            return "nan"
        if np.isinf(weight):
            return "inf" if weight > 0 else "-inf"
        return repr(float(weight))
    better = "<" if minimum else ">"
    lines = ["def structured_extremum(values):", f"    best = values[0] + ({literal(weights[0])})"]
    for index, weight in enumerate(weights[1:], start=1):
        lines += [f"    candidate = values[{index}] + ({literal(weight)})",
                  f"    if candidate {better} best:", "        best = candidate"]
    lines.append("    return best")
    return "\n".join(lines) + "\n"


def _kernel(text: str, kind: str = "filter") -> Kernel:
    """The compiled kernel of generated `text`: kept in the package's bounded text cache (each structuring
    element's weights make a new text, so an unbounded dict would grow with every call's weights); the
    engine's disk cache spans processes."""
    return _text_kernel(text, kind, file_name="<filterjit.ndimage>")


# --- Arguments, as scipy.ndimage normalises them ---------------------------------------------------------

def _check_axes(axes, ndim: int) -> list[int]:
    if axes is None:
        return list(range(ndim))
    if isinstance(axes, (numbers.Integral, np.integer)):
        axes = [axes]
    axes = [normalize_axis_index(operator.index(axis), ndim) for axis in axes]
    if len(set(axes)) != len(axes):
        raise ValueError("axes must be unique")
    return axes


def _normalize_sequence(value, rank: int) -> list:
    """A scalar (or str) repeated `rank` times, or a sequence of exactly `rank` items (SciPy's rule)."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        return [value] * rank
    values = list(value)
    if len(values) != rank:
        raise RuntimeError("sequence argument must have length equal to input rank")
    return values


def _get_output(output, input: np.ndarray, shape=None) -> np.ndarray:
    shape = input.shape if shape is None else shape
    if output is None:
        # SciPy's dtype=input.dtype.name: the input's type in native byte order (`.name` is slow to build).
        dtype = input.dtype
        return np.zeros(shape, dtype=dtype if dtype.isnative else dtype.name)
    if isinstance(output, np.ndarray):
        if output.shape != shape:
            raise RuntimeError("output shape not correct")
        return output
    if isinstance(output, str) and output in np.sctypeDict:
        output = np.sctypeDict[output]
    dtype = np.dtype(output)
    if dtype.kind == "c":
        raise RuntimeError("output type not supported: complex")
    return np.zeros(shape, dtype=dtype)


@functools.lru_cache(maxsize=256)
def _box(shape: tuple) -> np.ndarray:
    """A read-only all-true footprint of `shape` (kept: building one per call was a fifth of a small call)."""
    footprint = np.ones(shape, bool)
    footprint.flags.writeable = False
    return footprint


def _box_of(sizes: Sequence) -> np.ndarray:
    """The all-true footprint of `sizes` as `np.ones(sizes, bool)` makes it (its errors too): `_box`'s when every
    size is an integer (NumPy ones included, by `operator.index`, so that 3.0 never finds 3's box)."""
    try:
        key = tuple(operator.index(length) for length in sizes)
    except TypeError:
        return np.ones(sizes, bool)
    return _box(key)


def _input(input: ArrayLike) -> np.ndarray:
    array = np.asarray(input)
    if array.dtype.kind == "c":  # (np.iscomplexobj's test, without its call)
        raise TypeError("Complex type not supported")
    return array


def _invalid_origin(origin: int, length: int) -> bool:
    return length // 2 + origin < 0 or length // 2 + origin >= length


_CONSTANT_MODES = ("constant", "grid-constant")


_FLOAT64 = np.dtype(np.float64)


def _cast_cval(cval: float, dtype: np.dtype) -> float:
    """cval as the C code's `(type)cval` makes it for the element type (SciPy's n-D min/max and rank)."""
    if type(cval) is not float and type(cval) is not int:
        return _cast_cval_bits(struct.pack("<d", _quietly(float, cval)), np.dtype(dtype))
    if dtype == _FLOAT64:
        return float(cval)  # the cast to float64 keeps every bit (a new cval each call missed the cache below: 10 us)
    # By the value's bits (NaNs and -0.0 included) and the type: the cast with its warnings silenced is most
    # of a small image's call.
    return _cast_cval_bits(struct.pack("<d", float(cval)), np.dtype(dtype))


def _quietly(function, *arguments):
    """`function(*arguments)` with NumPy's floating-point errors and warnings silenced."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*arguments)


@functools.lru_cache(maxsize=256)
def _cast_cval_bits(bits: bytes, dtype: np.dtype) -> float:
    return _quietly(lambda: float(np.array(struct.unpack("<d", bits)[0], dtype=np.float64).astype(dtype)))


# The library's one-pass check of contiguous float32/float64 data, called through the C extension where it is
# built (filterjit/_fastcall.c `nan_check`: about 0.2 us on a 16x16 image against ctypes' 3), else through ctypes.
_HAS_NAN_OR_NEGATIVE_ZERO = _lib.lib.filterjit_has_nan_or_negative_zero
_FLOAT_CODES = {np.dtype(np.float32): _lib.DTYPES.index("float32"), np.dtype(np.float64): _lib.DTYPES.index("float64")}
_fast_nan_check: Any = None
if _fast_plan_run is not None:  # the extension is in use (not turned off by FILTERJIT_NO_FASTCALL)
    try:
        _fastcall: Any = importlib.import_module("filterjit._fastcall")
        _fastcall.set_nan_check(ctypes.cast(_HAS_NAN_OR_NEGATIVE_ZERO, ctypes.c_void_p).value)
        _fast_nan_check = _fastcall.nan_check
    except Exception:  # an older build without nan_check: ctypes
        _fast_nan_check = None


def _has_nan_or_negative_zero(array: np.ndarray) -> bool:
    """Whether a float array holds NaN or -0.0 (`_nan_or_negative_zero_check`), recorded for a replay."""
    found = _nan_or_negative_zero_check(array)
    events = getattr(_RECORDING, "events", None)
    if events is not None:
        events.append(("check", array, found))
    return found


def _nan_or_negative_zero_check(array: np.ndarray) -> bool:
    """Whether a float array holds NaN or -0.0: the two values whose bits depend on SciPy's algorithm.
    Contiguous native float32/float64 data: one pass in the library (float64 16x16 9.2 -> 2.8 us, 2048x2048
    3.6 -> 1.9 ms, against the reductions below in one process). Otherwise two reductions and no temporary array: the minimum is NaN when any element is,
    and -0.0 is the one float whose bits, read as a signed integer of its width, are that integer type's minimum."""
    if array.dtype.kind != "f" or array.size == 0:
        return False
    if _fast_nan_check is not None:
        found = _fast_nan_check(array)
        if found >= 0:
            return found == 1
    code = _FLOAT_CODES.get(array.dtype)
    if code is not None and (array.flags.c_contiguous or array.flags.f_contiguous):
        found = _HAS_NAN_OR_NEGATIVE_ZERO(array.ctypes.data, code, array.size)
        if found >= 0:
            return found == 1
    if np.isnan(np.min(array)):
        return True
    if array.dtype.isnative and array.dtype.itemsize in (2, 4, 8):
        bits = array.view(f"i{array.dtype.itemsize}")
        return bool(np.min(bits) == -(1 << (8 * array.dtype.itemsize - 1)))
    zeros = array == 0
    return bool(zeros.any() and np.signbit(array[zeros]).any())


def _special_cval(cval: float, modes: Sequence[str]) -> bool:
    # (The float's own tests first: NumPy's isnan and signbit on a Python float cost about a microsecond.)
    if not (cval != cval or (cval == 0 and math.copysign(1.0, cval) < 0)):
        return False
    return any(mode in _CONSTANT_MODES for mode in modes)


def _check_wide_integers(array: np.ndarray, function: str) -> None:
    """SciPy's n-D kernels compare 64-bit integers exactly; FilterJIT's windows hold doubles."""
    if array.dtype.kind in "iu" and array.dtype.itemsize == 8 and array.size:
        _unrecordable()  # the range is the data's: a replay would not check it
        if max(abs(int(array.min())), abs(int(array.max()))) > 2**53:
            raise NotImplementedError(
                f"filterjit.ndimage.{function}: 64-bit integers beyond ±2**53 (scipy.ndimage.{function} compares "
                "them exactly; FilterJIT's window values are doubles); call scipy.ndimage." + function)


def _run_window(input: np.ndarray, text: str, footprint: np.ndarray, output: np.ndarray, mode: str,
                cval: float, origins: Sequence[int], **parameters) -> np.ndarray:
    """One n-D pass of a window kernel over every axis (footprint already of the input's rank)."""
    return _fj_generic_filter(input, _kernel(text), footprint=footprint, output=output, mode=mode, cval=cval,
                              origin=list(origins), **parameters)


def _run_line(input: np.ndarray, text: str, size: int, axis: int, output: np.ndarray, mode: str, cval: float,
              origin: int) -> np.ndarray:
    """One 1-D pass of a line kernel along `axis`."""
    return _fj_generic_filter1d(input, _kernel(text, "line_filter"), size, axis=axis, output=output, mode=mode, cval=cval,
                                origin=origin)


# --- Replayed calls --------------------------------------------------------------------------------------
#
# A small image's call is mostly Python: normalising SciPy's arguments, choosing the passes, finding each pass's
# prepared plan (16x16 float64 minimum_filter1d: 27 us, of which the library's run is 3). The functions below
# marked @_replayable record, once every pass of a call ran a prepared plan, what the call did: each plan run
# with its input and output (an argument array or one the call made) and each data check (NaN / -0.0) with its
# answer. A later call whose arguments have the same key (array layouts, every other argument's value) replays
# that: the checks first (a different answer runs the whole call instead), the new arrays made empty, the plans
# (and the top-hats' and gradient's NumPy subtractions) run in order. A replay keeps its plans alive after
# _ndimage's plan cache lets them go (the last 256 replays are kept). That gives the same arrays, values and errors as the whole call because the marked functions do
# nothing else with the data: anything the recording cannot repeat (a pass without a prepared plan, a check of
# 64-bit integers' range, a warning) leaves the call unrecorded.

_REPLAYS: dict[tuple, "_Replay"] = {}
_REPLAYS_LIMIT = 256
_REPLAYS_LOCK = threading.Lock()
_FOOTPRINT_KEY_BYTES = 4096  # footprints and structures are keyed by their bytes up to this size
_DECLINED = object()  # what `_Replay.run` returns when a recorded check answers otherwise

# Scratch for the arrays a replayed call makes and does not return (an opening's eroded image, a top-hat's
# opening): kept between replays by shape and dtype, up to _SCRATCH_BYTES in all (beyond that they are made and
# dropped each call, as before), so that a replay does not map and fault in fresh pages for them each call. glibc
# returns a freed block of this size to the system as soon as a second one is live, so that every call of a
# two-pass function paid its pages anew: 2048x2048 uint8 grey_opening 5 took 1.9 ms a call in a loop against
# 0.26 ms with its output given (two 4 MiB `np.empty` filled and dropped per call: 2.1 ms in NumPy alone).
_SCRATCH: dict[tuple, list] = {}
_SCRATCH_BYTES = 64 << 20
_SCRATCH_LOCK = threading.Lock()
_scratch_kept = 0


def _take_scratch(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """A kept scratch array of `shape` and `dtype` (contents undefined), or a new one."""
    global _scratch_kept
    with _SCRATCH_LOCK:
        kept = _SCRATCH.get((shape, dtype))
        if kept:
            array = kept.pop()
            _scratch_kept -= array.nbytes
            return array
    return np.empty(shape, dtype)


def _give_scratch(array: np.ndarray) -> None:
    """Keeps `array` for a later `_take_scratch` while the kept arrays stay within _SCRATCH_BYTES."""
    global _scratch_kept
    with _SCRATCH_LOCK:
        if _scratch_kept + array.nbytes <= _SCRATCH_BYTES:
            _SCRATCH.setdefault((array.shape, array.dtype), []).append(array)
            _scratch_kept += array.nbytes


class _Replay:
    """What one recorded call did: `steps` in order, each ("check", array, answer), ("run", plan, input,
    output) or ("ufunc", ufunc, operands, output), an array being ("arg", position or name) of the call's input
    or output, or ("new", index) of `new` (shape, dtype) arrays the call made; and which array it returned."""
    __slots__ = ("steps", "new", "result", "scratch")

    def __init__(self, steps: tuple, new: tuple, result: tuple):
        self.steps, self.new, self.result = steps, new, result
        # The new arrays the call does not return (from the scratch kept between replays).
        self.scratch = tuple(index for index in range(len(new)) if result != ("new", index))

    def run(self, arguments: tuple, keywords: dict):
        """The call's result, or _DECLINED when a data check answers otherwise (then nothing was written to the
        caller's arrays: recording refuses checks after such a write)."""
        if not self.new:
            return self._run(arguments, keywords, None)
        made = [(_take_scratch if index in self.scratch else np.empty)(shape, dtype)
                for index, (shape, dtype) in enumerate(self.new)]
        try:
            return self._run(arguments, keywords, made)
        finally:
            for index in self.scratch:
                _give_scratch(made[index])

    def _run(self, arguments: tuple, keywords: dict, made: list | None):
        for step in self.steps:
            kind = step[0]
            if kind == "run":
                failure = _run_plan(step[1].handle, _array(step[2], arguments, keywords, made),
                                    _array(step[3], arguments, keywords, made))
                if failure is not None:
                    status, address = failure
                    message = _lib.take_string(ctypes.c_void_p(address))
                    kernel = step[1].kernel
                    _raise_failure(status, _locate(message, kernel) if status == _lib.ERROR_KERNEL else message)
            elif kind == "check":
                if _nan_or_negative_zero_check(_array(step[1], arguments, keywords, made)) != step[2]:
                    return _DECLINED
            else:
                step[1](*[_array(operand, arguments, keywords, made) for operand in step[2]],
                        out=_array(step[3], arguments, keywords, made))
        return _array(self.result, arguments, keywords, made)


def _array(reference: tuple, arguments: tuple, keywords: dict, made: list | None) -> np.ndarray:
    """The array a replay step names: ("arg", position or name) of the call, or ("new", index) of `made`."""
    where = reference[1]
    if reference[0] == "arg":
        return arguments[where] if type(where) is int else keywords[where]
    return made[where]  # type: ignore[index]


def _argument_key(value, content: bool) -> Any:
    """A key for one argument that is not the input or output (None: the call is not replayed): a footprint or
    structure array by its bytes (`content`; any other array is not keyed); a number exactly (-0.0 apart from 0.0,
    an int apart from a float); a str, None, a dtype or type; a tuple or list of those."""
    kind = type(value)
    if kind is np.ndarray:
        if not content or value.nbytes > _FOOTPRINT_KEY_BYTES or value.dtype.hasobject:
            return None
        return ("c", value.dtype, value.shape, value.tobytes())
    if kind is int or kind is bool or kind is str or value is None:
        return (kind, value)
    if kind is float:
        return _exact_number(value)
    if kind is tuple or kind is list:
        items = tuple(_argument_key(item, False) for item in value)
        return None if None in items else (kind, items)
    if kind is type or isinstance(value, np.dtype):
        return ("t", value)
    return None


def _call_key_python(name: str, arguments: tuple, keywords: dict, data: frozenset,
                     content: frozenset) -> tuple | None:
    """The replay key of a call (None: not replayed): the input and output arrays (`data`: their positions and
    names) by layout, flags and which of them is the same object as an earlier one, every other argument by
    `_argument_key`. (About 1 us: most of a replayed call's Python time, so the common types come first.)"""
    parts: list = [name]
    arrays: list = []
    for where, value in (enumerate(arguments) if not keywords else (*enumerate(arguments), *keywords.items())):
        kind = type(value)
        if kind is np.ndarray and where in data:
            flags = value.flags
            same = -1
            for index, seen in enumerate(arrays):
                if seen is value:
                    same = index
                    break
            arrays.append(value)
            parts.append((where, value.dtype, value.shape, value.strides, flags.aligned, flags.writeable, same))
        elif kind is int or kind is str or value is None:
            parts.append((where, kind, value))
        else:
            part = _argument_key(value, where in content)
            if part is None:
                return None
            parts.append((where, part))
    return tuple(parts)


# The key in C where the extension is in use (filterjit/_fastcall.c `call_key`: the same keys, 1.5 -> 0.3 us).
_call_key: Any = _call_key_python
if _fast_nan_check is not None:
    try:
        _fastcall.set_key_fallback(_argument_key)
        _call_key = _fastcall.call_key
    except Exception:  # an older build without call_key: the Python key
        _call_key = _call_key_python


def _recorded_replay(events: list, arguments: tuple, keywords: dict, data: frozenset,
                     result) -> "_Replay | None":
    """The replay of a call that made `events` and returned `result`, or None when it cannot be replayed."""
    references: dict[int, tuple] = {}
    for position, value in enumerate(arguments):
        if type(value) is np.ndarray and position in data:
            references.setdefault(id(value), ("arg", position))
    for name, value in keywords.items():
        if type(value) is np.ndarray and name in data:
            references.setdefault(id(value), ("arg", name))
    new: list = []
    steps: list = []
    wrote_argument = False
    for event in events:
        if event is None:
            return None
        if event[0] == "check":
            reference = references.get(id(event[1]))
            if reference is None or wrote_argument:
                return None  # a check of an array the call did not make first, or after it wrote the caller's
            steps.append(("check", reference, event[2]))
            continue
        if event[0] == "ufunc":
            operands = tuple(references.get(id(operand)) for operand in event[2])
            if None in operands:
                return None
            destination = event[3]
        else:
            plan, source, destination = event
            source_reference = references.get(id(source))
            if source_reference is None:
                return None
        destination_reference = references.get(id(destination))
        if destination_reference is None:
            # An array the call made: made again empty (every step writes all of its output), with the strides
            # its plans were made for.
            if (type(destination) is not np.ndarray or destination.base is not None
                    or not destination.flags.c_contiguous or not destination.flags.writeable
                    or destination.strides != np.empty(destination.shape, destination.dtype).strides):
                return None
            destination_reference = ("new", len(new))
            new.append((destination.shape, destination.dtype))
            references[id(destination)] = destination_reference
        elif destination_reference[0] == "arg":
            wrote_argument = True
        if event[0] == "ufunc":
            steps.append(("ufunc", event[1], operands, destination_reference))
        else:
            steps.append(("run", plan, source_reference, destination_reference))
    result_reference = references.get(id(result))
    if not steps or result_reference is None:
        return None
    return _Replay(tuple(steps), tuple(new), result_reference)


def _replayable(data: tuple, content: tuple = ()):
    """Marks a function whose only work on the data is prepared plan runs, recorded checks and recorded ufuncs (see
    above), so that its calls can be replayed. `data`: the positions and names of its input and output arguments;
    `content`: those of arguments keyed by their bytes (footprints, structures)."""
    data_set, content_set = frozenset(data), frozenset(content)

    def decorate(function):
        name = function.__name__

        @functools.wraps(function)
        def run(*arguments, **keywords):
            if getattr(_RECORDING, "events", None) is not None:
                return function(*arguments, **keywords)  # a step of a call being recorded
            key = _call_key(name, arguments, keywords, data_set, content_set)
            if key is None:
                return function(*arguments, **keywords)
            replay = _REPLAYS.get(key)
            if replay is not None:
                result = replay.run(arguments, keywords)
                if result is not _DECLINED:
                    return result
            events: list = []
            _RECORDING.events = events
            try:
                result = function(*arguments, **keywords)
            finally:
                _RECORDING.events = None
            replay = _recorded_replay(events, arguments, keywords, data_set, result)
            if replay is not None:
                with _REPLAYS_LOCK:
                    while len(_REPLAYS) >= _REPLAYS_LIMIT:
                        _REPLAYS.pop(next(iter(_REPLAYS)), None)
                    _REPLAYS[key] = replay
            return result
        return run
    return decorate


def _ufunc(ufunc, *operands, out=None):
    """`ufunc(*operands, out=out)` (a NumPy ufunc of two arrays; `out` None: a new array), recorded for a replay."""
    result = ufunc(*operands) if out is None else ufunc(*operands, out=out)
    events = getattr(_RECORDING, "events", None)
    if events is not None:
        events.append(("ufunc", ufunc, operands, result))
    return result


def _unrecordable() -> None:
    """Leaves the call being recorded (if any) unrecorded: it did something a replay would not repeat."""
    events = getattr(_RECORDING, "events", None)
    if events is not None:
        events.append(None)


def _warn_size_ignored(stacklevel: int) -> None:
    """SciPy's warning when both size and footprint are given (`stacklevel` as seen from the caller)."""
    _unrecordable()
    warnings.warn("ignoring size because footprint is set", UserWarning, stacklevel=stacklevel + 2)


# --- 1-D filters -----------------------------------------------------------------------------------------

def _filter1d(text: str, function: str, input, size, axis, output, mode, cval, origin) -> np.ndarray:
    input = _input(input)
    axis = normalize_axis_index(axis, input.ndim)
    if size < 1:
        raise RuntimeError("incorrect filter size")
    output = _get_output(output, input)
    if _invalid_origin(origin, size):
        raise ValueError("invalid origin")
    if input.ndim == 0 or input.size == 0:
        _unrecordable()  # a copy in Python: a replay would not repeat it
        output[...] = input
        return output
    return _run_line(input, text, int(size), axis, output, mode, cval, int(origin))


# The window mean over a 1-D footprint: NumPy's mean of the window, sum / n, which for integer data of up to 32
# bits equals SciPy's running sum divided by the size while every partial sum is an integer of at most 2**53
# (then exact in any order); the window strategies then run it as O(1) box sums.
MEAN_WINDOW = "np.mean(values)"


def _exact_running_sums(input: np.ndarray, output: np.ndarray, size: int, mode: str, cval: float) -> bool:
    """Whether SciPy's running sums over `input` are exact, so that any summation order gives their bits:
    integer data of up to 32 bits (and, in the constant modes, an integer cval of at most 2**32 in magnitude)
    over at most 2**21 taps (every partial sum then at most 2**53 in magnitude), stored into the input's type or
    a float type (casts both drivers share)."""
    cval = float(cval)
    return (input.dtype.kind in "iu" and input.dtype.itemsize <= 4 and size <= 2**21
            and (output.dtype == input.dtype or output.dtype.kind == "f")
            and (mode not in _CONSTANT_MODES or (abs(cval) <= 2.0**32 and cval == int(cval))))


@_replayable(data=(0, "input", 3, "output"))
def uniform_filter1d(input: ArrayLike, size: int, axis: int = -1, output: Output = None,
                     mode: str = "reflect", cval: float = 0.0, origin: int = 0) -> np.ndarray:
    """scipy.ndimage.uniform_filter1d: SciPy's running mean along one axis, bit for bit (integer data as
    an O(1) window mean with the same bits, float data by SciPy's own running sum)."""
    array = _input(input)
    if isinstance(mode, str) and size >= 1 and array.ndim > 0 and array.size > 0:
        axis = normalize_axis_index(axis, array.ndim)
        result = _get_output(output, array)
        if _exact_running_sums(array, result, size, mode, cval) and not _invalid_origin(origin, size):
            shape, origins = [1] * array.ndim, [0] * array.ndim
            shape[axis], origins[axis] = int(size), int(origin)
            return _run_window(array, MEAN_WINDOW, _box(tuple(shape)), result, mode, float(cval), origins)
        output = result
    return _filter1d(UNIFORM_LINE, "uniform_filter1d", array, size, axis, output, mode, cval, origin)


@_replayable(data=(0, "input", 3, "output"))
def minimum_filter1d(input: ArrayLike, size: int, axis: int = -1, output: Output = None,
                     mode: str = "reflect", cval: float = 0.0, origin: int = 0) -> np.ndarray:
    """scipy.ndimage.minimum_filter1d, bit for bit: a window minimum where the value is unique (no NaN or
    -0.0), else SciPy's sliding-minimum ring along the axis."""
    return _min_or_max_filter1d(input, size, axis, output, mode, cval, origin, True, "minimum_filter1d")


@_replayable(data=(0, "input", 3, "output"))
def maximum_filter1d(input: ArrayLike, size: int, axis: int = -1, output: Output = None,
                     mode: str = "reflect", cval: float = 0.0, origin: int = 0) -> np.ndarray:
    """scipy.ndimage.maximum_filter1d, bit for bit: a window maximum where the value is unique (no NaN or
    -0.0), else SciPy's sliding-maximum ring along the axis."""
    return _min_or_max_filter1d(input, size, axis, output, mode, cval, origin, False, "maximum_filter1d")


def _min_or_max_filter1d(input, size, axis, output, mode, cval, origin, minimum: bool, function: str) -> np.ndarray:
    array = _input(input)
    if not isinstance(mode, str) or size <= 1 or array.ndim == 0 or array.size == 0 or _invalid_origin(origin, size):
        # SciPy's checks and the trivial cases, as the ring's path gives them (size 1 too: SciPy's 1-D filter
        # still passes the values through its double line buffers, which minimum_filter's copy would not).
        return _filter1d(MINIMUM_LINE if minimum else MAXIMUM_LINE, function, array, size, axis, output, mode, cval,
                         origin)
    axis = normalize_axis_index(axis, array.ndim)
    # minimum_filter with one axis runs exactly minimum_filter1d's pass (SciPy's code does the same).
    return _min_or_max_filter(array, int(size), None, None, output, mode, cval, int(origin), minimum, [axis], function)


# --- uniform_filter --------------------------------------------------------------------------------------

@_replayable(data=(0, "input", 2, "output"))
def uniform_filter(input: ArrayLike, size: Size = 3, output: Output = None, mode: Mode = "reflect",
                   cval: float = 0.0, origin: Origin = 0, *, axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.uniform_filter: one running-mean pass per axis, in SciPy's order, with the output
    dtype cast between passes, bit for bit."""
    input = _input(input)
    output = _get_output(output, input)
    axes = _check_axes(axes, input.ndim)
    sizes = _normalize_sequence(size, len(axes))
    origins = _normalize_sequence(origin, len(axes))
    modes = _normalize_sequence(mode, len(axes))
    passes = [(axes[i], sizes[i], origins[i], modes[i]) for i in range(len(axes)) if sizes[i] > 1]
    if not passes:
        _unrecordable()
        output[...] = input[...]
        return output
    for axis, length, shift, axis_mode in passes:
        uniform_filter1d(input, int(length), axis, output, axis_mode, cval, shift)
        input = output
    return output


# --- minimum, maximum, grey morphology -------------------------------------------------------------------

def _expand_footprint(ndim: int, axes: list[int], footprint: np.ndarray, name: str = "footprint") -> np.ndarray:
    if len(axes) < ndim:
        if footprint.ndim != len(axes):
            raise RuntimeError(f"{name}.ndim ({footprint.ndim}) must match len(axes) ({len(axes)})")
        footprint = np.expand_dims(footprint, tuple(axis for axis in range(ndim) if axis not in axes))
    return footprint


def _expand_origin(ndim: int, axes: list[int], origin) -> list[int]:
    origins = _normalize_sequence(origin, len(axes))
    if len(axes) < ndim:
        full = [0] * ndim
        for shift, axis in zip(origins, axes):
            full[axis] = shift
        origins = full
    return [int(o) for o in origins]


def _min_or_max_filter(input, size, footprint, structure, output, mode, cval, origin, minimum: bool,
                       axes, function: str) -> np.ndarray:
    if size is not None and footprint is not None:
        _warn_size_ignored(3)
    if structure is None:
        if footprint is None:
            if size is None:
                raise RuntimeError("no footprint provided")
            separable = True
        else:
            footprint = np.asarray(footprint, dtype=bool)
            if not footprint.any():
                raise ValueError("All-zero footprint is not supported.")
            if footprint.all():
                size, footprint, separable = footprint.shape, None, True
            else:
                separable = False
    else:
        structure = np.asarray(structure, dtype=np.float64)
        separable = False
        footprint = np.ones(structure.shape, bool) if footprint is None else np.asarray(footprint, dtype=bool)
    input = _input(input)
    output = _get_output(output, input)
    axes = _check_axes(axes, input.ndim)
    if separable:
        origins = _normalize_sequence(origin, len(axes))
        sizes = _normalize_sequence(size, len(axes))
        modes = _normalize_sequence(mode, len(axes))
        passes = [(axes[i], int(sizes[i]), int(origins[i]), modes[i]) for i in range(len(axes)) if sizes[i] > 1]
        if not passes:
            _unrecordable()
            output[...] = input[...]
            return output
        for _, length, shift, _ in passes:
            if _invalid_origin(shift, length):
                raise ValueError("invalid origin")
        # One n-D pass over the box gives the passes' result when that value is unique (no NaN, no -0.0)
        # and no cast happens between passes; otherwise SciPy's ring, pass by pass.
        single_mode = len({m for _, _, _, m in passes}) == 1
        if (single_mode and (output.dtype == input.dtype or len(passes) == 1) and input.ndim > 0
                and not _has_nan_or_negative_zero(input) and not _special_cval(float(cval), [passes[0][3]])):
            shape, origins_full = [1] * input.ndim, [0] * input.ndim
            for axis, length, shift, _ in passes:
                shape[axis], origins_full[axis] = length, shift
            return _run_window(input, MINIMUM_WINDOW if minimum else MAXIMUM_WINDOW, _box(tuple(shape)),
                               output, passes[0][3], float(cval), origins_full)
        line = MINIMUM_LINE if minimum else MAXIMUM_LINE
        for axis, length, shift, axis_mode in passes:
            _run_line(input, line, length, axis, output, axis_mode, cval, shift)
            input = output
        return output
    footprint = _expand_footprint(input.ndim, axes, footprint)
    origins = _expand_origin(input.ndim, axes, origin)
    shape = [length for length in footprint.shape if length > 0]
    if len(shape) != input.ndim:
        raise RuntimeError(f"footprint.ndim ({footprint.ndim}) must match len(axes) ({len(axes)})")
    for shift, length in zip(origins, shape):
        if _invalid_origin(shift, length):
            raise ValueError("invalid origin")
    if not isinstance(mode, str) and isinstance(mode, Iterable):
        raise RuntimeError("A sequence of modes is not supported for non-separable footprints")
    _check_wide_integers(input, function)
    if structure is None:
        text = MINIMUM_WINDOW if minimum else MAXIMUM_WINDOW
    else:
        if len(structure.shape) != len(axes):
            raise RuntimeError("structure array has incorrect shape")
        if input.dtype != np.float64:
            raise NotImplementedError(
                f"filterjit.ndimage.{function}: a non-flat structure on {input.dtype} input (SciPy adds it in "
                f"{input.dtype} arithmetic); only float64 input is reproduced; call scipy.ndimage.{function}")
        structure = _expand_footprint(input.ndim, axes, structure, "structure")
        text = structure_text(list(structure[footprint]), minimum)
    return _run_window(input, text, footprint, output, mode, _cast_cval(cval, input.dtype), origins)


@_replayable(data=(0, "input", 3, "output"), content=(2, "footprint"))
def minimum_filter(input: ArrayLike, size: Size = None, footprint: ArrayLike | None = None, output: Output = None,
                   mode: Mode = "reflect", cval: float = 0.0, origin: Origin = 0, *,
                   axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.minimum_filter, bit for bit."""
    return _min_or_max_filter(input, size, footprint, None, output, mode, cval, origin, True, axes,
                              "minimum_filter")


@_replayable(data=(0, "input", 3, "output"), content=(2, "footprint"))
def maximum_filter(input: ArrayLike, size: Size = None, footprint: ArrayLike | None = None, output: Output = None,
                   mode: Mode = "reflect", cval: float = 0.0, origin: Origin = 0, *,
                   axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.maximum_filter, bit for bit."""
    return _min_or_max_filter(input, size, footprint, None, output, mode, cval, origin, False, axes,
                              "maximum_filter")


@_replayable(data=(0, "input", 4, "output"), content=(2, 3, "footprint", "structure"))
def grey_erosion(input: ArrayLike, size: Size = None, footprint: ArrayLike | None = None,
                 structure: ArrayLike | None = None, output: Output = None, mode: Mode = "reflect",
                 cval: float = 0.0, origin: Origin = 0, *, axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.grey_erosion (a minimum filter; a structure is subtracted), bit for bit."""
    if size is None and footprint is None and structure is None:
        raise ValueError("size, footprint, or structure must be specified")
    return _min_or_max_filter(input, size, footprint, structure, output, mode, cval, origin, True, axes,
                              "grey_erosion")


@_replayable(data=(0, "input", 4, "output"), content=(2, 3, "footprint", "structure"))
def grey_dilation(input: ArrayLike, size: Size = None, footprint: ArrayLike | None = None,
                  structure: ArrayLike | None = None, output: Output = None, mode: Mode = "reflect",
                  cval: float = 0.0, origin: Origin = 0, *, axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.grey_dilation (a maximum filter over the reflected footprint, with SciPy's origin
    shift for even sizes; a structure is added), bit for bit."""
    if size is None and footprint is None and structure is None:
        raise ValueError("size, footprint, or structure must be specified")
    if structure is not None:
        structure = np.asarray(structure)
        structure = structure[(slice(None, None, -1),) * structure.ndim]
    if footprint is not None:
        footprint = np.asarray(footprint)
        footprint = footprint[(slice(None, None, -1),) * footprint.ndim]
    input = np.asarray(input)
    axes = _check_axes(axes, input.ndim)
    origins = _normalize_sequence(origin, len(axes))
    for i in range(len(origins)):
        origins[i] = -origins[i]
        if footprint is not None:
            length = footprint.shape[i]
        elif structure is not None:
            length = structure.shape[i]
        elif np.isscalar(size):
            length = size
        else:
            length = size[i]  # type: ignore[index]  # a sequence here: None would have raised above
        if not length & 1:
            origins[i] -= 1
    return _min_or_max_filter(input, size, footprint, structure, output, mode, cval, origins, False, axes,
                              "grey_dilation")


def _named_as(function: str):
    """Makes a composite (opening, top-hat...) name itself in the NotImplementedError of a step."""
    def decorate(composite):
        def run(*arguments, **keywords):
            try:
                return composite(*arguments, **keywords)
            except NotImplementedError as error:
                message = str(error)
                for step in ("grey_erosion", "grey_dilation"):
                    message = message.replace(f"ndimage.{step}", f"ndimage.{function}")
                raise NotImplementedError(message) from None
        run.__name__, run.__qualname__, run.__doc__ = composite.__name__, composite.__qualname__, composite.__doc__
        run.__wrapped__ = composite
        return run
    return decorate


@_replayable(data=(0, "input", 4, "output"), content=(2, 3, "footprint", "structure"))
@_named_as("grey_opening")
def grey_opening(input: ArrayLike, size: Size = None, footprint: ArrayLike | None = None,
                 structure: ArrayLike | None = None, output: Output = None, mode: Mode = "reflect",
                 cval: float = 0.0, origin: Origin = 0, *, axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.grey_opening: erosion then dilation, bit for bit."""
    if size is not None and footprint is not None:
        _warn_size_ignored(3)  # past _named_as's frame too
    eroded = grey_erosion(input, size, footprint, structure, None, mode, cval, origin, axes=axes)
    return grey_dilation(eroded, size, footprint, structure, output, mode, cval, origin, axes=axes)


@_replayable(data=(0, "input", 4, "output"), content=(2, 3, "footprint", "structure"))
@_named_as("grey_closing")
def grey_closing(input: ArrayLike, size: Size = None, footprint: ArrayLike | None = None,
                 structure: ArrayLike | None = None, output: Output = None, mode: Mode = "reflect",
                 cval: float = 0.0, origin: Origin = 0, *, axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.grey_closing: dilation then erosion, bit for bit."""
    if size is not None and footprint is not None:
        _warn_size_ignored(3)  # past _named_as's frame too
    dilated = grey_dilation(input, size, footprint, structure, None, mode, cval, origin, axes=axes)
    return grey_erosion(dilated, size, footprint, structure, output, mode, cval, origin, axes=axes)


@_replayable(data=(0, "input", 4, "output"), content=(2, 3, "footprint", "structure"))
@_named_as("morphological_gradient")
def morphological_gradient(input: ArrayLike, size: Size = None, footprint: ArrayLike | None = None,
                           structure: ArrayLike | None = None, output: Output = None, mode: Mode = "reflect",
                           cval: float = 0.0, origin: Origin = 0, *,
                           axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.morphological_gradient: dilation minus erosion, bit for bit."""
    dilated = grey_dilation(input, size, footprint, structure, None, mode, cval, origin, axes=axes)
    if isinstance(output, np.ndarray):
        grey_erosion(input, size, footprint, structure, output, mode, cval, origin, axes=axes)
        return _ufunc(np.subtract, dilated, output, out=output)
    return _ufunc(np.subtract, dilated, grey_erosion(input, size, footprint, structure, None, mode, cval, origin,
                                                     axes=axes))


def _tophat(input, size, footprint, structure, output, mode, cval, origin, axes, white: bool) -> np.ndarray:
    input = np.asarray(input)
    if size is not None and footprint is not None:
        _warn_size_ignored(4)  # past white_tophat's and _named_as's frames
    first, second = (grey_erosion, grey_dilation) if white else (grey_dilation, grey_erosion)
    result = first(input, size, footprint, structure, None, mode, cval, origin, axes=axes)
    result = second(result, size, footprint, structure, output, mode, cval, origin, axes=axes)
    if input.dtype == np.bool_ and result.dtype == np.bool_:
        _ufunc(np.bitwise_xor, input, result, out=result)
    elif white:
        _ufunc(np.subtract, input, result, out=result)
    else:
        _ufunc(np.subtract, result, input, out=result)
    return result


@_replayable(data=(0, "input", 4, "output"), content=(2, 3, "footprint", "structure"))
@_named_as("white_tophat")
def white_tophat(input: ArrayLike, size: Size = None, footprint: ArrayLike | None = None,
                 structure: ArrayLike | None = None, output: Output = None, mode: Mode = "reflect",
                 cval: float = 0.0, origin: Origin = 0, *, axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.white_tophat: the input minus its opening, bit for bit."""
    return _tophat(input, size, footprint, structure, output, mode, cval, origin, axes, white=True)


@_replayable(data=(0, "input", 4, "output"), content=(2, 3, "footprint", "structure"))
@_named_as("black_tophat")
def black_tophat(input: ArrayLike, size: Size = None, footprint: ArrayLike | None = None,
                 structure: ArrayLike | None = None, output: Output = None, mode: Mode = "reflect",
                 cval: float = 0.0, origin: Origin = 0, *, axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.black_tophat: the closing minus the input, bit for bit."""
    return _tophat(input, size, footprint, structure, output, mode, cval, origin, axes, white=False)


# --- rank, median, percentile ----------------------------------------------------------------------------

def _rank_filter(input, rank, size, footprint, output, mode, cval, origin, operation: str, axes,
                 function: str) -> np.ndarray:
    if size is not None and footprint is not None:
        _warn_size_ignored(3)
    input = _input(input)
    axes = _check_axes(axes, input.ndim)
    if footprint is None:
        if size is None:
            raise RuntimeError("no footprint or filter size provided")
        footprint = _box_of(_normalize_sequence(size, len(axes)))
    else:
        footprint = np.asarray(footprint, dtype=bool)
    footprint = _expand_footprint(input.ndim, axes, footprint)
    origins = _expand_origin(input.ndim, axes, origin)
    if not isinstance(mode, str) and isinstance(mode, Iterable):
        modes = _normalize_sequence(mode, len(axes))
        full = ["constant"] * input.ndim
        for axis_mode, axis in zip(modes, axes):
            full[axis] = axis_mode
        mode = full
    shape = [length for length in footprint.shape if length > 0]
    if len(shape) != input.ndim:
        raise RuntimeError(f"footprint.ndim ({footprint.ndim}) must match len(axes) ({len(axes)})")
    for shift, length in zip(origins, shape):
        if _invalid_origin(shift, length):
            raise ValueError("invalid origin")
    filter_size = int(footprint.sum())
    if operation == "median":
        rank = filter_size // 2
    elif operation == "percentile":
        percentile = rank
        if percentile < 0.0:
            percentile += 100.0
        if percentile < 0 or percentile > 100:
            raise RuntimeError("invalid percentile")
        rank = filter_size - 1 if percentile == 100.0 else int(float(filter_size) * percentile / 100.0)
    if rank < 0:
        rank += filter_size
    if rank < 0 or rank >= filter_size:
        raise RuntimeError("rank not within filter footprint size")
    if rank == 0:
        return minimum_filter(input, None, footprint, output, mode, cval, origins)
    if rank == filter_size - 1:
        return maximum_filter(input, None, footprint, output, mode, cval, origins)
    output = _get_output(output, input)
    if not isinstance(mode, str):
        raise RuntimeError("A sequence of modes is not supported by non-separable rank filters")
    special = _has_nan_or_negative_zero(input) or _special_cval(_cast_cval(cval, input.dtype), [mode])
    one_dimensional = input.ndim == 1 and (input.size - ((footprint.size - 1) // 2 - origins[0]) >= 0
                                           or input.size == 1)
    if one_dimensional:
        # SciPy runs its own 1-D rank code there (int64 arithmetic for integers): equal to the rank-th
        # smallest whenever that value is unique; its NaN and -0.0 order is its own.
        if special:
            raise NotImplementedError(
                f"filterjit.ndimage.{function}: a 1-D input or cval holding NaN or -0.0 (SciPy's 1-D rank code "
                f"orders them its own way); call scipy.ndimage.{function}")
        if input.dtype == np.uint64 and input.size:
            _unrecordable()
        if input.dtype == np.uint64 and input.size and int(input.max()) >= 2**63:
            raise NotImplementedError(
                f"filterjit.ndimage.{function}: 1-D uint64 input of 2**63 or more (SciPy wraps it to int64); "
                f"call scipy.ndimage.{function}")
        # ... and over footprint.size contiguous taps, holes or not.
        footprint = np.ones(footprint.shape, dtype=bool)
        cval = _quietly(lambda: float(np.float32(cval)) if input.dtype == np.float32 else (
            float(np.float64(cval)) if input.dtype.kind == "f" else float(np.int64(cval))))
    else:
        cval = _cast_cval(cval, input.dtype)
    _check_wide_integers(input, function)
    if special:
        return _run_window(input, RANK_SELECT, footprint, output, mode, cval, origins, rank=rank)
    return _run_window(input, rank_text(rank, filter_size), footprint, output, mode, cval, origins)


@_replayable(data=(0, "input", 4, "output"), content=(3, "footprint"))
def rank_filter(input: ArrayLike, rank: int, size: Size = None, footprint: ArrayLike | None = None,
                output: Output = None, mode: Mode = "reflect", cval: float = 0.0, origin: Origin = 0, *,
                axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.rank_filter: the rank-th smallest value of each window (an element, never an
    average), bit for bit."""
    rank = operator.index(rank)
    return _rank_filter(input, rank, size, footprint, output, mode, cval, origin, "rank", axes, "rank_filter")


@_replayable(data=(0, "input", 3, "output"), content=(2, "footprint"))
def median_filter(input: ArrayLike, size: Size = None, footprint: ArrayLike | None = None, output: Output = None,
                  mode: Mode = "reflect", cval: float = 0.0, origin: Origin = 0, *,
                  axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.median_filter: the element of rank size // 2 of each window (no averaging for even
    sizes), bit for bit."""
    return _rank_filter(input, 0, size, footprint, output, mode, cval, origin, "median", axes, "median_filter")


@_replayable(data=(0, "input", 4, "output"), content=(3, "footprint"))
def percentile_filter(input: ArrayLike, percentile: float, size: Size = None, footprint: ArrayLike | None = None,
                      output: Output = None, mode: Mode = "reflect", cval: float = 0.0, origin: Origin = 0, *,
                      axes: Sequence[int] | int | None = None) -> np.ndarray:
    """scipy.ndimage.percentile_filter: the element of rank int(size * percentile / 100) of each window
    (SciPy's rounding), bit for bit."""
    return _rank_filter(input, percentile, size, footprint, output, mode, cval, origin, "percentile", axes,
                        "percentile_filter")


# --- generic_filter, generic_filter1d --------------------------------------------------------------------

_python_kernels: dict[Any, Union[JITCallable, None]] = {}


def _compiled_python_function(function: Callable, kind: str):
    """A Python function's own source compiled as a filter, or None when it is not a filter program."""
    key = (kind, getattr(function, "__code__", function))
    if key not in _python_kernels:
        try:
            decorate = jit_filter_function if kind == "filter" else jit_filter1d_function
            _python_kernels[key] = decorate(function)
        except (CompileError, OSError, TypeError, ValueError):
            _python_kernels[key] = None
    return _python_kernels[key]


def generic_filter(input: ArrayLike, function: Any, size: Size = None, footprint: ArrayLike | None = None,
                   output: Output = None, mode: str = "reflect", cval: float = 0.0, origin: Origin = 0,
                   extra_arguments: Sequence[Any] = (), extra_keywords: dict | None = None, *,
                   axes: Sequence[int] | int | None = None, fast_math: bool = False) -> np.ndarray:
    """scipy.ndimage.generic_filter. A FilterJIT callable, Kernel or filter text, or a Python function
    whose source is a filter program, runs compiled on FilterJIT's fused engine; anything else (a
    function using names the filter language lacks, extra arguments, a SciPy LowLevelCallable) is
    handed to scipy.ndimage.generic_filter unchanged, so the result is SciPy's either way.
    `fast_math=True` (not a SciPy argument) lets FilterJIT's float box sums and means differ from the
    exact result in the last bits (filterjit.generic_filter); SciPy's path ignores it."""
    kernel = function
    if not isinstance(function, (JITCallable, Kernel, str)) and callable(function) and not extra_arguments \
            and not extra_keywords and not isinstance(function, scipy.LowLevelCallable):
        kernel = _compiled_python_function(function, "filter") or function
    if isinstance(kernel, (JITCallable, Kernel, str)) and not extra_arguments and not extra_keywords:
        return _fj_generic_filter(input, kernel, size=size, footprint=footprint, output=output,
                                  mode=mode, cval=cval, origin=origin, axes=axes, fast_math=fast_math)
    return _scipy_ndimage().generic_filter(input, function, size, footprint, output, mode, cval, origin,
                                        extra_arguments, extra_keywords, axes=axes)


def generic_filter1d(input: ArrayLike, function: Any, filter_size: int, axis: int = -1, output: Output = None,
                     mode: str = "reflect", cval: float = 0.0, origin: int = 0, extra_arguments: Sequence[Any] = (),
                     extra_keywords: dict | None = None) -> np.ndarray:
    """scipy.ndimage.generic_filter1d, with the same rule as generic_filter: FilterJIT line kernels (or a
    Python function whose source is one) run compiled; anything else is handed to SciPy."""
    kernel = function
    if not isinstance(function, (JITCallable, Kernel, str)) and callable(function) and not extra_arguments \
            and not extra_keywords and not isinstance(function, scipy.LowLevelCallable):
        kernel = _compiled_python_function(function, "line_filter") or function
    if isinstance(kernel, (JITCallable, Kernel, str)) and not extra_arguments and not extra_keywords:
        return _fj_generic_filter1d(input, kernel, filter_size, axis=axis, output=output,
                                    mode=mode, cval=cval, origin=origin)
    return _scipy_ndimage().generic_filter1d(input, function, filter_size, axis, output, mode, cval, origin,
                                          extra_arguments, extra_keywords)


# --- Everything else in scipy.ndimage --------------------------------------------------------------------

def __getattr__(name: str):
    if not name.startswith("_") and hasattr(_scipy_ndimage(), name):
        raise NotImplementedError(
            f"filterjit.ndimage does not cover scipy.ndimage.{name}; call scipy.ndimage.{name} for it "
            f"(filterjit.ndimage covers: {', '.join(__all__)})")
    raise AttributeError(f"module 'filterjit.ndimage' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
