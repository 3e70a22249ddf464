"""Kernels (compiled filter programs) and the scipy.LowLevelCallable objects built on them."""

from __future__ import annotations

import ast
import ctypes
import inspect
import os
import re
import textwrap
import types as _types
from typing import Any, Callable, NamedTuple, Union, overload

from scipy import LowLevelCallable

from . import _lib


class CompileError(ValueError):
    """A filter program that does not compile; `diagnostics` is the clang-style text
    (`file:line:col: error: message`, the source line, a caret), also the exception's message."""

    def __init__(self, diagnostics: str):
        super().__init__(diagnostics)
        self.diagnostics = diagnostics


class Parameter(NamedTuple):
    """A run-time parameter of a kernel: its name, type (`'float'` or `'int'`), default, and whether
    it was declared without one (`required`: every call must give its value)."""
    name: str
    type: str
    default: float
    required: bool = False


# The SciPy callback ABIs as ctypes types; SciPy reads the signature string from these
# (c_ssize_t shows up as `long`, one of the spellings it accepts).
_FILTER_ABI = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_double), ctypes.c_ssize_t,
                               ctypes.POINTER(ctypes.c_double), ctypes.c_void_p)
_LINE_FILTER_ABI = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_double), ctypes.c_ssize_t,
                                    ctypes.POINTER(ctypes.c_double), ctypes.c_ssize_t, ctypes.c_void_p)
_TRANSFORM_ABI = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_ssize_t), ctypes.POINTER(ctypes.c_double),
                                  ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
_ABIS = {"filter": _FILTER_ABI, "line_filter": _LINE_FILTER_ABI, "transform": _TRANSFORM_ABI}
# Which function takes which kind (for error messages).
_USE = {
    "filter": ("jit_filter", "jit_filter_function", "generic_filter"),
    "line_filter": ("jit_filter1d", "jit_filter1d_function", "generic_filter1d"),
    "transform": ("jit_transform", "jit_geometric_function", "geometric_transform"),
}


class Kernel:
    """A compiled filter program. Its machine code lives as long as this object (and every
    callable built on it). Pickles as its source text and recompiles when unpickled."""

    def __init__(self, source: str, function: str | None = None, *, file_name: str | None = None,
                 line_offset: int = 0, indent: str = "", kind: str = "filter"):
        """`kind` is what an undecorated kernel def is ("filter", "line_filter" or "transform"): the
        functions SciPy's generic_filter1d and geometric_transform take are plain defs. A decorator or
        the one-line form decides by itself."""
        if not isinstance(source, str):
            raise TypeError(f"source must be a str, not {type(source).__name__}")
        self.source = source
        self.function = function
        self.file_name = file_name
        self.line_offset = int(line_offset)
        self.indent = indent
        self._handle = None
        status = ctypes.c_int(0)
        error = ctypes.c_void_p()
        if kind not in _lib.KINDS:
            raise ValueError(f"kind must be one of {', '.join(_lib.KINDS)}, not {kind!r}")
        handle = _lib.lib.filterjit_compile_as(
            _lib.engine(), source.encode("utf-8"), function.encode("utf-8") if function is not None else None,
            (file_name if file_name is not None else "<expr>").encode("utf-8"), self.line_offset,
            _lib.KINDS.index(kind), ctypes.byref(status), ctypes.byref(error))
        if not handle:
            text = _lib.take_string(error)
            if status.value == _lib.ERROR_COMPILE:
                raise CompileError(_reindent_diagnostics(text, indent))
            raise RuntimeError(text or "compilation failed")
        self._handle = handle
        lib = _lib.lib
        self.kind = _lib.KINDS[lib.filterjit_kernel_kind(handle)]
        self.name = lib.filterjit_kernel_name(handle).decode("utf-8")
        self._address: int | None = None
        self.parameters = tuple(
            Parameter(lib.filterjit_kernel_parameter_name(handle, i).decode("utf-8"),
                      "int" if lib.filterjit_kernel_parameter_type(handle, i) == 1 else "float",
                      lib.filterjit_kernel_parameter_default(handle, i),
                      lib.filterjit_kernel_parameter_required(handle, i) == 1)
            for i in range(lib.filterjit_kernel_parameter_count(handle)))

    @property
    def address(self) -> int:
        """The address of the SciPy-ABI function. Its machine code is compiled on first use: the fused
        engine (``filterjit.generic_filter`` and ``filterjit.ndimage``) never needs it."""
        if self._address is None:
            address = _lib.lib.filterjit_kernel_address(self.handle)
            if not address:
                raise RuntimeError(f"LLVM could not compile kernel {self.name!r}")
            self._address = address
        return self._address

    @property
    def loaded_from_disk_cache(self) -> bool:
        """Whether the SciPy-ABI function's machine code came from the on-disk cache (another process
        compiled it); reading this compiles or loads that code."""
        _ = self.address
        return bool(_lib.lib.filterjit_kernel_loaded_from_disk_cache(self.handle))

    @property
    def handle(self) -> int:
        """The C API's kernel handle (valid while this object lives)."""
        assert self._handle is not None  # set by __init__ or it raised
        return self._handle

    def missing_parameters(self, overrides: dict[str, float]) -> list[str]:
        """The parameters declared without a default that `overrides` gives no value."""
        return [p.name for p in self.parameters if p.required and p.name not in overrides]

    def parameter_values(self, overrides: dict[str, float]) -> list[float]:
        """The user_data values in declaration order: the defaults, overridden by name. A parameter
        declared without a default must be given (TypeError naming it otherwise)."""
        names = [p.name for p in self.parameters]
        unknown = [name for name in overrides if name not in names]
        if unknown:
            known = ", ".join(names) if names else "none"
            raise TypeError(f"kernel '{self.name}' has no parameter '{unknown[0]}' (its parameters: {known})")
        missing = self.missing_parameters(overrides)
        if missing:
            raise TypeError(f"kernel '{self.name}' needs a value for parameter '{missing[0]}' (it has no default; "
                            f"pass it as a keyword, or in extra_arguments/extra_keywords)")
        values = []
        for p in self.parameters:
            value = overrides.get(p.name, p.default)
            try:
                values.append(float(value))
            except (TypeError, ValueError):
                raise TypeError(f"parameter '{p.name}' of kernel '{self.name}' must be a number, "
                                f"not {type(value).__name__}") from None
        return values

    def check_kind(self, kind: str, caller: str) -> None:
        """Raises ValueError naming the right function when this kernel is not of `kind`."""
        if self.kind != kind:
            right = " or ".join(f"filterjit.{name}" for name in _USE[self.kind][:1]) + \
                f" / scipy.ndimage.{_USE[self.kind][2]}"
            raise ValueError(f"{caller}: '{self.name}' is a @{self.kind} kernel, not a @{kind}; "
                             f"use {right}")

    def __reduce__(self):
        return (_rebuild_kernel, (self.source, self.function, self.file_name, self.line_offset, self.kind,
                                  self.indent))

    def __repr__(self):
        params = ", ".join(f"{p.name}={p.default:g}" for p in self.parameters)
        return f"<filterjit.Kernel {self.kind} {self.name}({params})>"

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        # During interpreter shutdown the module globals may already be gone.
        if handle and _lib is not None and getattr(_lib, "lib", None) is not None:
            _lib.lib.filterjit_kernel_free(handle)


def _reindent_diagnostics(text: str, indent: str) -> str:
    """Diagnostics of dedented text, moved back to the columns of the original file: each
    `file:line:col:` header gets the indent's width added, its source and caret lines the indent."""
    if not indent:
        return text
    lines = text.split("\n")
    header = re.compile(r"^(.*):(\d+):(\d+): (error|warning|note): ")
    for i, line in enumerate(lines):
        match = header.match(line)
        if match and i + 2 < len(lines):
            column = int(match.group(3)) + len(indent)
            lines[i] = f"{match.group(1)}:{match.group(2)}:{column}: " + line[match.end(3) + 2:]
            lines[i + 1] = indent + lines[i + 1]
            lines[i + 2] = indent + lines[i + 2]
    return "\n".join(lines)


def _rebuild_kernel(source, function, file_name, line_offset, kind, indent=""):
    kernel = Kernel(source, function, file_name=file_name, line_offset=line_offset, indent=indent, kind=kind)
    kernel.check_kind(kind, "unpickling")
    return kernel


class JITCallable(LowLevelCallable):
    """A scipy.LowLevelCallable running a FilterJIT kernel. `user_data` points to a ctypes double
    array of the kernel's parameters (kept alive by this object, as is the kernel)."""

    def __new__(cls, kernel: Kernel, parameters: dict[str, float] | None = None,
                py_func: Callable[..., Any] | None = None) -> "JITCallable":
        given = dict(parameters or {})
        if kernel.missing_parameters(given):
            # A parameter without a default has no value yet: filterjit's drivers take it at call time
            # (keywords, extra_arguments); SciPy calling this callable gets the kernel's error instead.
            kernel.parameter_values({**{p.name: 0.0 for p in kernel.parameters if p.required}, **given})
            values, pointer = [], None
            named = given
        else:
            values = kernel.parameter_values(given)
            named = {p.name: v for p, v in zip(kernel.parameters, values)}
        array = (ctypes.c_double * max(len(values), 1))(*values)
        function = _ABIS[kernel.kind](kernel.address)
        if values:
            pointer = ctypes.cast(array, ctypes.c_void_p)
        elif not kernel.missing_parameters(given):
            pointer = None
        self = super().__new__(cls, function, pointer)
        self.kernel = kernel
        self.parameter_array = array
        self.parameters = named
        self.py_func = py_func
        return self

    def with_parameters(self, **parameters: float) -> "JITCallable":
        """The same kernel with some parameters changed (the others keep this callable's values)."""
        return JITCallable(self.kernel, {**self.parameters, **parameters}, self.py_func)

    def __reduce__(self):
        # The Python function (if any) is not pickled: it may not be importable in a worker.
        return (JITCallable, (self.kernel, self.parameters))

    def __repr__(self):
        params = ", ".join(f"{k}={v:g}" for k, v in self.parameters.items())
        return f"<filterjit.JITCallable {self.kernel.kind} {self.kernel.name}({params})>"


# What the jit_* functions compile: filter text, a compiled Kernel, or a path to a .filter file.
Source = Union[str, "Kernel", "os.PathLike[str]"]


def _source_kernel(source: Source, function: str | None, kind: str, caller: str) -> Kernel:
    if isinstance(source, Kernel):
        kernel = source
    elif isinstance(source, os.PathLike):
        path = os.fspath(source)
        with open(path, encoding="utf-8") as file:
            kernel = Kernel(file.read(), function, file_name=path, kind=kind)
    else:
        kernel = Kernel(source, function, kind=kind)
    kernel.check_kind(kind, caller)
    return kernel


def jit_filter(source: Source, function: str | None = None, **parameters: float) -> JITCallable:
    """A LowLevelCallable for scipy.ndimage.generic_filter from filter text (or a Kernel or a
    path); `function` picks the kernel (default: the last `def`); keywords set its parameters."""
    return JITCallable(_source_kernel(source, function, "filter", "jit_filter"), parameters)


def jit_filter1d(source: Source, function: str | None = None, **parameters: float) -> JITCallable:
    """A LowLevelCallable for scipy.ndimage.generic_filter1d from `@line_filter` text."""
    return JITCallable(_source_kernel(source, function, "line_filter", "jit_filter1d"), parameters)


def jit_transform(source: Source, function: str | None = None, **parameters: float) -> JITCallable:
    """A LowLevelCallable for scipy.ndimage.geometric_transform from `@transform` text."""
    return JITCallable(_source_kernel(source, function, "transform", "jit_transform"), parameters)


def function_source(func: Callable[..., Any], kind: str) -> tuple[str, str, int, str]:
    """The decorated function's own source as filter text, its file name, line offset and the
    indentation removed by dedenting.

    The text is dedented; decorator lines become blank lines except the last, which becomes the kind's
    decorator, so line numbers in diagnostics are those of the `.py` file."""
    try:
        lines, first_line = inspect.getsourcelines(func)
        file_name = inspect.getsourcefile(func) or func.__code__.co_filename
    except (OSError, TypeError) as error:
        raise ValueError(f"cannot read the source of {getattr(func, '__name__', func)!r} ({error}); "
                         "pass the text to filterjit.jit_filter instead") from None
    original = "".join(lines)
    text = textwrap.dedent(original)
    first = next((line for line in lines if line.strip()), "")
    indent = first[:len(first) - len(first.lstrip())] if not text.startswith(first) else ""
    try:
        node = ast.parse(text).body[0]
    except (SyntaxError, IndexError):
        node = None
    text_lines = text.splitlines()
    def_line = node.lineno if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else 1
    decorator = "@" + kind
    line_offset = max(first_line - 1, 0)
    cfunc = _cfunc_decorator(node)
    if cfunc is not None:
        # Numba's raw SciPy callback form (issue 15): the @cfunc(signature) line(s) stay, since the signature
        # decides the kernel kind; the other decorator lines become blank lines.
        kept = range(cfunc.lineno - 1, cfunc.end_lineno or cfunc.lineno)
        for index in range(def_line - 1):
            if index not in kept:
                text_lines[index] = ""
        return "\n".join(text_lines) + "\n" + _numba_imports(node, func), file_name, line_offset, indent
    if def_line > 1:
        text_lines[:def_line - 1] = [""] * (def_line - 2) + [decorator]
    else:
        text_lines.insert(0, decorator)
        line_offset -= 1
    return "\n".join(text_lines) + "\n", file_name, max(line_offset, 0), indent


_NUMBA_FUNCTIONS = ("cfunc", "carray")
_NUMBA_TYPES = ("intc", "intp", "int32", "int64", "float64", "double", "voidptr", "CPointer")


def _cfunc_decorator(node: Any) -> Any:
    """The `@cfunc(signature)` / `@numba.cfunc(...)` decorator of a def, or None."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    for decorator in node.decorator_list:
        callee = decorator.func if isinstance(decorator, ast.Call) else None
        name = callee.id if isinstance(callee, ast.Name) else callee.attr if isinstance(callee, ast.Attribute) else None
        if name == "cfunc":
            return decorator
    return None


def _numba_imports(node: Any, func: Callable[..., Any]) -> str:
    """Import lines for the Numba names a raw `@cfunc` callback uses (its module's imports are not part of
    the function's source). Appended after the function, so line numbers stay the file's. Numba itself is
    never imported: the filter language reads these lines."""
    namespace = getattr(func, "__globals__", {})
    parameters = {argument.arg for argument in node.args.args}
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - parameters
    lines = []
    for name in sorted(used):
        value = namespace.get(name)
        module_name = getattr(value, "__name__", "") if isinstance(value, _types.ModuleType) else ""
        if module_name.startswith("numba"):
            lines.append(f"import {module_name} as {name}")
        elif name in ("numba", "types") and value is None:
            lines.append("import numba" if name == "numba" else "from numba import types")
        elif name in _NUMBA_FUNCTIONS:
            lines.append(f"from numba import {name}")
        elif name in _NUMBA_TYPES:
            lines.append(f"from numba.types import {name}")
    return "".join(line + "\n" for line in lines)


def _constant_text(value: Any) -> str | None:
    """Filter text for a module global the language can take as a constant (a number, a tuple or
    list of numbers, a 1-D int or float NumPy array), else None."""
    import numpy as np

    def number(x: Any) -> str | None:
        if isinstance(x, (bool, np.bool_)):
            return "True" if x else "False"
        if isinstance(x, (int, np.integer)):
            return repr(int(x))
        if isinstance(x, (float, np.floating)):
            x = float(x)
            if x != x:
                return "float('nan')"
            if x in (float("inf"), float("-inf")):
                return "float('inf')" if x > 0 else "float('-inf')"
            return repr(x)
        return None

    if isinstance(value, np.ndarray):
        if value.ndim != 1 or value.dtype.kind not in "iuf" or value.size > 65536:
            return None
        texts = [number(x) for x in value.tolist()]
        items = [text for text in texts if text is not None]
        if len(items) != len(texts):
            return None
        dtype = "float" if value.dtype.kind == "f" else "int"
        return f"np.array([{', '.join(items)}], dtype={dtype})"
    if isinstance(value, (tuple, list)):
        if len(value) > 65536:
            return None
        texts = [number(x) for x in value]
        items = [text for text in texts if text is not None]
        if len(items) != len(texts):
            return None
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return number(value)


def frozen_globals(func: Callable[..., Any]) -> str:
    """Issue 13: the module globals `func` reads that are constants (numbers, tuples, lists, 1-D NumPy
    arrays), as `NAME = value` lines, frozen at decoration as Numba does. Appended after the function
    (the language reads module constants wherever they are written), so line numbers stay the file's."""
    code = getattr(func, "__code__", None)
    namespace = getattr(func, "__globals__", {})
    if code is None:
        return ""
    lines = []
    for name in dict.fromkeys(code.co_names):
        if name not in namespace or name == getattr(func, "__name__", None):
            continue
        text = _constant_text(namespace[name])
        if text is not None:
            lines.append(f"{name} = {text}")
    return "".join(line + "\n" for line in lines)


class _Decorator:
    """The type of jit_filter_function and friends: bare (`@d`) or with parameter values (`@d(t=0.7)`)."""

    @overload
    def __call__(self, func: Callable[..., Any], /) -> JITCallable: ...
    @overload
    def __call__(self, func: None = None, /, **parameters: float) -> Callable[[Callable[..., Any]], JITCallable]: ...
    def __call__(self, func=None, /, **parameters):  # pragma: no cover - typing only
        raise NotImplementedError


def _decorator(kind: str) -> _Decorator:
    def decorate(func: Callable[..., Any] | None = None, **parameters: float) -> Any:
        def build(f: Callable[..., Any]) -> JITCallable:
            # A Numba `CFunc` (from @numba.cfunc) keeps the Python function it compiled in `_pyfunc`.
            f = getattr(f, "_pyfunc", f)
            source, file_name, line_offset, indent = function_source(f, kind)
            source += frozen_globals(f)
            kernel = Kernel(source, f.__name__, file_name=file_name, line_offset=line_offset, indent=indent)
            kernel.check_kind(kind, _USE[kind][1])
            return JITCallable(kernel, parameters, py_func=f)
        if func is None:
            return build        # used as @decorator(param=value)
        if not callable(func):
            raise TypeError(f"{_USE[kind][1]} decorates a function; pass parameters as keywords")
        return build(func)      # used bare: @decorator
    decorate.__name__ = _USE[kind][1]
    return decorate  # type: ignore[return-value]  # a function with _Decorator's call signatures


jit_filter_function = _decorator("filter")
jit_filter_function.__doc__ = """Decorator (bare or with parameter values): compiles the function's own
source as a `@filter` kernel and returns a LowLevelCallable for scipy.ndimage.generic_filter."""
jit_filter1d_function = _decorator("line_filter")
jit_filter1d_function.__doc__ = """Decorator: compiles the function as a `@line_filter` kernel
(a LowLevelCallable for scipy.ndimage.generic_filter1d)."""
jit_geometric_function = _decorator("transform")
jit_geometric_function.__doc__ = """Decorator: compiles the function as a `@transform` kernel
(a LowLevelCallable for scipy.ndimage.geometric_transform)."""
