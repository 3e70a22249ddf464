"""Array functions (issue 15): `filterjit.jit`, a Numba-style dispatcher over NumPy arrays and scalars.

The function's own source is compiled per call signature (each array's dtype and rank, each scalar's
kind) on the first call with it, through libFilterJITC; module globals it reads that are numbers,
tuples or 1-D arrays are frozen at decoration, as Numba does. See docs/array-functions.md."""

from __future__ import annotations

import ctypes
import math
import weakref
from typing import Any, Callable, overload

import numpy as np

from . import _lib
from ._kernel import CompileError, frozen_globals, function_source

# Numba's @jit options accepted (and ignored: the code is always "nopython", releases the GIL and is cached),
# and `boundscheck` (True by default here; False drops the index checks, as in Numba).
_ACCEPTED_OPTIONS = ("nopython", "nogil", "cache", "fastmath", "error_model", "boundscheck")
_INT64 = (-(1 << 63), (1 << 63) - 1)
# FILTERJIT_* codes of the supported dtypes (native byte order), by dtype object: a dict lookup per argument.
_DTYPE_CODES = {np.dtype(name): code for code, name in enumerate(_lib.DTYPES)}
_SHAPE_POINTERS = ctypes.c_void_p


class Dispatcher:
    """A compiled array function: call it like the Python function. Compiles once per call signature
    (`signatures`), runs the machine code with the GIL released, pickles as its source."""

    def __init__(self, source: str, function: str | None = None, *, file_name: str | None = None,
                 line_offset: int = 0, py_func: Callable[..., Any] | None = None, boundscheck: bool = True):
        if not isinstance(source, str):
            raise TypeError(f"source must be a str, not {type(source).__name__}")
        self._source = source
        self._function = function
        self._file_name = file_name
        self._line_offset = line_offset
        self._boundscheck = bool(boundscheck)
        self.py_func = py_func
        self._handle = None
        status = ctypes.c_int()
        error = ctypes.c_void_p()
        handle = _lib.lib.filterjit_array_function_create(
            _lib.engine(), source.encode(), function.encode() if function else None,
            (file_name or "<function>").encode(), line_offset, 0 if self._boundscheck else 1,
            ctypes.byref(status), ctypes.byref(error))
        if not handle:
            message = _lib.take_string(error)
            raise CompileError(message) if status.value == _lib.ERROR_COMPILE else RuntimeError(message)
        self._handle = handle
        self.__name__ = _lib.lib.filterjit_array_function_name(handle).decode()
        if py_func is not None:
            self.__doc__ = py_func.__doc__
            self.__wrapped__ = py_func

    @property
    def signatures(self) -> list[str]:
        """The signatures compiled so far, as Numba prints them: `'(float64[:], uint8[:, :], int64)'`."""
        count = _lib.lib.filterjit_array_function_signature_count(self._handle)
        return [_lib.take_string(ctypes.c_void_p(_lib.lib.filterjit_array_function_signature(self._handle, i)))
                for i in range(count)]

    def inspect_ir(self, signature: str | None = None) -> Any:
        """The optimised LLVM IR of each compiled signature (a dict), or of one signature (a str)."""
        texts = {}
        for index, name in enumerate(self.signatures):
            texts[name] = _lib.take_string(ctypes.c_void_p(_lib.lib.filterjit_array_function_ir(self._handle, index)))
        if signature is not None:
            if signature not in texts:
                raise KeyError(f"{signature!r} is not compiled; compiled: {list(texts)}")
            return texts[signature]
        return texts

    def __call__(self, *args: Any) -> Any:
        return self._call(args, 0)

    def interpret(self, *args: Any) -> Any:
        """Runs the function on FilterJIT's reference interpreter (the oracle the machine code must equal)."""
        return self._call(args, 1)

    def _call(self, args: tuple[Any, ...], engine: int) -> Any:
        count = len(args)
        kinds = (ctypes.c_int * max(count, 1))()
        data = (ctypes.c_void_p * max(count, 1))()
        dtypes = (ctypes.c_int * max(count, 1))()
        ranks = (ctypes.c_int * max(count, 1))()
        shapes = (ctypes.c_void_p * max(count, 1))()
        strides = (ctypes.c_void_p * max(count, 1))()
        ints = (ctypes.c_int64 * max(count, 1))()
        floats = (ctypes.c_double * max(count, 1))()
        # Every array's shape then strides in one buffer, alive until the call returns.
        dims = [d for value in args if isinstance(value, np.ndarray) for d in value.shape + value.strides]
        buffer = (ctypes.c_ssize_t * max(len(dims), 1))(*dims)
        address = ctypes.addressof(buffer)
        for k, value in enumerate(args):
            if isinstance(value, np.ndarray):
                code = _DTYPE_CODES.get(value.dtype)
                if code is None:
                    raise TypeError(f"argument {k + 1} of {self.__name__}: arrays of dtype {value.dtype} are not supported "
                                    f"(supported: {', '.join(_lib.DTYPES)}, native byte order)")
                if not value.flags.writeable:
                    raise ValueError(f"argument {k + 1} of {self.__name__}: the array is read-only; array functions may "
                                     "write into their arguments, so pass a writable array (e.g. a copy)")
                rank = value.ndim
                kinds[k] = _lib.ARGUMENT_ARRAY
                data[k] = value.ctypes.data
                dtypes[k] = code
                ranks[k] = rank
                shapes[k] = address
                strides[k] = address + 8 * rank
                address += 16 * rank
            elif isinstance(value, (bool, np.bool_)):
                kinds[k] = _lib.ARGUMENT_BOOL
                ints[k] = 1 if value else 0
            elif isinstance(value, (int, np.integer)):
                if not _INT64[0] <= int(value) <= _INT64[1]:
                    raise OverflowError(f"argument {k + 1} of {self.__name__}: {value} does not fit an int64")
                kinds[k] = _lib.ARGUMENT_INT
                ints[k] = int(value)
            elif isinstance(value, (float, np.floating)):
                kinds[k] = _lib.ARGUMENT_FLOAT
                floats[k] = float(value)
            else:
                raise TypeError(f"argument {k + 1} of {self.__name__}: {type(value).__name__} is not supported "
                                "(NumPy arrays, ints, floats and bools are)")
        result = ctypes.c_void_p()
        error = ctypes.c_void_p()
        # ctypes releases the GIL around the call: other Python threads run while the function does.
        status = _lib.lib.filterjit_array_function_call(self._handle, count, kinds, data, dtypes, ranks, shapes, strides,
                                                        ints, floats, engine, ctypes.byref(result), ctypes.byref(error))
        del buffer
        if status != _lib.OK:
            message = _lib.take_string(error)
            if status == _lib.ERROR_COMPILE:
                raise CompileError(message)
            if status == _lib.ERROR_KERNEL and " is out of bounds for axis " in message:
                raise IndexError(message)
            if status == _lib.ERROR_KERNEL and ("negative dimensions are not allowed" in message
                                                 or "zero-size array to reduction" in message):
                raise ValueError(message)  # NumPy's exception for the same message
            if status == _lib.ERROR_SIZE:
                raise MemoryError(message)
            if status == _lib.ERROR_ARGUMENT:
                raise ValueError(message)
            raise RuntimeError(message)
        return _take_result(result.value or 0, args)

    def __reduce__(self):
        return (_rebuild, (self._source, self._function, self._file_name, self._line_offset, self._boundscheck))

    def __repr__(self) -> str:
        return f"<filterjit.Dispatcher {self.__name__} signatures={self.signatures}>"

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle and _lib is not None and _lib.lib is not None:
            _lib.lib.filterjit_array_function_free(handle)
            self._handle = None


def _take_result(handle: int, args: tuple[Any, ...]) -> Any:
    """The Python value of a result handle (freed here, or when a new array it holds is collected)."""
    lib = _lib.lib
    kind = lib.filterjit_result_kind(handle)
    if kind != _lib.RESULT_ARRAY:
        try:
            if kind == _lib.RESULT_INT:
                return int(lib.filterjit_result_int(handle))
            if kind == _lib.RESULT_FLOAT:
                return float(lib.filterjit_result_float(handle))
            if kind == _lib.RESULT_BOOL:
                return bool(lib.filterjit_result_int(handle))
            return None
        finally:
            lib.filterjit_result_free(handle)
    argument = lib.filterjit_result_argument(handle)
    if argument >= 0:
        lib.filterjit_result_free(handle)
        return args[argument]
    dtype = np.dtype(_lib.DTYPES[lib.filterjit_result_dtype(handle)])
    rank = lib.filterjit_result_rank(handle)
    shape_pointer = lib.filterjit_result_shape(handle)
    shape = tuple(shape_pointer[i] for i in range(rank))
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes == 0:
        lib.filterjit_result_free(handle)
        return np.zeros(shape, dtype)
    # No copy: the array views the result's memory, which is freed when the last view is collected.
    buffer = (ctypes.c_char * nbytes).from_address(lib.filterjit_result_data(handle))
    finalizer = weakref.finalize(buffer, lib.filterjit_result_free, handle)
    # Not at interpreter exit: arrays still referenced then (module globals, atexit code) must stay readable;
    # the process frees everything when it ends.
    finalizer.atexit = False
    return np.frombuffer(memoryview(buffer), dtype=dtype).reshape(shape)


def _rebuild(source, function, file_name, line_offset, boundscheck=True):
    return Dispatcher(source, function, file_name=file_name, line_offset=line_offset, boundscheck=boundscheck)


class _JitDecorator:
    """The type of `filterjit.jit`: bare (`@jit`) or with Numba's options (`@jit(nopython=True)`)."""

    @overload
    def __call__(self, func: Callable[..., Any], /) -> Dispatcher: ...
    @overload
    def __call__(self, func: None = None, /, **options: Any) -> Callable[[Callable[..., Any]], Dispatcher]: ...
    def __call__(self, func=None, /, **options):  # pragma: no cover - typing only
        raise NotImplementedError


def _jit(func: Callable[..., Any] | None = None, **options: Any) -> Any:
    for name in options:
        if name not in _ACCEPTED_OPTIONS:
            raise TypeError(f"filterjit.jit: option {name!r} is not supported (accepted and ignored: "
                            f"{', '.join(_ACCEPTED_OPTIONS)})")

    def build(f: Callable[..., Any]) -> Dispatcher:
        f = getattr(f, "py_func", f)  # a Numba dispatcher keeps the Python function in `py_func`
        source, file_name, line_offset, _indent = function_source(f, "array_function")
        source += frozen_globals(f)
        return Dispatcher(source, f.__name__, file_name=file_name, line_offset=line_offset, py_func=f,
                          boundscheck=options.get("boundscheck", True) is not False)

    if func is None:
        return build
    if not callable(func) or isinstance(func, (str, bytes)):
        raise TypeError("filterjit.jit decorates a function; a signature is not needed (it is compiled per call)")
    return build(func)


jit: _JitDecorator = _jit  # type: ignore[assignment]
jit.__doc__ = """Decorator (bare or with Numba's options): compiles the function as an array function, per call
signature, and returns a `Dispatcher` that takes NumPy arrays and scalars like the function does."""
array_function = jit
