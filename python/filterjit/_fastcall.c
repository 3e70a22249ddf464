/* filterjit._fastcall: the C call of array functions (issue 15, docs/array-functions.md "Python's call").
 *
 * `DispatcherBase` is the base type of filterjit.Dispatcher; its tp_call is the whole path from `addarr(x, y)` to
 * the machine code and back to the returned object, without ctypes or Python code:
 *   1. each argument is read once (a NumPy array's dtype, rank, data, shape and strides straight from the object, an
 *      int, a float or a bool), and laid out as the machine code reads it (int64 words on the C stack);
 *   2. the compiled code of those argument types is found in a small per-dispatcher table (kinds, dtypes and ranks
 *      as 16-bit keys, compared inline);
 *   3. the code runs with the GIL released (`int f(void **arguments, void *result, void *arena)`);
 *   4. the result becomes a Python object: a number, None, the argument array itself, or a new ndarray over the
 *      memory the function made (no copy; a `ResultMemory` base object frees it when the array is collected).
 * Anything else goes through the Python path (`Dispatcher._call`, the ctypes call of libFilterJITC), which raises
 * today's exceptions with today's messages: an argument type or dtype it does not take, a read-only array, an
 * int beyond int64, more than 16 arguments or 32 axes, keyword arguments, a layout whose sizes overflow, and the
 * first call with new argument types (that call compiles the code; the table is filled after it returns).
 * `plan_run` is the second entry: a prepared generic_filter call (filterjit._ndimage) with its arrays' addresses read
 * here instead of through ctypes; `nan_check` a third, filterjit.ndimage's NaN / -0.0 check of an array,
 * `call_key` a fourth, the key of its replayed calls, and `filter_call` / `filter1d_call` the unprepared
 * generic_filter / generic_filter1d calls whose other arguments filterjit._ndimage's call templates hold.
 * Nothing here links against libFilterJITC: `setup`, `set_plan_run`, `set_filter_calls` and `set_nan_check` receive
 * the addresses of its functions once (ctypes reads them), so the module works with whichever library filterjit._lib
 * loaded. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/arrayscalars.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGUMENTS 16  /* more go through the Python path */
#define MAX_RANK 32       /* the library's limit */
#define MAX_SIGNATURES 64 /* per dispatcher; calls with further argument types go through the Python path */
#define MAX_WORDS (MAX_ARGUMENTS * (1 + 2 * MAX_RANK))
#define TYPE_TABLE_SIZE 32 /* NumPy's legacy type numbers (bool ... half are below 24, in NumPy 1 and 2) */

/* Codes of filterjit.h. */
enum { ARGUMENT_ARRAY = 0, ARGUMENT_INT = 1, ARGUMENT_FLOAT = 2, ARGUMENT_BOOL = 3 };
enum { RESULT_NONE = 0, RESULT_INT = 1, RESULT_FLOAT = 2, RESULT_BOOL = 3, RESULT_ARRAY = 4, RESULT_UINT64 = 5 };
enum { STATUS_KERNEL = 2, STATUS_INTERNAL = 5 };
enum { DTYPE_COUNT = 11 }; /* FILTERJIT_BOOL ... FILTERJIT_FLOAT64 */

typedef int (*entry_function)(void **arguments, void *result, void *arena);
typedef void *(*kernel_function)(void *function, intptr_t count, const int *kinds, const int *dtypes, const int *ranks,
                                 int64_t *info, int *status, char **error);
typedef void (*kernel_free_function)(void *kernel);
typedef char *(*kernel_error_function)(const void *kernel, int reason);
typedef void (*arena_release_function)(void *arena);
typedef void *(*arena_detach_function)(void *arena, void *descriptor);
typedef void (*string_free_function)(char *text);

/* The library's functions and the Python helpers, given once by `setup`. */
static struct {
    kernel_function kernel;
    kernel_free_function kernel_free;
    kernel_error_function kernel_error;
    arena_release_function arena_release;
    arena_detach_function arena_detach;
    string_free_function string_free;
    PyObject *python_call;   /* Dispatcher.__call__ of the Python path: python_call(self, *args, **kwargs) */
    PyObject *raise_failure; /* _raise_failure(status, message): raises what the Python path raises */
    int ready;
} api;

/* Calls through each path (read by the tests: the installed package must take this one). */
static unsigned long long fast_calls, python_calls;

/* FILTERJIT_* dtype code by NumPy type number (-1: not an array function's dtype), and back. */
static int dtype_code_of_type[TYPE_TABLE_SIZE];
static int type_of_dtype_code[DTYPE_COUNT];
/* NumPy's dtype object of each code (made once; a result array takes a new reference). */
static PyArray_Descr *descr_of_dtype_code[DTYPE_COUNT];

/* Whether two keys of `count` arguments are equal (inline: a libc memcmp call costs more for a few bytes). */
static inline int same_key(const uint16_t *a, const uint16_t *b, Py_ssize_t count) {
    for (Py_ssize_t k = 0; k < count; k++) {
        if (a[k] != b[k]) return 0;
    }
    return 1;
}

/* One compiled signature: the argument keys and what the code returns. Never moved or freed while its dispatcher
 * lives (calls copy what they need before releasing the GIL). */
typedef struct {
    Py_ssize_t count;
    uint16_t key[MAX_ARGUMENTS];
    entry_function entry;
    void *kernel; /* filterjit_array_kernel: keeps the code alive; released with the dispatcher */
    int result_kind, result_dtype, result_rank;
} Signature;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall; /* dispatcher_vectorcall (tp_vectorcall_offset points here) */
    void *function;          /* filterjit_array_function (owned by the Python object; NULL: not bound) */
    Signature *signatures;   /* MAX_SIGNATURES slots, allocated on the first fill */
    int signature_count;
    int last;                /* the slot of the last call */
} DispatcherBase;

/* The memory of a new array the function returned: the malloc'd block of the call's arena (descriptor, then the
 * elements), freed when the last array viewing it is collected. */
typedef struct {
    PyObject_HEAD
    void *block;
} ResultMemory;

static void result_memory_dealloc(PyObject *self) {
    free(((ResultMemory *)self)->block);
    Py_TYPE(self)->tp_free(self);
}

static PyTypeObject ResultMemoryType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "filterjit._fastcall.ResultMemory",
    .tp_doc = "The memory of an array an array function returned (freed with the last array viewing it).",
    .tp_basicsize = sizeof(ResultMemory),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = result_memory_dealloc,
};

/* A key per argument: an array's 0x8000 | dtype << 6 | rank, or a scalar's kind. */
static inline uint16_t array_key(int code, int rank) { return (uint16_t)(0x8000 | code << 6 | rank); }

/* Whether the object's type was made by a class statement (its conversions may run Python code). */
static inline int heap_type(PyObject *value) { return (Py_TYPE(value)->tp_flags & Py_TPFLAGS_HEAPTYPE) != 0; }

/* Whether the library would take this array's sizes (NDArray.checkedElementCount and byteSpan, which refuse
 * with a message the Python path gives): no negative extent, element count, bytes and byte span without overflow.
 * Sets *empty when the array has no element. */
static int layout_holds(int rank, const npy_intp *shape, const npy_intp *strides, int64_t item_size, int *empty) {
    int64_t count = 1;
    for (int axis = 0; axis < rank; axis++) {
        if (shape[axis] < 0 || __builtin_mul_overflow(count, (int64_t)shape[axis], &count)) return 0;
    }
    int64_t bytes;
    if (__builtin_mul_overflow(count, item_size, &bytes) || bytes > INT64_MAX / 2) return 0;
    *empty = count == 0;
    if (count == 0) return 1;
    int64_t low = 0, high = 0;
    for (int axis = 0; axis < rank; axis++) {
        int64_t extent;
        if (__builtin_mul_overflow((int64_t)shape[axis] - 1, (int64_t)strides[axis], &extent)) return 0;
        if (extent < 0 ? __builtin_add_overflow(low, extent, &low) : __builtin_add_overflow(high, extent, &high)) return 0;
    }
    int64_t span;
    return !__builtin_sub_overflow(high, low, &span) && !__builtin_add_overflow(span, item_size, &span);
}

/* The Python path: python_call(self, *items, **keywords), `kwnames` as in vectorcall. */
static PyObject *python_path(PyObject *self, PyObject *const *items, Py_ssize_t count, PyObject *kwnames) {
    python_calls++;
    Py_ssize_t keywords = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject **stack = PyMem_Malloc((size_t)(count + keywords + 1) * sizeof(PyObject *));
    if (!stack) return PyErr_NoMemory();
    stack[0] = self;
    memcpy(stack + 1, items, (size_t)(count + keywords) * sizeof(PyObject *));
    PyObject *result = PyObject_Vectorcall(api.python_call, stack, (size_t)(count + 1), kwnames);
    PyMem_Free(stack);
    return result;
}

/* Records the code of `key` in the dispatcher's table after the Python path ran a call with those argument types
 * (so it is compiled). Failures only leave the table as it was. */
static void fill(DispatcherBase *self, Py_ssize_t count, const uint16_t *key) {
    if (self->signature_count >= MAX_SIGNATURES) return;
    int kinds[MAX_ARGUMENTS], dtypes[MAX_ARGUMENTS], ranks[MAX_ARGUMENTS];
    for (Py_ssize_t k = 0; k < count; k++) {
        if (key[k] & 0x8000) {
            kinds[k] = ARGUMENT_ARRAY;
            dtypes[k] = (key[k] >> 6) & 0xFF;
            ranks[k] = key[k] & 0x3F;
        } else {
            kinds[k] = key[k];
            dtypes[k] = ranks[k] = 0;
        }
    }
    int64_t info[4] = {0, 0, -1, 0};
    int status = -1;
    char *error = NULL;
    void *kernel;
    void *function = self->function;
    Py_BEGIN_ALLOW_THREADS
    kernel = api.kernel(function, count, kinds, dtypes, ranks, info, &status, &error);
    Py_END_ALLOW_THREADS
    if (error) api.string_free(error);
    if (!kernel) return;
    if (status != 0 || !info[0] || info[1] < RESULT_NONE || info[1] > RESULT_UINT64 ||
        (info[1] == RESULT_ARRAY && (info[2] < 0 || info[2] >= DTYPE_COUNT || info[3] < 0 || info[3] > MAX_RANK))) {
        api.kernel_free(kernel);
        return;
    }
    if (!self->signatures) {
        self->signatures = PyMem_RawCalloc(MAX_SIGNATURES, sizeof(Signature));
        if (!self->signatures) {
            api.kernel_free(kernel);
            return;
        }
    }
    /* Another thread may have filled it meanwhile (the GIL was released). */
    for (int s = 0; s < self->signature_count; s++) {
        Signature *known = &self->signatures[s];
        if (known->count == count && memcmp(known->key, key, (size_t)count * sizeof(uint16_t)) == 0) {
            api.kernel_free(kernel);
            return;
        }
    }
    if (self->signature_count >= MAX_SIGNATURES) {
        api.kernel_free(kernel);
        return;
    }
    Signature *slot = &self->signatures[self->signature_count];
    slot->count = count;
    memcpy(slot->key, key, (size_t)count * sizeof(uint16_t));
    slot->entry = (entry_function)(intptr_t)info[0];
    slot->kernel = kernel;
    slot->result_kind = (int)info[1];
    slot->result_dtype = (int)info[2];
    slot->result_rank = (int)info[3];
    self->signature_count++;
}

/* Raises what the Python path raises for a failed call: _raise_failure(status, message). */
static PyObject *raise_failure(int status, char *message) {
    PyObject *text = PyUnicode_DecodeUTF8(message ? message : "", message ? (Py_ssize_t)strlen(message) : 0, "replace");
    if (message) api.string_free(message);
    if (!text) return NULL;
    PyObject *result = PyObject_CallFunction(api.raise_failure, "iN", status, text);
    Py_XDECREF(result);
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "filterjit: a failed call raised nothing");
    return NULL;
}

/* A new ndarray over the array the function made (its descriptor in the detached `block`). */
static PyObject *new_array(void *block, const int64_t *descriptor, int dtype, int rank) {
    npy_intp shape[MAX_RANK], strides[MAX_RANK];
    for (int axis = 0; axis < rank; axis++) {
        shape[axis] = (npy_intp)descriptor[1 + axis];
        strides[axis] = (npy_intp)descriptor[1 + rank + axis];
    }
    ResultMemory *owner = PyObject_New(ResultMemory, &ResultMemoryType);
    if (!owner) {
        free(block);
        return NULL;
    }
    owner->block = block;
    PyArray_Descr *descr = descr_of_dtype_code[dtype];
    Py_INCREF(descr); /* (PyArray_NewFromDescr steals it) */
    PyObject *array = PyArray_NewFromDescr(&PyArray_Type, descr, rank, shape, strides, (void *)(intptr_t)descriptor[0],
                                           NPY_ARRAY_WRITEABLE, NULL);
    if (!array) {
        Py_DECREF(owner);
        return NULL;
    }
    if (PyArray_SetBaseObject((PyArrayObject *)array, (PyObject *)owner) < 0) { /* (steals `owner` either way) */
        Py_DECREF(array);
        return NULL;
    }
    return array;
}

/* A call with positional arguments `items`: the C path, or the Python path for what it does not take. */
static PyObject *call(PyObject *object, PyObject *const *items, Py_ssize_t count) {
    DispatcherBase *self = (DispatcherBase *)object;
    if (!api.ready || !self->function || count > MAX_ARGUMENTS) return python_path(object, items, count, NULL);
    int64_t words[MAX_WORDS];
    void *pointers[MAX_ARGUMENTS];
    uint16_t key[MAX_ARGUMENTS];
    int position = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *value = items[k];
        int64_t *slot = words + position;
        pointers[k] = slot;
        if (PyArray_Check(value)) {
            PyArrayObject *array = (PyArrayObject *)value;
            int type = PyArray_TYPE(array);
            int code = type >= 0 && type < TYPE_TABLE_SIZE ? dtype_code_of_type[type] : -1;
            int rank = PyArray_NDIM(array);
            /* Not native byte order, not writeable, too many axes: the Python path refuses it with its message. */
            if (code < 0 || !PyArray_ISNOTSWAPPED(array) || !PyArray_ISWRITEABLE(array) || rank > MAX_RANK) {
                return python_path(object, items, count, NULL);
            }
            const npy_intp *shape = PyArray_DIMS(array), *strides = PyArray_STRIDES(array);
            int empty = 0;
            if (!layout_holds(rank, shape, strides, (int64_t)PyArray_ITEMSIZE(array), &empty)) {
                return python_path(object, items, count, NULL);
            }
            char *data = PyArray_BYTES(array);
            if (!data) {
                if (!empty) return python_path(object, items, count, NULL);
                data = (char *)16; /* no element is ever read */
            }
            slot[0] = (int64_t)(intptr_t)data;
            for (int axis = 0; axis < rank; axis++) {
                slot[1 + axis] = (int64_t)shape[axis];
                slot[1 + rank + axis] = (int64_t)strides[axis];
            }
            key[k] = array_key(code, rank);
            position += 1 + 2 * rank;
        } else if (PyBool_Check(value) || PyArray_IsScalar(value, Bool)) {
            int truth = PyObject_IsTrue(value);
            if (truth < 0) return NULL;
            slot[0] = truth; /* the byte 0 or 1 in a zeroed word */
            key[k] = ARGUMENT_BOOL;
            position += 1;
        } else if (PyLong_CheckExact(value) || (PyArray_IsScalar(value, Integer) && !heap_type(value))) {
            /* Exact types only: a subclass's __int__ / __float__ is Python code, which could resize or free an array
               whose data pointer is already laid out above; subclasses take the Python path (it converts first). */
            int overflow = 0;
            long long integer;
            if (PyLong_CheckExact(value)) {
                integer = PyLong_AsLongLongAndOverflow(value, &overflow);
            } else {
                PyObject *converted = PyNumber_Long(value); /* int(value), as the Python path */
                if (!converted) return NULL;
                integer = PyLong_AsLongLongAndOverflow(converted, &overflow);
                Py_DECREF(converted);
            }
            if (overflow) return python_path(object, items, count, NULL); /* OverflowError, with the Python path's words */
            if (integer == -1 && PyErr_Occurred()) return NULL;
            slot[0] = (int64_t)integer;
            key[k] = ARGUMENT_INT;
            position += 1;
        } else if (PyFloat_CheckExact(value) || (PyArray_IsScalar(value, Floating) && !heap_type(value))) {
            double real = PyFloat_CheckExact(value) ? PyFloat_AS_DOUBLE(value) : PyFloat_AsDouble(value);
            if (real == -1.0 && PyErr_Occurred()) return NULL;
            memcpy(slot, &real, sizeof real);
            key[k] = ARGUMENT_FLOAT;
            position += 1;
        } else {
            return python_path(object, items, count, NULL); /* TypeError, as the Python path words it */
        }
    }

    /* The code of these argument types: the last one used, else the table, else the Python path (which compiles). */
    Signature *found = NULL;
    if (self->signatures) {
        Signature *last = &self->signatures[self->last];
        if (self->last < self->signature_count && last->count == count && same_key(last->key, key, count)) {
            found = last;
        } else {
            for (int s = 0; s < self->signature_count; s++) {
                Signature *candidate = &self->signatures[s];
                if (candidate->count == count && same_key(candidate->key, key, count)) {
                    found = candidate;
                    self->last = s;
                    break;
                }
            }
        }
    }
    if (!found) {
        PyObject *result = python_path(object, items, count, NULL);
        if (result) fill(self, count, key);
        return result;
    }
    fast_calls++;
    entry_function entry = found->entry;
    void *kernel = found->kernel;
    int result_kind = found->result_kind, result_dtype = found->result_dtype, result_rank = found->result_rank;

    int64_t result = 0;
    int64_t arena[2] = {0, 0};
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = entry(pointers, &result, arena);
    Py_END_ALLOW_THREADS
    if (status != 1) {
        char *message = api.kernel_error(kernel, 0);
        api.arena_release(arena);
        return raise_failure(STATUS_KERNEL, message);
    }
    switch (result_kind) {
    case RESULT_NONE:
        if (arena[0]) api.arena_release(arena);
        Py_RETURN_NONE;
    case RESULT_INT:
        if (arena[0]) api.arena_release(arena);
        return PyLong_FromLongLong(result);
    case RESULT_UINT64:
        if (arena[0]) api.arena_release(arena);
        return PyLong_FromUnsignedLongLong((unsigned long long)result);
    case RESULT_FLOAT: {
        if (arena[0]) api.arena_release(arena);
        double real;
        memcpy(&real, &result, sizeof real);
        return PyFloat_FromDouble(real);
    }
    case RESULT_BOOL:
        if (arena[0]) api.arena_release(arena);
        return PyBool_FromLong(*(uint8_t *)&result != 0);
    case RESULT_ARRAY:
        break;
    default:
        api.arena_release(arena);
        PyErr_SetString(PyExc_RuntimeError, "filterjit: unexpected result kind");
        return NULL;
    }
    void *descriptor = (void *)(intptr_t)result;
    if (!descriptor || result_dtype < 0) {
        char *message = api.kernel_error(kernel, 1);
        api.arena_release(arena);
        return raise_failure(STATUS_KERNEL, message);
    }
    for (Py_ssize_t k = 0; k < count; k++) {
        if (pointers[k] == descriptor) { /* the function returned this argument: the very object */
            if (arena[0]) api.arena_release(arena);
            PyObject *argument = items[k];
            Py_INCREF(argument);
            return argument;
        }
    }
    void *block = api.arena_detach(arena, descriptor);
    if (arena[0]) api.arena_release(arena);
    if (!block) return raise_failure(STATUS_KERNEL, api.kernel_error(kernel, 2));
    return new_array(block, (const int64_t *)descriptor, result_dtype, result_rank);
}

static PyObject *dispatcher_call(PyObject *object, PyObject *args, PyObject *kwargs) {
    PyObject *const *items = &PyTuple_GET_ITEM(args, 0);
    Py_ssize_t count = PyTuple_GET_SIZE(args);
    if (kwargs && PyDict_GET_SIZE(kwargs)) {
        /* Keyword arguments: the Python path (which refuses them with its message). */
        python_calls++;
        PyObject *head = PyTuple_Pack(1, object);
        if (!head) return NULL;
        PyObject *with_self = PySequence_Concat(head, args);
        Py_DECREF(head);
        if (!with_self) return NULL;
        PyObject *result = PyObject_Call(api.python_call, with_self, kwargs);
        Py_DECREF(with_self);
        return result;
    }
    return call(object, items, count);
}

/* The vectorcall protocol (no argument tuple is made for a call). */
static PyObject *dispatcher_vectorcall(PyObject *object, PyObject *const *items, size_t nargsf, PyObject *kwnames) {
    Py_ssize_t count = PyVectorcall_NARGS(nargsf);
    if (Py_TYPE(object)->tp_call != dispatcher_call) {
        /* The class's __call__ was replaced after the type was made (mock.patch.object): Python 3.10 and 3.11 keep
           calling through vectorcall, so hand the call to the type's own tp_call. */
        PyObject *args = PyTuple_New(count);
        if (!args) return NULL;
        for (Py_ssize_t k = 0; k < count; k++) {
            Py_INCREF(items[k]);
            PyTuple_SET_ITEM(args, k, items[k]);
        }
        PyObject *kwargs = NULL;
        Py_ssize_t named = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
        if (named) {
            kwargs = PyDict_New();
            for (Py_ssize_t k = 0; kwargs && k < named; k++) {
                if (PyDict_SetItem(kwargs, PyTuple_GET_ITEM(kwnames, k), items[count + k]) < 0) Py_CLEAR(kwargs);
            }
            if (!kwargs) {
                Py_DECREF(args);
                return NULL;
            }
        }
        PyObject *result = Py_TYPE(object)->tp_call(object, args, kwargs);
        Py_DECREF(args);
        Py_XDECREF(kwargs);
        return result;
    }
    if (kwnames && PyTuple_GET_SIZE(kwnames)) return python_path(object, items, count, kwnames);
    return call(object, items, count);
}

static PyObject *dispatcher_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *object = PyType_GenericNew(type, args, kwargs);
    if (object) ((DispatcherBase *)object)->vectorcall = dispatcher_vectorcall;
    return object;
}

static PyObject *dispatcher_bind(PyObject *object, PyObject *argument) {
    DispatcherBase *self = (DispatcherBase *)object;
    void *function = PyLong_AsVoidPtr(argument);
    if (!function) return NULL;
    if (self->function && self->function != function) {
        PyErr_SetString(PyExc_RuntimeError, "this dispatcher is bound to another function already");
        return NULL;
    }
    self->function = function;
    Py_RETURN_NONE;
}

static PyObject *dispatcher_fast_signature_count(PyObject *object, PyObject *unused) {
    (void)unused;
    return PyLong_FromLong(((DispatcherBase *)object)->signature_count);
}

static void dispatcher_dealloc(PyObject *object) {
    DispatcherBase *self = (DispatcherBase *)object;
    if (self->signatures) {
        for (int s = 0; s < self->signature_count; s++) api.kernel_free(self->signatures[s].kernel);
        PyMem_RawFree(self->signatures);
        self->signatures = NULL;
    }
    Py_TYPE(object)->tp_free(object);
}

static PyMethodDef dispatcher_methods[] = {
    {"_fast_bind", dispatcher_bind, METH_O, "Binds the C call to a filterjit_array_function handle (an int)."},
    {"_fast_signature_count", dispatcher_fast_signature_count, METH_NOARGS,
     "How many signatures the C call's table holds (calls with them take the C path)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DispatcherBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "filterjit._fastcall.DispatcherBase",
    .tp_doc = "The C call of filterjit.Dispatcher (see filterjit/_fastcall.c).",
    .tp_basicsize = sizeof(DispatcherBase),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(DispatcherBase, vectorcall),
    .tp_new = dispatcher_new,
    .tp_dealloc = dispatcher_dealloc,
    .tp_call = dispatcher_call,
    .tp_methods = dispatcher_methods,
};

static void *address_of(PyObject *value, int *failed) {
    void *address = PyLong_AsVoidPtr(value);
    if ((!address && !PyErr_Occurred()) || PyErr_Occurred()) *failed = 1;
    return address;
}

static PyObject *module_setup(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *kernel, *kernel_free, *kernel_error, *arena_release, *arena_detach, *string_free, *python_call, *raise;
    if (!PyArg_ParseTuple(args, "OOOOOOOO", &kernel, &kernel_free, &kernel_error, &arena_release, &arena_detach,
                          &string_free, &python_call, &raise)) {
        return NULL;
    }
    int failed = 0;
    void *addresses[6] = {address_of(kernel, &failed), address_of(kernel_free, &failed), address_of(kernel_error, &failed),
                          address_of(arena_release, &failed), address_of(arena_detach, &failed),
                          address_of(string_free, &failed)};
    if (failed || !PyCallable_Check(python_call) || !PyCallable_Check(raise)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "setup needs six function addresses and two callables");
        return NULL;
    }
    api.kernel = (kernel_function)addresses[0];
    api.kernel_free = (kernel_free_function)addresses[1];
    api.kernel_error = (kernel_error_function)addresses[2];
    api.arena_release = (arena_release_function)addresses[3];
    api.arena_detach = (arena_detach_function)addresses[4];
    api.string_free = (string_free_function)addresses[5];
    Py_INCREF(python_call);
    Py_XSETREF(api.python_call, python_call);
    Py_INCREF(raise);
    Py_XSETREF(api.raise_failure, raise);
    api.ready = 1;
    Py_RETURN_NONE;
}

/* Lets calls of `cls` (a Python subclass of DispatcherBase that does not define __call__) take the vectorcall
 * protocol too: heap types do not inherit it before Python 3.12 (and 3.12 drops it for a class that defined
 * __call__ at creation, as filterjit.Dispatcher does before removing it). */
static PyObject *module_enable_vectorcall(PyObject *module, PyObject *cls) {
    (void)module;
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &DispatcherBaseType)) {
        PyErr_SetString(PyExc_TypeError, "enable_vectorcall takes a subclass of DispatcherBase");
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)cls;
    if (type->tp_call != dispatcher_call) Py_RETURN_FALSE; /* it defines its own __call__ */
    type->tp_vectorcall_offset = offsetof(DispatcherBase, vectorcall);
    type->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL;
    PyType_Modified(type);
    Py_RETURN_TRUE;
}

/* The prepared generic_filter run (libFilterJITC's filterjit_filter_plan_run), given by `set_plan_run`. */
typedef int (*plan_run_function)(const void *plan, const void *input, void *output, char **error);
static plan_run_function plan_run_address;

/* The function address in `address` (a Python int, not 0), or NULL with an exception (naming `setter` when the
 * int was 0). */
static void *function_address(PyObject *address, const char *setter) {
    int failed = 0;
    void *function = address_of(address, &failed);
    if (failed && !PyErr_Occurred()) PyErr_Format(PyExc_ValueError, "%s needs a function address", setter);
    return failed ? NULL : function;
}

static PyObject *module_set_plan_run(PyObject *module, PyObject *address) {
    (void)module;
    void *function = function_address(address, "set_plan_run");
    if (!function) return NULL;
    plan_run_address = (plan_run_function)function;
    Py_RETURN_NONE;
}

/* plan_run(handle, input, output): runs a prepared generic_filter call on two ndarrays, their data addresses read
 * straight from the objects (`array.ctypes.data` took about 1 us each, a third of the prepared call's own cost),
 * with the GIL released as ctypes releases it. None when it ran, else (status, address of the error text) for the
 * caller to raise from. The arrays' layouts are the caller's to check (filterjit._ndimage keys plans by them). */
static PyObject *module_plan_run(PyObject *module, PyObject *const *items, Py_ssize_t count) {
    (void)module;
    if (count != 3 || !PyArray_Check(items[1]) || !PyArray_Check(items[2])) {
        PyErr_SetString(PyExc_TypeError, "plan_run takes a plan handle and two ndarrays");
        return NULL;
    }
    if (!plan_run_address) {
        PyErr_SetString(PyExc_RuntimeError, "plan_run before set_plan_run");
        return NULL;
    }
    int failed = 0;
    void *plan = address_of(items[0], &failed);
    if (failed) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "plan_run needs a plan handle");
        return NULL;
    }
    const void *input = PyArray_DATA((PyArrayObject *)items[1]);
    void *output = PyArray_DATA((PyArrayObject *)items[2]);
    char *error = NULL;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = plan_run_address(plan, input, output, &error);
    Py_END_ALLOW_THREADS
    if (status == 0) Py_RETURN_NONE;
    PyObject *failure = Py_BuildValue("(iK)", status, (unsigned long long)(uintptr_t)error);
    if (!failure && error && api.string_free) api.string_free(error); /* no one else would free it */
    return failure;
}

/* libFilterJITC's filterjit_generic_filter_flags and filterjit_generic_filter1d, given by `set_filter_calls`. */
typedef int (*filter_call_function)(const void *kernel, const void *input, int input_dtype, int rank,
                                    const intptr_t *shape, const intptr_t *input_strides, void *output, int output_dtype,
                                    const intptr_t *output_strides, const uint8_t *footprint, int footprint_rank,
                                    const intptr_t *footprint_shape, const intptr_t *axes, const intptr_t *origins,
                                    int mode, double cval, const double *parameters, intptr_t parameter_count,
                                    int engine, int threads, int flags, char **error);
typedef int (*filter1d_call_function)(const void *kernel, const void *input, int input_dtype, int rank,
                                      const intptr_t *shape, const intptr_t *input_strides, void *output,
                                      int output_dtype, const intptr_t *output_strides, intptr_t filter_size, int axis,
                                      int mode, double cval, intptr_t origin, const double *parameters,
                                      intptr_t parameter_count, int engine, int threads, char **error);
static filter_call_function filter_call_address;
#define FILTER_MAX_RANK 64 /* NumPy 2's NPY_MAXDIMS; the library refuses ranks beyond its own limit */
static filter1d_call_function filter1d_call_address;

static PyObject *module_set_filter_calls(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *filter, *filter1d;
    if (!PyArg_ParseTuple(args, "OO", &filter, &filter1d)) return NULL;
    void *first = function_address(filter, "set_filter_calls");
    if (!first) return NULL;
    void *second = function_address(filter1d, "set_filter_calls");
    if (!second) return NULL;
    filter_call_address = (filter_call_function)first;
    filter1d_call_address = (filter1d_call_function)second;
    Py_RETURN_NONE;
}

/* Every item but the arrays (`skip_a`, `skip_b`) and the float (`skip_c`) as an integer (addresses as Python ints, 0
 * for NULL, and small codes) into `words[k]`; -1 with an exception when one is not an int. */
static int read_words(PyObject *const *items, Py_ssize_t count, Py_ssize_t skip_a, Py_ssize_t skip_b,
                      Py_ssize_t skip_c, intptr_t *words) {
    for (Py_ssize_t k = 0; k < count; k++) {
        words[k] = 0;
        if (k == skip_a || k == skip_b || k == skip_c) continue;
        if (!PyLong_Check(items[k])) {
            PyErr_Format(PyExc_TypeError, "argument %zd must be an int", k);
            return -1;
        }
        words[k] = (intptr_t)PyLong_AsSsize_t(items[k]);
        if (words[k] == -1 && PyErr_Occurred()) return -1;
    }
    return 0;
}

/* The two arrays of an unprepared filter call (filterjit._ndimage's generic_filter and generic_filter1d after
 * their checks), read under the GIL: another thread may set an array's shape or strides (freeing the buffers NumPy
 * keeps them in) once the GIL is released, so the library gets copies. */
typedef struct {
    void *input_data, *output_data;
    int rank;
    intptr_t shape[FILTER_MAX_RANK], input_strides[FILTER_MAX_RANK], output_strides[FILTER_MAX_RANK];
} CallArrays;

static int call_arrays(PyObject *input, PyObject *output, const char *name, CallArrays *arrays) {
    if (!PyArray_Check(input) || !PyArray_Check(output)) {
        PyErr_Format(PyExc_TypeError, "%s takes two ndarrays", name);
        return -1;
    }
    PyArrayObject *in = (PyArrayObject *)input, *out = (PyArrayObject *)output;
    int rank = PyArray_NDIM(in);
    if (rank != PyArray_NDIM(out) || rank > FILTER_MAX_RANK) {
        PyErr_Format(PyExc_ValueError, "%s: the input and output ranks differ or pass %d", name, FILTER_MAX_RANK);
        return -1;
    }
    if (!PyArray_ISWRITEABLE(out)) {
        PyErr_Format(PyExc_ValueError, "%s: the output is read-only", name);
        return -1;
    }
    for (int axis = 0; axis < rank; axis++) {
        if (PyArray_DIMS(in)[axis] != PyArray_DIMS(out)[axis]) {
            PyErr_Format(PyExc_ValueError, "%s: the input and output shapes differ", name);
            return -1;
        }
        arrays->shape[axis] = (intptr_t)PyArray_DIMS(in)[axis];
        arrays->input_strides[axis] = (intptr_t)PyArray_STRIDES(in)[axis];
        arrays->output_strides[axis] = (intptr_t)PyArray_STRIDES(out)[axis];
    }
    arrays->rank = rank;
    arrays->input_data = PyArray_DATA(in);
    arrays->output_data = PyArray_DATA(out);
    return 0;
}

/* None when the library's call returned 0, else (status, address of the error text). */
static PyObject *call_outcome(int status, char *error) {
    if (status == 0) Py_RETURN_NONE;
    PyObject *failure = Py_BuildValue("(iK)", status, (unsigned long long)(uintptr_t)error);
    if (!failure && error && api.string_free) api.string_free(error);
    return failure;
}

/* The arguments of filter_call / filter1d_call, `expected` of them: the kernel and the other addresses and codes as
 * words into `w`, the input (item 1) and output (item 3) into `a`, the cval (item `cval_index`) into `*cval`; -1 with an
 * exception when one is wrong or `ready` (the library's function given) is false. */
static int read_filter_call(const char *name, PyObject *const *items, Py_ssize_t count, Py_ssize_t expected,
                            Py_ssize_t cval_index, int ready, CallArrays *a, intptr_t *w, double *cval) {
    if (count != expected) {
        PyErr_Format(PyExc_TypeError, "%s takes %zd arguments", name, expected);
        return -1;
    }
    if (!ready) {
        PyErr_Format(PyExc_RuntimeError, "%s before set_filter_calls", name);
        return -1;
    }
    if (call_arrays(items[1], items[3], name, a) < 0 || read_words(items, count, 1, 3, cval_index, w) < 0) return -1;
    *cval = PyFloat_AsDouble(items[cval_index]);
    return *cval == -1.0 && PyErr_Occurred() ? -1 : 0;
}

/* filter_call(kernel, input, input_code, output, output_code, footprint, footprint_rank, footprint_shape, axes,
 * origins, mode, cval, parameters, parameter_count, engine, threads, flags): filterjit_generic_filter_flags on two
 * ndarrays of one shape, every other pointer an address the caller keeps alive (filterjit._ndimage's call
 * templates). Through ctypes the same call's 22 arguments, six of them ctypes arrays made per call, cost about
 * 15 us on a small image. */
static PyObject *module_filter_call(PyObject *module, PyObject *const *items, Py_ssize_t count) {
    (void)module;
    CallArrays a;
    intptr_t w[17];
    double cval;
    if (read_filter_call("filter_call", items, count, 17, 11, filter_call_address != NULL, &a, w, &cval) < 0) return NULL;
    char *error = NULL;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = filter_call_address((const void *)w[0], a.input_data, (int)w[2], a.rank, a.shape, a.input_strides,
                                 a.output_data, (int)w[4], a.output_strides,
                                 (const uint8_t *)w[5], (int)w[6], (const intptr_t *)w[7], (const intptr_t *)w[8],
                                 (const intptr_t *)w[9], (int)w[10], cval, (const double *)w[12], w[13], (int)w[14],
                                 (int)w[15], (int)w[16], &error);
    Py_END_ALLOW_THREADS
    return call_outcome(status, error);
}

/* filter1d_call(kernel, input, input_code, output, output_code, filter_size, axis, mode, cval, origin, parameters,
 * parameter_count, engine, threads): filterjit_generic_filter1d on two ndarrays of one shape, as filter_call. */
static PyObject *module_filter1d_call(PyObject *module, PyObject *const *items, Py_ssize_t count) {
    (void)module;
    CallArrays a;
    intptr_t w[14];
    double cval;
    if (read_filter_call("filter1d_call", items, count, 14, 8, filter1d_call_address != NULL, &a, w, &cval) < 0) {
        return NULL;
    }
    char *error = NULL;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = filter1d_call_address((const void *)w[0], a.input_data, (int)w[2], a.rank, a.shape, a.input_strides,
                                   a.output_data, (int)w[4], a.output_strides, w[5],
                                   (int)w[6], (int)w[7], cval, w[9], (const double *)w[10], w[11], (int)w[12],
                                   (int)w[13], &error);
    Py_END_ALLOW_THREADS
    return call_outcome(status, error);
}

/* libFilterJITC's filterjit_has_nan_or_negative_zero, given by `set_nan_check`. */
typedef int (*nan_check_function)(const void *data, int dtype, intptr_t count);
static nan_check_function nan_check_address;

static PyObject *module_set_nan_check(PyObject *module, PyObject *address) {
    (void)module;
    void *function = function_address(address, "set_nan_check");
    if (!function) return NULL;
    nan_check_address = (nan_check_function)function;
    Py_RETURN_NONE;
}

/* nan_check(array): the library's one-pass NaN / -0.0 check of a contiguous native float32 or float64 ndarray
 * (filterjit.ndimage's choice of kernel), 1 or 0; -1 for any other array, which the caller checks with NumPy.
 * Through ctypes the call took about 3 us on a 16x16 image, most of a replayed small call's cost. The GIL is
 * released for arrays big enough for that to matter, as ctypes releases it. */
static PyObject *module_nan_check(PyObject *module, PyObject *item) {
    (void)module;
    if (!nan_check_address) {
        PyErr_SetString(PyExc_RuntimeError, "nan_check before set_nan_check");
        return NULL;
    }
    if (!PyArray_Check(item)) return PyLong_FromLong(-1);
    PyArrayObject *array = (PyArrayObject *)item;
    PyArray_Descr *descr = PyArray_DESCR(array);
    int type = descr->type_num;
    int code = type == NPY_FLOAT ? 9 : type == NPY_DOUBLE ? 10 : -1;
    if (code < 0 || !PyArray_ISNOTSWAPPED(array) ||
        !(PyArray_IS_C_CONTIGUOUS(array) || PyArray_IS_F_CONTIGUOUS(array))) {
        return PyLong_FromLong(-1);
    }
    const void *data = PyArray_DATA(array);
    intptr_t count = (intptr_t)PyArray_SIZE(array);
    int found;
    if (count > (1 << 16)) {
        Py_BEGIN_ALLOW_THREADS
        found = nan_check_address(data, code, count);
        Py_END_ALLOW_THREADS
    } else {
        found = nan_check_address(data, code, count);
    }
    return PyLong_FromLong(found);
}

/* filterjit.ndimage's `_argument_key` (every argument `call_key` does not key itself), given by `set_key_fallback`. */
static PyObject *key_fallback;

static PyObject *module_set_key_fallback(PyObject *module, PyObject *function) {
    (void)module;
    if (!PyCallable_Check(function)) {
        PyErr_SetString(PyExc_TypeError, "set_key_fallback takes a callable");
        return NULL;
    }
    Py_XSETREF(key_fallback, Py_NewRef(function));
    Py_RETURN_NONE;
}

/* A tuple of the `count` Py_ssize_t values (a shape or strides). */
static PyObject *size_tuple(const npy_intp *values, int count) {
    PyObject *tuple = PyTuple_New(count);
    if (!tuple) return NULL;
    for (int k = 0; k < count; k++) {
        PyObject *item = PyLong_FromSsize_t((Py_ssize_t)values[k]);
        if (!item) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, k, item);
    }
    return tuple;
}

/* One argument's part of the key, as filterjit.ndimage's `_call_key` makes it (a new reference); Py_None (a new
 * reference) when the call is not keyed; NULL with an exception. `arrays` holds the data arrays seen so far. */
static PyObject *key_part(PyObject *where, PyObject *value, PyObject *data, PyObject *content, PyObject **arrays,
                          Py_ssize_t *array_count) {
    int is_data = PyArray_CheckExact(value) ? PySet_Contains(data, where) : 0;
    if (is_data < 0) return NULL;
    if (is_data) {
        PyArrayObject *array = (PyArrayObject *)value;
        Py_ssize_t same = -1;
        for (Py_ssize_t k = 0; k < *array_count; k++) {
            if (arrays[k] == value) {
                same = k;
                break;
            }
        }
        arrays[(*array_count)++] = value;
        PyObject *shape = size_tuple(PyArray_DIMS(array), PyArray_NDIM(array));
        PyObject *strides = shape ? size_tuple(PyArray_STRIDES(array), PyArray_NDIM(array)) : NULL;
        if (!strides) {
            Py_XDECREF(shape);
            return NULL;
        }
        return Py_BuildValue("(OONNOOn)", where, (PyObject *)PyArray_DESCR(array), shape, strides,
                             PyArray_ISALIGNED(array) ? Py_True : Py_False,
                             PyArray_ISWRITEABLE(array) ? Py_True : Py_False, same);
    }
    if (PyLong_CheckExact(value) || PyUnicode_CheckExact(value) || value == Py_None) {
        return PyTuple_Pack(3, where, (PyObject *)Py_TYPE(value), value);
    }
    int is_content = PySet_Contains(content, where);
    if (is_content < 0) return NULL;
    PyObject *part = PyObject_CallFunctionObjArgs(key_fallback, value, is_content ? Py_True : Py_False, NULL);
    if (!part || part == Py_None) return part;
    PyObject *keyed = PyTuple_Pack(2, where, part);
    Py_DECREF(part);
    return keyed;
}

/* call_key(name, arguments, keywords, data, content): filterjit.ndimage's `_call_key` in C (equal keys; a replayed
 * small call spent about 1.5 us building its key in Python). */
static PyObject *module_call_key(PyObject *module, PyObject *const *items, Py_ssize_t count) {
    (void)module;
    if (count != 5 || !PyTuple_Check(items[1]) || !PyDict_Check(items[2]) || !PyFrozenSet_Check(items[3]) ||
        !PyFrozenSet_Check(items[4])) {
        PyErr_SetString(PyExc_TypeError, "call_key takes a name, a tuple, a dict and two frozensets");
        return NULL;
    }
    if (!key_fallback) {
        PyErr_SetString(PyExc_RuntimeError, "call_key before set_key_fallback");
        return NULL;
    }
    PyObject *arguments = items[1], *keywords = items[2], *data = items[3], *content = items[4];
    Py_ssize_t positional = PyTuple_GET_SIZE(arguments), named = PyDict_GET_SIZE(keywords);
    PyObject **arrays = PyMem_Malloc((size_t)(positional + named + 1) * sizeof(PyObject *));
    PyObject *parts = arrays ? PyTuple_New(1 + positional + named) : NULL;
    if (!parts) {
        PyMem_Free(arrays);
        return arrays ? NULL : PyErr_NoMemory();
    }
    PyTuple_SET_ITEM(parts, 0, Py_NewRef(items[0]));
    Py_ssize_t array_count = 0, slot = 1;
    for (Py_ssize_t k = 0; k < positional; k++, slot++) {
        PyObject *where = PyLong_FromSsize_t(k);
        PyObject *part = where ? key_part(where, PyTuple_GET_ITEM(arguments, k), data, content, arrays, &array_count)
                               : NULL;
        Py_XDECREF(where);
        if (!part || part == Py_None) {
            Py_DECREF(parts);
            PyMem_Free(arrays);
            return part;
        }
        PyTuple_SET_ITEM(parts, slot, part);
    }
    Py_ssize_t position = 0;
    PyObject *name, *value;
    while (PyDict_Next(keywords, &position, &name, &value)) {
        PyObject *part = key_part(name, value, data, content, arrays, &array_count);
        if (!part || part == Py_None) {
            Py_DECREF(parts);
            PyMem_Free(arrays);
            return part;
        }
        PyTuple_SET_ITEM(parts, slot++, part);
    }
    PyMem_Free(arrays);
    return parts;
}

static PyObject *module_counts(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    return Py_BuildValue("(KK)", fast_calls, python_calls);
}

static PyMethodDef module_methods[] = {
    {"setup", module_setup, METH_VARARGS,
     "setup(kernel, kernel_free, kernel_error, arena_release, arena_detach, string_free, python_call, raise_failure):"
     " the addresses of libFilterJITC's filterjit_array_function_kernel, filterjit_array_kernel_free,"
     " filterjit_array_kernel_error, filterjit_array_arena_release, filterjit_array_arena_detach and"
     " filterjit_string_free, the Python path's call and the function raising a failure's exception."},
    {"counts", module_counts, METH_NOARGS, "(calls through the C path, calls through the Python path) so far."},
    {"set_plan_run", module_set_plan_run, METH_O, "set_plan_run(address): libFilterJITC's filterjit_filter_plan_run."},
    {"plan_run", (PyCFunction)(void (*)(void))module_plan_run, METH_FASTCALL,
     "plan_run(handle, input, output): a prepared generic_filter run; None, or (status, error text address)."},
    {"set_filter_calls", module_set_filter_calls, METH_VARARGS,
     "set_filter_calls(filter, filter1d): libFilterJITC's filterjit_generic_filter_flags and filterjit_generic_filter1d."},
    {"filter_call", (PyCFunction)(void (*)(void))module_filter_call, METH_FASTCALL,
     "filter_call(kernel, input, input_code, output, output_code, footprint, footprint_rank, footprint_shape, axes,"
     " origins, mode, cval, parameters, parameter_count, engine, threads, flags): an unprepared generic_filter run;"
     " None, or (status, error text address)."},
    {"filter1d_call", (PyCFunction)(void (*)(void))module_filter1d_call, METH_FASTCALL,
     "filter1d_call(kernel, input, input_code, output, output_code, filter_size, axis, mode, cval, origin, parameters,"
     " parameter_count, engine, threads): an unprepared generic_filter1d run; None, or (status, error text address)."},
    {"set_nan_check", module_set_nan_check, METH_O,
     "set_nan_check(address): libFilterJITC's filterjit_has_nan_or_negative_zero."},
    {"nan_check", module_nan_check, METH_O,
     "nan_check(array): 1 or 0, whether a contiguous native float array holds NaN or -0.0; -1 for other arrays."},
    {"set_key_fallback", module_set_key_fallback, METH_O,
     "set_key_fallback(function): filterjit.ndimage's _argument_key, for the arguments call_key does not key itself."},
    {"call_key", (PyCFunction)(void (*)(void))module_call_key, METH_FASTCALL,
     "call_key(name, arguments, keywords, data, content): filterjit.ndimage's replay key of a call, or None."},
    {"enable_vectorcall", module_enable_vectorcall, METH_O,
     "Lets a subclass of DispatcherBase without its own __call__ be called through vectorcall; True if it did."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT, "filterjit._fastcall", "The C call of array functions (see filterjit/_fastcall.c).", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastcall(void) {
    import_array();
    for (int type = 0; type < TYPE_TABLE_SIZE; type++) dtype_code_of_type[type] = -1;
    /* FILTERJIT_BOOL, INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32, UINT64, FLOAT32, FLOAT64 */
    static const int sized_types[DTYPE_COUNT] = {NPY_BOOL, NPY_INT8, NPY_INT16, NPY_INT32, NPY_INT64, NPY_UINT8,
                                                 NPY_UINT16, NPY_UINT32, NPY_UINT64, NPY_FLOAT32, NPY_FLOAT64};
    for (int code = 0; code < DTYPE_COUNT; code++) {
        type_of_dtype_code[code] = sized_types[code];
        descr_of_dtype_code[code] = PyArray_DescrFromType(sized_types[code]);
        if (!descr_of_dtype_code[code]) return NULL;
    }
    /* Every C integer type of the same size and signedness is the same dtype code (np.dtype('q') == np.int64). */
    static const struct { int type; int size; int is_signed; } integers[] = {
        {NPY_BYTE, 1, 1}, {NPY_UBYTE, 1, 0}, {NPY_SHORT, NPY_SIZEOF_SHORT, 1}, {NPY_USHORT, NPY_SIZEOF_SHORT, 0},
        {NPY_INT, NPY_SIZEOF_INT, 1}, {NPY_UINT, NPY_SIZEOF_INT, 0}, {NPY_LONG, NPY_SIZEOF_LONG, 1},
        {NPY_ULONG, NPY_SIZEOF_LONG, 0}, {NPY_LONGLONG, NPY_SIZEOF_LONGLONG, 1}, {NPY_ULONGLONG, NPY_SIZEOF_LONGLONG, 0},
    };
    for (size_t i = 0; i < sizeof integers / sizeof integers[0]; i++) {
        int size = integers[i].size;
        int index = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : -1;
        if (index >= 0) dtype_code_of_type[integers[i].type] = (integers[i].is_signed ? 1 : 5) + index;
    }
    dtype_code_of_type[NPY_BOOL] = 0;
    dtype_code_of_type[NPY_FLOAT] = 9;
    dtype_code_of_type[NPY_DOUBLE] = 10;
    if (PyType_Ready(&ResultMemoryType) < 0 || PyType_Ready(&DispatcherBaseType) < 0) return NULL;
    PyObject *module = PyModule_Create(&module_definition);
    if (!module) return NULL;
    Py_INCREF(&DispatcherBaseType);
    if (PyModule_AddObject(module, "DispatcherBase", (PyObject *)&DispatcherBaseType) < 0) {
        Py_DECREF(&DispatcherBaseType);
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&ResultMemoryType);
    if (PyModule_AddObject(module, "ResultMemory", (PyObject *)&ResultMemoryType) < 0) {
        Py_DECREF(&ResultMemoryType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
