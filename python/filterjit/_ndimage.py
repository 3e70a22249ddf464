"""filterjit.generic_filter / generic_filter1d / geometric_transform / map_coordinates: SciPy's
signatures, FilterJIT's driver on NumPy arrays.

Arguments are normalised here with SciPy's messages; the C library runs the driver without the GIL
(ctypes releases it) on the arrays' own memory, with their strides, in threads.
"""

from __future__ import annotations

import ctypes
import importlib
import math
import os
import numbers
import re
import threading
import typing
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike
from numpy.lib.array_utils import normalize_axis_index

from . import _lib
from ._kernel import CompileError, JITCallable, Kernel

_ENGINES = {"callback": 0, "fused": 1}
# Kernels compiled from filter text given to these functions, by (text, kind): a call with the same text
# reuses the compiled kernel instead of handing the text to the engine again (about 10 us a call).
# Bounded, oldest entry first out; each entry keeps its kernel's machine code alive.
_TEXT_KERNELS: dict[tuple[str, str, str | None], Kernel] = {}
_TEXT_KERNELS_LIMIT = 64
_TEXT_KERNELS_LOCK = threading.Lock()
_DTYPE_CODES = {np.dtype(name): code for code, name in enumerate(_lib.DTYPES)}

# Prepared generic_filter calls (filterjit_generic_filter_prepare), by the call's arguments: a call that
# repeats an earlier successful one (same kernel, input/output layout, size, mode, cval, origin, threads,
# engine, parameters, ...) skips the normalisation below and the library's planning, and runs the plan on
# its arrays (one C call). Only plain argument types are keyed (see `_plan_key`); anything else, and the
# first two calls of a key, take the full path, whose checks and errors are the reference. A plan is made
# on a key's second successful call (`_SEEN` holds keys called once), so arguments that never repeat (a batch
# of differently shaped images, a fresh NaN cval each call) are not planned twice. Bounded, oldest out.
_PLANS: dict[tuple, "_Plan"] = {}
_PLANS_LIMIT = 64
_SEEN: dict[tuple, None] = {}
_SEEN_LIMIT = 256
_PLANS_LOCK = threading.Lock()
_prepare: Any = getattr(_lib.lib, "filterjit_generic_filter_prepare", None)
_plan_run: Any = getattr(_lib.lib, "filterjit_filter_plan_run", None)
_plan_free: Any = getattr(_lib.lib, "filterjit_filter_plan_free", None)
if _prepare is not None and _plan_run is not None and _plan_free is not None:
    _p_intp = ctypes.POINTER(ctypes.c_ssize_t)
    _prepare.restype = ctypes.c_void_p
    _prepare.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p, ctypes.c_int, ctypes.c_int, _p_intp, _p_intp,
        ctypes.c_void_p, ctypes.c_int, _p_intp,
        ctypes.POINTER(ctypes.c_uint8), ctypes.c_int, _p_intp,
        _p_intp, _p_intp,
        ctypes.c_int, ctypes.c_double,
        ctypes.POINTER(ctypes.c_double), ctypes.c_ssize_t,
        ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_void_p)]
    _plan_run.restype = ctypes.c_int
    _plan_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    _plan_free.restype = None
    _plan_free.argtypes = [ctypes.c_void_p]
else:  # an older library without prepared calls: every call takes the full path
    _prepare = None
# Prepared generic_filter1d calls (filterjit_generic_filter1d_prepare): the same plans, run the same way.
_prepare1d: Any = getattr(_lib.lib, "filterjit_generic_filter1d_prepare", None) if _prepare is not None else None
if _prepare1d is not None:
    _prepare1d.restype = ctypes.c_void_p
    _prepare1d.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p, ctypes.c_int, ctypes.c_int, _p_intp, _p_intp,
        ctypes.c_void_p, ctypes.c_int, _p_intp,
        ctypes.c_ssize_t, ctypes.c_int, ctypes.c_int, ctypes.c_double, ctypes.c_ssize_t,
        ctypes.POINTER(ctypes.c_double), ctypes.c_ssize_t,
        ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_void_p)]
# The prepared run through the C extension (filterjit/_fastcall.c `plan_run`): the arrays' addresses read in C, no
# ctypes call; None without the extension (or a stale one), and then ctypes runs the plan.
# FILTERJIT_NO_FASTCALL=1 turns it off, as for array functions.
_fast_plan_run: Any = None
if _prepare is not None and os.environ.get("FILTERJIT_NO_FASTCALL", "") in ("", "0"):
    try:
        _extension: Any = importlib.import_module("filterjit._fastcall")
        _extension.set_plan_run(ctypes.cast(_plan_run, ctypes.c_void_p).value)
        _fast_plan_run = _extension.plan_run
    except Exception:  # not built, built for another ABI, or an older build without plan_run: ctypes
        _fast_plan_run = None
# Unprepared calls through the C extension (filterjit/_fastcall.c `filter_call`, `filter1d_call`), for arguments whose
# call template is known (`_TEMPLATES`); None without the extension (or a stale one): then ctypes, as before.
_fast_filter_call: Any = None
_fast_filter1d_call: Any = None
if _fast_plan_run is not None:
    try:
        _extension.set_filter_calls(ctypes.cast(_lib.lib.filterjit_generic_filter_flags, ctypes.c_void_p).value,
                                    ctypes.cast(_lib.lib.filterjit_generic_filter1d, ctypes.c_void_p).value)
        _fast_filter_call, _fast_filter1d_call = _extension.filter_call, _extension.filter1d_call
    except Exception:  # an older build without filter_call: ctypes
        _fast_filter_call = _fast_filter1d_call = None


def _run_plan_ctypes(handle, image: np.ndarray, result: np.ndarray):
    """Runs a prepared call through ctypes: None, or (status, address of the error text)."""
    error = ctypes.c_void_p()
    status = _plan_run(handle, image.ctypes.data, result.ctypes.data, ctypes.byref(error))
    return None if status == _lib.OK else (status, error.value)


# How a prepared call runs: None when it ran, else (status, address of the error text).
_run_plan: Any = _fast_plan_run if _fast_plan_run is not None else _run_plan_ctypes


class _Plan:
    """A prepared generic_filter call: the library's plan handle, the kernel it runs and the
    `function` argument it was made for (a Kernel or callable is matched by identity)."""
    __slots__ = ("handle", "kernel", "function")

    def __init__(self, handle: int, kernel: Kernel, function: Any):
        self.handle = handle
        self.kernel = kernel
        self.function = function

    def __del__(self):
        free = _plan_free
        if free is not None and self.handle:
            free(self.handle)
            self.handle = None


def _exact_number(value) -> Any:
    """A key for a float or int argument that tells -0.0 from 0.0 and an int from a float; None
    for any other type (the call is then not keyed)."""
    kind = type(value)
    if kind is float:
        return (value, math.copysign(1.0, value))
    if kind is int:
        return ("i", value)
    return None


def _int_key(value) -> Any:
    """A key for an int or a tuple/list of ints (size, origin); None for any other type."""
    kind = type(value)
    if kind is int:
        return value
    if kind is tuple or kind is list:
        for item in value:
            if type(item) is not int:
                return None
        return ("s", tuple(value))
    return None


def _plan_key(input, function, size, footprint, output, mode, cval, origin, axes, threads, engine,
              extra_arguments, extra_keywords, fast_math, parameters) -> tuple | None:
    """The key of a generic_filter call in `_PLANS`, or None when some argument is not of a plain type
    whose value alone decides every check (then the call is not prepared)."""
    if (_prepare is None or axes is not None or extra_keywords is not None
            or type(input) is not np.ndarray or not input.flags.aligned  # (a misaligned input is copied in)
            or type(mode) is not str or type(engine) is not str
            or (fast_math is not False and fast_math is not True)
            or (threads is not None and type(threads) is not int)
            or type(extra_arguments) is not tuple or extra_arguments):
        return None
    footprint_key: Any = None
    if footprint is not None:
        # By its bytes (the plan holds its own copy); not with `size` too (the full call warns that it ignores it).
        # (Not an object array: its bytes are its items' addresses, which may be reused by other values.)
        if type(footprint) is not np.ndarray or size is not None or footprint.dtype.hasobject:
            return None
        footprint_key = (footprint.dtype.str, footprint.shape, footprint.tobytes())
    size_key = _int_key(size) if footprint is None else "footprint"
    origin_key = _int_key(origin)
    cval_key = _exact_number(cval)
    if size_key is None or origin_key is None or cval_key is None:
        return None
    if output is None:
        output_key = None
    elif type(output) is np.ndarray and output.flags.aligned:
        output_key = (output.dtype, output.shape, output.strides)
    else:
        return None
    function_key: Any
    if type(function) is str:
        function_key = function
    elif type(function) is Kernel:
        function_key = ("k", id(function))
    elif type(function) is JITCallable:
        bound = []
        for name, value in function.parameters.items():
            number = _exact_number(value)
            if number is None:
                return None
            bound.append((name, number))
        function_key = ("c", id(function), tuple(bound))
    else:
        return None
    named: tuple = ()
    if parameters:
        items = []
        for name, value in parameters.items():
            number = _exact_number(value)
            if number is None:
                return None
            items.append((name, number))
        named = tuple(items)
    return (function_key, input.dtype, input.shape, input.strides, output_key, size_key, footprint_key, mode, cval_key,
            origin_key, threads, engine, fast_math, named)


def _remember_plan(key: tuple, arguments: Callable[[], tuple], kernel: Kernel, function: Any,
                   prepare: Any = None) -> None:
    """Prepares the call that just succeeded with `arguments()` (the C call's arguments, made only when needed; by
    `prepare`: generic_filter's by default) and keeps it under `key`, on the key's second successful call (the
    first is only noted)."""
    with _PLANS_LOCK:
        if key not in _SEEN:
            while len(_SEEN) >= _SEEN_LIMIT:
                del _SEEN[next(iter(_SEEN))]
            _SEEN[key] = None
            return
        del _SEEN[key]
    status = ctypes.c_int(0)
    error = ctypes.c_void_p()
    handle = (prepare or _prepare)(*arguments(), ctypes.byref(status), ctypes.byref(error))
    if not handle:
        _lib.take_string(error)  # the call itself succeeded: nothing to prepare, nothing to report
        return
    plan = _Plan(handle, kernel, function)
    with _PLANS_LOCK:
        while len(_PLANS) >= _PLANS_LIMIT:
            del _PLANS[next(iter(_PLANS))]
        _PLANS[key] = plan


# Call templates: what the arguments of a generic_filter / generic_filter1d call other than its arrays and cval
# normalise to (kernel, parameter values, footprint, axes, origins, codes: the C call's fixed arguments, checked),
# by the plan key's parts that decide them (`_template_key`). A call whose arguments never repeat (a new shape or a
# new cval each call) but whose template is known skips the normalisation and the ctypes call: the C extension
# reads its arrays (`_templated_call`; with the library's per-footprint tap layouts, 36x36 float64 `minimum_filter1d`
# with a new cval each call 56 -> 23 us: benchmarks/unrepeated_calls_zen3_s25.md).
# Made after a full call succeeded, so every check the template stands for has passed once for those arguments;
# the per-call checks (the arrays' dtypes, the output) still run. Bounded as the plans are (each keeps its kernel,
# function and footprint alive), oldest out.
_TEMPLATES: dict[tuple, "_CallTemplate"] = {}
_TEMPLATES_LIMIT = 64


class _CallTemplate:
    """The fixed arguments of a C filter call around its cval, as ctypes objects for the prepare functions
    (`before`, `after`) and as ints for the extension (`words_before`, `words_after`); the kernel and the
    `function` argument it was made for (matched as `_matching_plan` matches); `keep`: what the addresses point
    into."""
    __slots__ = ("kernel", "function", "before", "after", "words_before", "words_after", "keep")

    def __init__(self, kernel: Kernel, function: Any, before: tuple, after: tuple, keep: tuple):
        self.kernel, self.function, self.before, self.after, self.keep = kernel, function, before, after, keep
        self.words_before, self.words_after = _words(before), _words(after)


def _words(arguments: tuple) -> tuple:
    """ctypes arguments as the extension takes them: arrays and pointers by address, numbers as they are."""
    words = []
    for value in arguments:
        if isinstance(value, ctypes.Array):
            words.append(ctypes.addressof(value))
        elif isinstance(value, ctypes._Pointer):  # type: ignore[attr-defined]
            words.append(ctypes.cast(value, ctypes.c_void_p).value or 0)
        else:
            words.append(value)
    return tuple(words)


def _template_key(key: tuple | None, one_d: bool) -> tuple | None:
    """The part of a plan key that decides a call's template: all but the arrays' dtype, shape, strides and output,
    and cval; the input's rank instead (axes and footprints are checked against it)."""
    if key is None:
        return None
    if one_d:  # ("1d", filter_size, axis, origin) + generic_filter's key
        rest = _template_key(key[4:], False)
        return None if rest is None else ("1d",) + key[1:4] + rest[1:]
    return ("nd", key[0], len(key[2]), key[5], key[6], key[7], key[9], key[10], key[11], key[12], key[13])


def _matching_template(key: tuple | None, function) -> "_CallTemplate | None":
    """The template under `key` made for this `function` (as `_matching_plan`)."""
    template = _TEMPLATES.get(key) if key is not None else None
    return template if template is not None and _made_for(template, function) else None


def _remember_template(key: tuple, template: "_CallTemplate") -> None:
    with _PLANS_LOCK:
        while len(_TEMPLATES) >= _TEMPLATES_LIMIT:
            del _TEMPLATES[next(iter(_TEMPLATES))]
        _TEMPLATES[key] = template


def _templated_call(template: "_CallTemplate", call: Any, prepare: Any, key: tuple, function, input: np.ndarray,
                    output, cval: float) -> np.ndarray:
    """A full call whose template is known: the output made and checked as the full call does, the C call through
    the extension, then the plan remembered as the full call remembers it."""
    given_output = output
    output = _output_array(output, input)
    result = _writable_native(output)
    kernel = template.kernel
    input_code, result_code = _DTYPE_CODES[input.dtype], _DTYPE_CODES[result.dtype]
    failure = call(kernel.handle, input, input_code, result, result_code, *template.words_before, float(cval),
                   *template.words_after)
    if failure is not None:
        status, address = failure
        message = _lib.take_string(ctypes.c_void_p(address))
        _raise(status, _locate(message, kernel) if status == _lib.ERROR_KERNEL else message)
    if result is not output:
        output[...] = result
    elif given_output is None or output is given_output:
        _remember_plan(key, lambda: (kernel.handle, input.ctypes.data, input_code, input.ndim, _intp(input.shape),
                                     _intp(input.strides), result.ctypes.data, result_code, _intp(result.strides),
                                     *template.before, float(cval), *template.after),
                       kernel, function, prepare)
    return output


def _kernel_and_values(function, kind: str, caller: str, parameters: dict, extra_arguments: Sequence[float] = (),
                       extra_keywords: dict | None = None) -> tuple[Kernel, list[float]]:
    """The kernel to run and its user_data values, from a JITCallable, a Kernel or filter text: the
    callable's own values, then SciPy's `extra_arguments` (in declaration order) and `extra_keywords`,
    then keywords. A parameter without a default that none of them gives is a TypeError naming it."""
    kernel, base = _kernel_and_parameters(function, kind, caller)
    return kernel, kernel.parameter_values(_named_parameters(kernel, base, extra_arguments, extra_keywords, parameters))


def _named_parameters(kernel: Kernel, base: dict, extra_arguments: Sequence[float], extra_keywords: dict | None,
                      parameters: dict) -> dict:
    """Parameter values by name from SciPy's extra_arguments/extra_keywords and keywords, over `base`."""
    named = dict(base)
    extra_arguments = tuple(extra_arguments)
    if len(extra_arguments) > len(kernel.parameters):
        raise TypeError(f"kernel '{kernel.name}' takes {len(kernel.parameters)} parameters, "
                        f"{len(extra_arguments)} extra_arguments given")
    for p, value in zip(kernel.parameters, extra_arguments):
        named[p.name] = value
    named.update(extra_keywords or {})
    named.update(parameters)
    return named


def _kernel_and_parameters(function, kind: str, caller: str) -> tuple[Kernel, dict]:
    """The kernel to run and the parameter values its callable carries."""
    if isinstance(function, JITCallable):
        kernel, base = function.kernel, dict(function.parameters)
    elif isinstance(function, Kernel):
        kernel, base = function, {}
    elif isinstance(function, str):
        kernel, base = _text_kernel(function, kind), {}
    else:
        raise TypeError(f"filterjit.{caller} needs a FilterJIT callable, Kernel or filter source text, not "
                        f"{type(function).__name__}; for a Python function use scipy.ndimage.{caller}")
    kernel.check_kind(kind, f"filterjit.{caller}")
    return kernel, base


def _text_kernel(source: str, kind: str, file_name: str | None = None) -> Kernel:
    """The kernel compiled from `source` as `kind`, compiled once per process while it stays cached
    (the last `_TEXT_KERNELS_LIMIT` texts; `file_name` is what diagnostics call the text)."""
    key = (source, kind, file_name)
    kernel = _TEXT_KERNELS.get(key)
    if kernel is None:
        kernel = Kernel(source, kind=kind, file_name=file_name)  # raises CompileError: nothing is cached then
        with _TEXT_KERNELS_LOCK:
            while len(_TEXT_KERNELS) >= _TEXT_KERNELS_LIMIT:
                del _TEXT_KERNELS[next(iter(_TEXT_KERNELS))]
            _TEXT_KERNELS[key] = kernel
    return kernel


def _native(array: np.ndarray, role: str) -> np.ndarray:
    """The array with a supported dtype in native byte order (copied only when it must be)."""
    if np.iscomplexobj(array):
        raise TypeError("Complex type not supported")
    dtype = array.dtype
    if not dtype.isnative:
        dtype = dtype.newbyteorder("=")
    if dtype not in _DTYPE_CODES:
        raise RuntimeError(f"array type not supported ({role} dtype {array.dtype})")
    return array if dtype == array.dtype else array.astype(dtype)


def _output_array(output, input: np.ndarray) -> np.ndarray:
    """scipy.ndimage's `output` argument: None, a dtype, or an array of the input's shape."""
    if output is None:
        return np.empty(input.shape, dtype=input.dtype)
    if isinstance(output, np.ndarray):
        if output.shape != input.shape:
            raise RuntimeError("output shape not correct")
        if not output.flags.writeable:
            raise ValueError("output array is read-only.")
        return output
    dtype = np.dtype(output)
    if dtype.kind == "c":
        raise RuntimeError("output type not supported: complex")
    return np.empty(input.shape, dtype=dtype)


def _sequence(value, count: int, name: str) -> list[int]:
    """A scalar repeated per axis, or a sequence of exactly `count` ints (SciPy's message otherwise)."""
    if isinstance(value, (numbers.Integral, np.integer)):
        return [int(value)] * count
    if isinstance(value, (numbers.Real, np.floating)):
        raise TypeError(f"{name} must be an integer or a sequence of integers, not {value!r}")
    values = list(value)
    if len(values) != count:
        raise RuntimeError("sequence argument must have length equal to input rank")
    result = []
    for item in values:
        if not isinstance(item, (numbers.Integral, np.integer)):
            raise TypeError(f"{name} must contain integers, not {item!r}")
        result.append(int(item))
    return result


def _check_origin(origin: int, length: int) -> None:
    if not -(length // 2) <= origin <= (length - 1) - length // 2:
        raise ValueError("invalid origin")


def _mode_code(mode) -> int:
    if not isinstance(mode, str) or mode not in _lib.MODES:
        raise RuntimeError("boundary mode not supported")
    return _lib.MODES.index(mode)


def _threads(threads) -> int:
    if threads is None:
        return 0
    if not isinstance(threads, (numbers.Integral, np.integer)) or threads < 1:
        raise ValueError(f"threads must be None or a positive integer, not {threads!r}")
    return int(min(threads, 1024))


def _engine(engine) -> int:
    if engine not in _ENGINES:
        raise ValueError(f"engine must be 'fused' or 'callback', not {engine!r}")
    return _ENGINES[engine]


def _intp(values) -> ctypes.Array:
    values = list(values)
    return (ctypes.c_ssize_t * max(len(values), 1))(*values)


def _locate(message: str, kernel: Kernel) -> str:
    """A kernel failure's "at line L, column C", moved to the file the kernel's text came from."""
    if not (kernel.line_offset or kernel.indent or kernel.file_name):
        return message

    def moved(match):
        line, column = int(match.group(1)) + kernel.line_offset, int(match.group(2)) + len(kernel.indent)
        where = f" of {kernel.file_name}" if kernel.file_name else ""
        return f"at line {line}, column {column}{where}"
    return re.sub(r"at line (\d+), column (\d+)", moved, message)


def _raise(status: int, message: str):
    if status == _lib.ERROR_COMPILE:
        raise CompileError(message)
    if status == _lib.ERROR_SIZE:
        raise MemoryError(message)
    if status == _lib.ERROR_ARGUMENT and message.startswith("invalid origin"):
        raise ValueError(message)
    raise RuntimeError(message)


def _run(call, kernel: Kernel, output: np.ndarray, result: np.ndarray) -> np.ndarray:
    """Runs a C driver call into `result`; copies into `output` when they differ."""
    error = ctypes.c_void_p()
    status = call(ctypes.byref(error))
    if status != _lib.OK:
        message = _lib.take_string(error)
        _raise(status, _locate(message, kernel) if status == _lib.ERROR_KERNEL else message)
    if result is not output:
        output[...] = result
    return output


def _writable_native(output: np.ndarray) -> np.ndarray:
    """Where the driver writes: the output itself when its dtype is native and supported."""
    if output.dtype in _DTYPE_CODES:  # (native and supported: the common case first, np.iscomplexobj costs 1 us)
        return output
    if np.iscomplexobj(output):
        raise RuntimeError("output type not supported: complex")
    if output.dtype.isnative and output.dtype in _DTYPE_CODES:
        return output
    native = output.dtype.newbyteorder("=") if not output.dtype.isnative else output.dtype
    if native not in _DTYPE_CODES:
        raise RuntimeError(f"array type not supported (output dtype {output.dtype})")
    return np.empty(output.shape, dtype=native)


def generic_filter(input: ArrayLike, function: JITCallable | Kernel | str, size: int | Sequence[int] | None = None,
                   footprint: ArrayLike | None = None, output: np.ndarray | DTypeLike | None = None,
                   mode: str = "reflect", cval: float = 0.0, origin: int | Sequence[int] = 0,
                   axes: int | Sequence[int] | None = None, threads: int | None = None, engine: str = "fused",
                   extra_arguments: Sequence[float] = (), extra_keywords: dict[str, float] | None = None,
                   fast_math: bool = False, **parameters: float) -> np.ndarray:
    """scipy.ndimage.generic_filter with a FilterJIT kernel, run by FilterJIT's driver.

    `function` is a callable from jit_filter/@jit_filter_function, a Kernel, or filter source text;
    keywords set its parameters. `threads` (default: as many processors as the work keeps busy) splits the image; `engine`
    is 'fused' (a compiled whole-image loop, the default) or 'callback' (SciPy's per-element callback ABI).
    The kernel's run-time parameters come from `extra_arguments` (in declaration order), `extra_keywords`
    and keywords, as SciPy passes them; one declared without a default must be given (TypeError naming it).
    Results equal scipy.ndimage.generic_filter with the same kernel, except that an `output` that
    aliases `input` gives the correct result and `axes` in any order mean what they say.
    `fast_math=True` allows results that differ in the last bits: float `np.sum(values)` /
    `np.mean(values)` over 2-D and 3-D box windows then run as O(1)-per-pixel box sums, within the error bound
    of docs/window-strategies.md (NaN and infinities propagate as in the exact sum); nothing else changes.
    Without it those sums still run in O(1) per pixel, with SciPy's exact bits, wherever the data make every
    window sum exact in doubles (float32 images, integer-valued floats), and in NumPy's pairwise order elsewhere.
    A call that repeats an earlier one's arguments (same kernel, array layouts, size, mode, cval, origin,
    threads, parameters, footprint, of plain Python types and aligned arrays; not with axes, extra_arguments
    or extra_keywords) runs, from its third call, the plan its second call prepared: one C call, the same
    results and errors."""
    key = _plan_key(input, function, size, footprint, output, mode, cval, origin, axes, threads, engine,
                    extra_arguments, extra_keywords, fast_math, parameters)
    prepared = _run_if_prepared(key, function, input, output)
    if prepared is not None:
        return prepared
    template_key = _template_key(key, False) if _fast_filter_call is not None else None
    template = _matching_template(template_key, function)
    if template is not None and typing.cast(np.ndarray, input).dtype in _DTYPE_CODES:  # (keyed: an ndarray)
        return _templated_call(template, _fast_filter_call, None, typing.cast(tuple, key), function,
                               typing.cast(np.ndarray, input), output, cval)
    given_input, given_output = input, output
    kernel, values = _kernel_and_values(function, "filter", "generic_filter", parameters, extra_arguments, extra_keywords)
    input = _native(np.asarray(input), "input")
    rank = input.ndim
    if axes is None:
        axes = list(range(rank))
    else:
        listed = [axes] if isinstance(axes, (numbers.Integral, np.integer)) else list(axes)  # type: ignore[arg-type]
        axes = [normalize_axis_index(int(a), rank) for a in listed]
        if len(set(axes)) != len(axes):
            raise ValueError("axes must be unique")
    if footprint is None:
        if size is None:
            raise RuntimeError("no footprint or filter size provided")
        footprint = np.ones(_sequence(size, len(axes), "size"), dtype=bool)
    else:
        if size is not None:
            warnings.warn("ignoring size because footprint is set", UserWarning, stacklevel=2)
        footprint = np.asarray(footprint, dtype=bool)
    footprint = np.ascontiguousarray(footprint, dtype=np.uint8)
    # The C API reads one axis per footprint dimension, so the counts must agree here (SciPy's check).
    nonzero = sum(1 for length in footprint.shape if length > 0)
    if nonzero != len(axes) or footprint.ndim != len(axes):
        raise RuntimeError(f"footprint.ndim ({nonzero}) must match len(axes) ({len(axes)})")
    origins = _sequence(origin, len(axes), "origin")
    if footprint.ndim == len(axes) and 0 not in footprint.shape:
        for o, length in zip(origins, footprint.shape):
            _check_origin(o, length)
    mode_code = _mode_code(mode)
    output = _output_array(output, input)
    result = _writable_native(output)
    shape = _intp(input.shape)
    params = (ctypes.c_double * max(len(values), 1))(*values)
    footprint_shape = _intp(footprint.shape)
    flags = _lib.FLAG_FAST_MATH if fast_math else 0
    before = (footprint.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), footprint.ndim, footprint_shape,
              _intp(axes), _intp(origins), mode_code)
    after = (params, len(values), _engine(engine), _threads(threads), flags)
    arguments = (kernel.handle,
                 input.ctypes.data, _DTYPE_CODES[input.dtype], rank, shape, _intp(input.strides),
                 result.ctypes.data, _DTYPE_CODES[result.dtype], _intp(result.strides),
                 *before, float(cval), *after)
    call = lambda error: _lib.lib.filterjit_generic_filter_flags(*arguments, error)  # noqa: E731
    _run(call, kernel, output, result)
    if template_key is not None:
        _remember_template(template_key, _CallTemplate(kernel, function, before, after, (footprint,)))
    # Prepared for the next call with these arguments when the arrays were used as given (no copy of a
    # non-native input, the output written in place).
    if key is not None and input is given_input and result is output and (given_output is None or output is given_output):
        _remember_plan(key, lambda: arguments, kernel, function)
    return output


def _plan_key1d(input, function, filter_size, axis, output, mode, cval, origin, threads, engine, extra_arguments,
                extra_keywords, parameters) -> tuple | None:
    """The key of a generic_filter1d call in `_PLANS` (None: not prepared), by `_plan_key`'s rules."""
    if _prepare1d is None or type(filter_size) is not int or type(axis) is not int or type(origin) is not int:
        return None
    key = _plan_key(input, function, 1, None, output, mode, cval, 0, None, threads, engine, extra_arguments,
                    extra_keywords, False, parameters)
    return None if key is None else ("1d", filter_size, axis, origin) + key


def _run_prepared(plan: "_Plan", input, output):
    """Runs a prepared call on `input` (an ndarray) into `output` (None or an ndarray): the result, or None
    when the output is read-only (then the full call raises SciPy's error)."""
    image = typing.cast(np.ndarray, input)
    result = np.empty(image.shape, dtype=image.dtype) if output is None else typing.cast(np.ndarray, output)
    if not result.flags.writeable:
        return None
    failure = _run_plan(plan.handle, image, result)
    if failure is not None:
        status, address = failure
        message = _lib.take_string(ctypes.c_void_p(address))
        _raise(status, _locate(message, plan.kernel) if status == _lib.ERROR_KERNEL else message)
    return result


# What filterjit.ndimage's replays record (its "Replayed calls"): while a call of one of its functions is recorded,
# `events` is a list that each prepared run appends (plan, input, output) to, and each full call None.
RECORDING = threading.local()


def _run_if_prepared(key, function, input, output):
    """The result of the plan kept under `key` for this `function` run on `input` into `output`, or None when
    there is none (or the output is read-only): then the full call. Either is recorded while RECORDING.events is set."""
    plan = _matching_plan(key, function)
    result = None if plan is None else _run_prepared(plan, input, output)
    events = getattr(RECORDING, "events", None)
    if events is not None:
        events.append(None if result is None else (plan, input, result))
    return result


def _matching_plan(key, function) -> "_Plan | None":
    """The plan under `key` made for this `function` (a JITCallable's kernel may have been replaced since)."""
    plan = _PLANS.get(key) if key is not None else None
    return plan if plan is not None and _made_for(plan, function) else None


def _made_for(entry: "_Plan | _CallTemplate", function) -> bool:
    """Whether a plan or template was made for this `function` argument: filter text by its key alone, a Kernel or
    JITCallable by identity (its id is in the key, and the entry keeps it alive), and a JITCallable only while its
    kernel is still the one the entry runs."""
    return type(function) is str or (entry.function is function
                                     and (type(function) is not JITCallable or function.kernel is entry.kernel))


def generic_filter1d(input: ArrayLike, function: JITCallable | Kernel | str, filter_size: int, axis: int = -1,
                     output: np.ndarray | DTypeLike | None = None, mode: str = "reflect", cval: float = 0.0,
                     origin: int = 0, threads: int | None = None, engine: str = "fused",
                     extra_arguments: Sequence[float] = (), extra_keywords: dict[str, float] | None = None,
                     **parameters: float) -> np.ndarray:
    """scipy.ndimage.generic_filter1d with a FilterJIT `@line_filter` kernel, run by FilterJIT's driver
    (the output line is zeroed before each call; SciPy leaves stale data there). Run-time parameters
    come from `extra_arguments`, `extra_keywords` and keywords, as in generic_filter. A call that repeats an
    earlier one's arguments runs, from its third call, the plan its second call prepared (as generic_filter)."""
    key = _plan_key1d(input, function, filter_size, axis, output, mode, cval, origin, threads, engine,
                      extra_arguments, extra_keywords, parameters)
    prepared = _run_if_prepared(key, function, input, output)
    if prepared is not None:
        return prepared
    template_key = _template_key(key, True) if _fast_filter1d_call is not None else None
    template = _matching_template(template_key, function)
    if template is not None and typing.cast(np.ndarray, input).dtype in _DTYPE_CODES:  # (keyed: an ndarray)
        return _templated_call(template, _fast_filter1d_call, _prepare1d, typing.cast(tuple, key), function,
                               typing.cast(np.ndarray, input), output, cval)
    given_input, given_output = input, output
    kernel, values = _kernel_and_values(function, "line_filter", "generic_filter1d", parameters, extra_arguments,
                                        extra_keywords)
    input = _native(np.asarray(input), "input")
    if not isinstance(filter_size, (numbers.Integral, np.integer)):
        raise TypeError(f"filter_size must be an integer, not {filter_size!r}")
    if filter_size < 1:
        raise RuntimeError("invalid filter size")
    axis = normalize_axis_index(int(axis), input.ndim)
    if not isinstance(origin, (numbers.Integral, np.integer)):
        raise TypeError(f"origin must be an integer, not {origin!r}")
    _check_origin(int(origin), int(filter_size))
    mode_code = _mode_code(mode)
    output = _output_array(output, input)
    result = _writable_native(output)
    params = (ctypes.c_double * max(len(values), 1))(*values)
    before = (int(filter_size), axis, mode_code)
    after = (int(origin), params, len(values), _engine(engine), _threads(threads))
    arguments = (kernel.handle,
                 input.ctypes.data, _DTYPE_CODES[input.dtype], input.ndim, _intp(input.shape), _intp(input.strides),
                 result.ctypes.data, _DTYPE_CODES[result.dtype], _intp(result.strides),
                 *before, float(cval), *after)
    call = lambda error: _lib.lib.filterjit_generic_filter1d(*arguments, error)  # noqa: E731
    output = _run(call, kernel, output, result)
    if template_key is not None:
        _remember_template(template_key, _CallTemplate(kernel, function, before, after, ()))
    # Prepared for the next call with these arguments when the arrays were used as given (see generic_filter).
    if key is not None and input is given_input and result is output and (given_output is None or output is given_output):
        _remember_plan(key, lambda: arguments, kernel, function, _prepare1d)
    return output


def _order(order: object) -> int:
    if not isinstance(order, (numbers.Integral, np.integer)) or not 0 <= int(order) <= 5:
        raise RuntimeError("spline order not supported")
    return int(order)


def _shaped_output(output, input: np.ndarray, shape: tuple) -> np.ndarray:
    """scipy.ndimage's `output` for the interpolation functions: None, a dtype, or an array of `shape`."""
    if output is None:
        return np.zeros(shape, dtype=input.dtype)
    if isinstance(output, np.ndarray):
        if output.shape != shape:
            raise RuntimeError("output shape not correct")
        if not output.flags.writeable:
            raise ValueError("output array is read-only.")
        return output
    dtype = np.dtype(output)
    if dtype.kind == "c":
        raise RuntimeError("output type not supported: complex")
    if isinstance(output, str) and not issubclass(dtype.type, (np.number, np.bool_)):
        raise RuntimeError("output must have numeric dtype")
    return np.zeros(shape, dtype=dtype)


def geometric_transform(input: ArrayLike, mapping: Any, output_shape: Sequence[int] | None = None,
                        output: np.ndarray | DTypeLike | None = None, order: int = 3, mode: str = "constant",
                        cval: float = 0.0, prefilter: bool = True, extra_arguments: Sequence[float] = (),
                        extra_keywords: dict[str, float] | None = None, threads: int | None = None,
                        engine: str = "fused", **parameters: float) -> np.ndarray:
    """scipy.ndimage.geometric_transform with a FilterJIT `@transform` kernel, run by FilterJIT's driver.

    `mapping` is a callable from jit_transform/@jit_geometric_function, a Kernel, or transform source
    text (SciPy's own form, `def shift(output_coords, dy, dx): return (output_coords[0] - dy, ...)`,
    compiles too). The kernel's parameters come from `extra_arguments` (in declaration order),
    `extra_keywords` and keywords. Output rows are split across `threads` (default: one per
    processor). `engine='fused'` (the default) runs the kernel's coordinate code compiled into a
    loop over each output row (compiled once per input and output rank; order, mode and cval do not
    recompile it); `engine='callback'` calls the compiled SciPy callback per output point. Both
    give the same results, equal to scipy.ndimage.geometric_transform with the same kernel, bit for bit."""
    if not isinstance(mapping, (JITCallable, Kernel, str)) and callable(mapping):
        from ._kernel import jit_geometric_function
        mapping = jit_geometric_function(mapping)
    kernel, base = _kernel_and_parameters(mapping, "transform", "geometric_transform")
    values = kernel.parameter_values(_named_parameters(kernel, base, extra_arguments, extra_keywords, parameters))
    order = _order(order)
    input = _native(np.asarray(input), "input")
    shape = tuple(int(n) for n in (input.shape if output_shape is None else output_shape))
    if input.ndim < 1 or len(shape) < 1:
        raise RuntimeError("input and output rank must be > 0")
    mode_code = _mode_code(mode)
    engine_code = _engine(engine)
    output = _shaped_output(output, input, shape)
    result = _writable_native(output)
    params = (ctypes.c_double * max(len(values), 1))(*values)
    call = lambda error: _lib.lib.filterjit_geometric_transform(  # noqa: E731
        kernel.handle,
        input.ctypes.data, _DTYPE_CODES[input.dtype], input.ndim, _intp(input.shape), _intp(input.strides),
        result.ctypes.data, _DTYPE_CODES[result.dtype], result.ndim, _intp(result.shape), _intp(result.strides),
        order, mode_code, float(cval), 1 if prefilter else 0,
        params, len(values), engine_code, _threads(threads), error)
    return _run(call, kernel, output, result)


def map_coordinates(input: ArrayLike, coordinates: ArrayLike, output: np.ndarray | DTypeLike | None = None,
                    order: int = 3, mode: str = "constant", cval: float = 0.0, prefilter: bool = True,
                    threads: int | None = None) -> np.ndarray:
    """scipy.ndimage.map_coordinates run by FilterJIT's interpolating driver (threaded; the same bits)."""
    order = _order(order)
    input = _native(np.asarray(input), "input")
    coordinates = _native(np.asarray(coordinates), "coordinates")
    shape = coordinates.shape[1:]
    if input.ndim < 1 or len(shape) < 1:
        raise RuntimeError("input and output rank must be > 0")
    if coordinates.shape[0] != input.ndim:
        raise RuntimeError("invalid shape for coordinate array")
    mode_code = _mode_code(mode)
    output = _shaped_output(output, input, shape)
    result = _writable_native(output)
    error = ctypes.c_void_p()
    status = _lib.lib.filterjit_map_coordinates(
        input.ctypes.data, _DTYPE_CODES[input.dtype], input.ndim, _intp(input.shape), _intp(input.strides),
        coordinates.ctypes.data, _DTYPE_CODES[coordinates.dtype], coordinates.ndim, _intp(coordinates.shape),
        _intp(coordinates.strides),
        result.ctypes.data, _DTYPE_CODES[result.dtype], _intp(result.strides),
        order, mode_code, float(cval), 1 if prefilter else 0, _threads(threads), ctypes.byref(error))
    if status != _lib.OK:
        _raise(status, _lib.take_string(error))
    if result is not output:
        output[...] = result
    return output
