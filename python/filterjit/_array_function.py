"""Array functions (issue 15): `filterjit.jit`, a Numba-style dispatcher over NumPy arrays and scalars.

The function's own source is compiled per call signature (each array's dtype and rank, each scalar's
kind) on the first call with it, through libFilterJITC; module globals it reads that are numbers,
tuples or 1-D arrays are frozen at decoration, as Numba does. See docs/array-functions.md."""

from __future__ import annotations

import ctypes
import math
import os
import struct
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

# The C call (filterjit/_fastcall.c, built by setup.py; docs/array-functions.md "Python's call"): Dispatcher's base
# type, whose tp_call runs the machine code of a known signature without ctypes or Python code. Without it (not
# built, as when running from the repository without building it, or FILTERJIT_NO_FASTCALL=1) every call takes the
# ctypes path below, which is also the C call's path for whatever it does not take itself.
_fastcall: Any
try:
    if os.environ.get("FILTERJIT_NO_FASTCALL", "") not in ("", "0"):
        raise ImportError("FILTERJIT_NO_FASTCALL is set")
    from . import _fastcall  # type: ignore[no-redef]
except Exception:  # not built, built for another Python or NumPy ABI, or turned off: the ctypes path
    _fastcall = None
_DispatcherBase: Any = _fastcall.DispatcherBase if _fastcall is not None else object


class Dispatcher(_DispatcherBase):
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
        if FAST_CALL:
            self._fast_bind(handle)
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
        # (With the C call, this method is removed from the class after its definition: the base type's C tp_call
        # runs instead, and calls this function for what it does not take itself.)
        return self._call(args, 0)

    def interpret(self, *args: Any) -> Any:
        """Runs the function on FilterJIT's reference interpreter (the oracle the machine code must equal)."""
        return self._call(args, 1)

    def _call(self, args: tuple[Any, ...], engine: int) -> Any:
        # Every argument in one buffer of int64 words (filterjit_array_function_call_packed): a call costs a few
        # microseconds of Python, not eight ctypes arrays and seven calls to read the result.
        words: list[int | float] = []
        floats: list[int] = []  # positions of float bits (packed as doubles)
        dtypes: list[np.dtype] = []  # the dtypes named by address in the words
        for k, value in enumerate(args):
            if type(value) is np.ndarray or isinstance(value, np.ndarray):
                dtype = value.dtype
                code = _DTYPE_CODES.get(dtype)
                if code is None:
                    raise TypeError(f"argument {k + 1} of {self.__name__}: arrays of dtype {value.dtype} are not supported "
                                    f"(supported: {', '.join(_lib.DTYPES)}, native byte order)")
                if _OBJECTS:
                    # The library reads rank, data, shape, strides and the writeable flag from the array object, and
                    # refuses it if its dtype is no longer `dtype` (kept alive in `dtypes` until the call returns).
                    words += (_ARGUMENT_OBJECT, code, id(value), id(dtype))
                    dtypes.append(dtype)
                    continue
                if not value.flags.writeable:
                    raise ValueError(f"argument {k + 1} of {self.__name__}: the array is read-only; array functions may "
                                     "write into their arguments, so pass a writable array (e.g. a copy)")
                data = _VOID_P_AT(id(value) + _DATA_OFFSET).value or 0 if _DATA_IN_HEADER else value.ctypes.data
                words += (_lib.ARGUMENT_ARRAY, code, value.ndim, data)
                words += value.shape
                words += value.strides
            elif isinstance(value, (bool, np.bool_)):
                words += (_lib.ARGUMENT_BOOL, 1 if value else 0)
            elif isinstance(value, (int, np.integer)):
                if not _INT64[0] <= int(value) <= _INT64[1]:
                    raise OverflowError(f"argument {k + 1} of {self.__name__}: {value} does not fit an int64")
                words += (_lib.ARGUMENT_INT, int(value))
            elif isinstance(value, (float, np.floating)):
                floats.append(len(words) + 1)
                words += (_lib.ARGUMENT_FLOAT, float(value))
            else:
                raise TypeError(f"argument {k + 1} of {self.__name__}: {type(value).__name__} is not supported "
                                "(NumPy arrays, ints, floats and bools are)")
        count = len(words)
        if floats:
            layout = ["q"] * count
            for position in floats:
                layout[position] = "d"
            packed = struct.pack("=" + "".join(layout), *words)
        else:
            packed = struct.pack(f"={count}q", *words)
        out = _OUT()
        # Other Python threads run while the function does: the objects call (a PyDLL function) releases the GIL
        # itself once it has read the arrays, and ctypes releases it around the packed call. The bytes object
        # `packed` stays alive (and unchanged) until the call returns.
        if _OBJECTS:
            status = _CALL_OBJECTS(self._handle, len(args), packed, count, engine, out)
        else:
            error = ctypes.c_void_p()
            status = _lib.lib.filterjit_array_function_call_packed(self._handle, len(args), packed, count, engine, out,
                                                                   ctypes.byref(error))
        if status != _lib.OK:
            _raise_failure(status, _lib.take_string(ctypes.c_void_p(out[7]) if _OBJECTS else error))
        return _take_result(out, args)

    def __reduce__(self):
        return (_rebuild, (self._source, self._function, self._file_name, self._line_offset, self._boundscheck))

    def __repr__(self) -> str:
        return f"<filterjit.Dispatcher {self.__name__} signatures={self.signatures}>"

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle and _lib is not None and _lib.lib is not None:
            _lib.lib.filterjit_array_function_free(handle)
            self._handle = None


def _raise_failure(status: int, message: str) -> None:
    """Raises the exception of a failed call (status FILTERJIT_ERROR_*, the library's message); the C call raises
    through it too."""
    if status == _lib.ERROR_COMPILE:
        raise CompileError(message)
    if status == _lib.ERROR_KERNEL and " is out of bounds for axis " in message:
        raise IndexError(message)
    if status == _lib.ERROR_KERNEL and ("negative dimensions are not allowed" in message
                                         or "zero-size array to reduction" in message
                                         or message.startswith("array is too big")):
        raise ValueError(message)  # NumPy's exception for the same message
    if status == _lib.ERROR_SIZE:
        raise MemoryError(message)
    if status == _lib.ERROR_ARGUMENT:
        raise ValueError(message)
    raise RuntimeError(message)


def _take_result(out: Any, args: tuple[Any, ...]) -> Any:
    """The Python value of a packed call's `out` words (filterjit_array_function_call_packed)."""
    kind = out[0]
    if kind == _lib.RESULT_INT:
        return out[1]
    if kind == _lib.RESULT_FLOAT:
        return _BITS_TO_FLOAT.unpack(_BITS.pack(out[1]))[0]
    if kind == _lib.RESULT_BOOL:
        return bool(out[1])
    if kind == _lib.RESULT_UINT64:
        return out[1] & 0xFFFFFFFFFFFFFFFF  # its bits as an int64: a Python int, as Numba returns it
    if kind != _lib.RESULT_ARRAY:
        return None
    if out[2] >= 0:
        return args[out[2]]
    owner = _Result(out[6])
    dtype = _DTYPES[out[3]]
    rank = out[4]
    shape = (out[8],) if rank == 1 else tuple(out[8:8 + rank])
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes == 0:
        return np.zeros(shape, dtype)  # `owner` frees the result now
    # No copy: the array views the result's memory, which `owner` frees when the last view is collected (not at
    # interpreter exit: arrays still referenced then must stay readable; the process frees everything then).
    buffer_type = _BUFFER_TYPES.get(nbytes)
    if buffer_type is None:
        if len(_BUFFER_TYPES) > 256:
            _BUFFER_TYPES.clear()
        buffer_type = _BUFFER_TYPES[nbytes] = ctypes.c_char * nbytes
    buffer = buffer_type.from_address(out[5])
    buffer.owner = owner
    array = np.frombuffer(buffer, dtype)  # (positional: the keyword costs NumPy half a microsecond)
    return array if rank == 1 else array.reshape(shape)


class _Result:
    """Owns a filterjit_result (a new array's memory) and frees it when collected."""

    __slots__ = ("handle",)

    def __init__(self, handle: int):
        self.handle = handle

    def __del__(self):
        if _lib is not None and _lib.lib is not None and self.handle:
            _lib.lib.filterjit_result_free(self.handle)
            self.handle = 0


def _data_address_fallback(array: np.ndarray) -> int:
    return array.ctypes.data


def _struct_data_address(array: np.ndarray) -> int:
    # NumPy's PyArrayObject starts with PyObject_HEAD and then `char *data` (numpy/ndarraytypes.h,
    # PyArrayObject_fields): reading it costs a tenth of `array.ctypes.data`. Checked once below.
    return ctypes.c_void_p.from_address(id(array) + _DATA_OFFSET).value or 0


_DATA_OFFSET = object.__basicsize__  # sizeof(PyObject): where PyObject_HEAD ends


def _choose_data_address() -> Callable[[np.ndarray], int]:
    try:
        probes = [np.arange(7.0), np.arange(12, dtype=np.uint8).reshape(3, 4)[::-1, 1::2], np.zeros(0)]
        if all(_struct_data_address(p) == p.ctypes.data for p in probes):
            return _struct_data_address
    except Exception:  # pragma: no cover - another layout: the slower documented way
        pass
    return _data_address_fallback  # pragma: no cover


_data_address = _choose_data_address()
# Whether `_call` may read the data pointer from the header itself (inlined: a function call per array costs).
_DATA_IN_HEADER = _data_address is _struct_data_address
_VOID_P_AT = ctypes.c_void_p.from_address
_ARGUMENT_OBJECT = 4  # filterjit_array_function_call_objects: (4, dtype code, id(array), id(array.dtype))
_NPY_ARRAY_WRITEABLE = 0x0400


def _object_layout_holds() -> bool:
    """Whether NumPy's PyArrayObject_fields are where filterjit_array_function_call_objects will read them (after
    PyObject_HEAD: char *data, int nd, npy_intp *dimensions, npy_intp *strides, PyObject *base, PyArray_Descr *descr,
    int flags), checked on probe arrays; then tells the library the offsets."""
    if not _DATA_IN_HEADER:
        return False  # pragma: no cover - another layout
    pointer = ctypes.sizeof(ctypes.c_void_p)
    nd, dims, strides = _DATA_OFFSET + pointer, _DATA_OFFSET + 2 * pointer, _DATA_OFFSET + 3 * pointer
    descr, flags = _DATA_OFFSET + 5 * pointer, _DATA_OFFSET + 6 * pointer
    try:
        read_only = np.arange(6.0)
        read_only.flags.writeable = False
        probes = [np.arange(7.0), np.arange(12, dtype=np.uint8).reshape(3, 4)[::-1, 1::2], np.zeros(0), np.zeros(()),
                  np.zeros((2, 3, 4), np.int16, order="F"), read_only]
        for probe in probes:
            address = id(probe)
            rank = ctypes.c_int.from_address(address + nd).value
            if rank != probe.ndim or _VOID_P_AT(address + _DATA_OFFSET).value != (probe.ctypes.data or None):
                return False
            if rank:
                shape_address, strides_address = _VOID_P_AT(address + dims).value, _VOID_P_AT(address + strides).value
                if not shape_address or not strides_address:
                    return False
                shape = (ctypes.c_ssize_t * rank).from_address(shape_address)
                steps = (ctypes.c_ssize_t * rank).from_address(strides_address)
                if tuple(shape) != probe.shape or tuple(steps) != probe.strides:
                    return False
            if _VOID_P_AT(address + descr).value != id(probe.dtype):
                return False
            writeable = bool(ctypes.c_int.from_address(address + flags).value & _NPY_ARRAY_WRITEABLE)
            if writeable != probe.flags.writeable:
                return False
    except Exception:  # pragma: no cover - another layout: the packed words
        return False
    # The call reads the objects with the GIL held (a PyDLL function), then releases it around the run itself.
    save = ctypes.cast(ctypes.pythonapi.PyEval_SaveThread, ctypes.c_void_p).value
    restore = ctypes.cast(ctypes.pythonapi.PyEval_RestoreThread, ctypes.c_void_p).value
    _lib.lib.filterjit_set_array_object_layout(_DATA_OFFSET, nd, dims, strides, descr, flags, _NPY_ARRAY_WRITEABLE, save,
                                               restore)
    return True


def _objects_call() -> Any:
    """filterjit_array_function_call_objects through ctypes.PyDLL: called with the GIL held (no other thread can
    reshape an argument while the library reads it); the library releases the GIL around the run."""
    function = ctypes.PyDLL(str(_lib.library_path)).filterjit_array_function_call_objects
    function.restype = ctypes.c_int
    function.argtypes = [ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_char_p, ctypes.c_ssize_t, ctypes.c_int,
                         ctypes.POINTER(ctypes.c_int64)]
    return function
_OUT = ctypes.c_int64 * 40
# ctypes buffer types by byte count (making one costs more than the rest of a small result).
_BUFFER_TYPES: dict[int, Any] = {}
_BITS = struct.Struct("=q")
_BITS_TO_FLOAT = struct.Struct("=d")
_DTYPES = [np.dtype(name) for name in _lib.DTYPES]
# Whether calls name arrays by their objects (filterjit_array_function_call_objects): a third of the packing.
_OBJECTS = _object_layout_holds()
_CALL_OBJECTS: Any = _objects_call() if _OBJECTS else None




def _setup_fast_call() -> bool:
    """Gives the C call the library's functions and the Python path; then Dispatcher calls run it (its tp_call)."""
    if _fastcall is None:
        return False
    try:
        names = ("filterjit_array_function_kernel", "filterjit_array_kernel_free", "filterjit_array_kernel_error",
                 "filterjit_array_arena_release", "filterjit_array_arena_detach", "filterjit_string_free")
        addresses = [ctypes.cast(getattr(_lib.lib, name), ctypes.c_void_p).value for name in names]
    except AttributeError:  # pragma: no cover - an older library without these functions: the ctypes path
        return False
    try:
        _fastcall.setup(*addresses, _PYTHON_CALL, _raise_failure)
    except Exception:  # pragma: no cover - a stale in-place extension from another version: the ctypes path
        return False
    return True


_PYTHON_CALL = Dispatcher.__call__
# Whether Dispatcher calls take the C call (filterjit/_fastcall.c); False: the ctypes path alone.
FAST_CALL = _setup_fast_call()
if FAST_CALL:
    delattr(Dispatcher, "__call__")  # the base type's C tp_call takes over (it calls _PYTHON_CALL when it must)
    _fastcall.enable_vectorcall(Dispatcher)  # and its vectorcall (no argument tuple per call)


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
