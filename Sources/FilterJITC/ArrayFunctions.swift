// The C API of array functions (issue 15): a handle per function, calls with flat argument arrays
// (kinds, data pointers, dtypes, ranks, shapes, strides, scalar values), and a result handle.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FilterJIT
import FilterLang
import NDImage

/// What an array-function handle points to.
final class ArrayFunctionBox {
    let function: ArrayFunction
    let name: UnsafeMutablePointer<CChar>?

    init(_ function: ArrayFunction) {
        self.function = function
        name = copyCString(function.name)
    }

    deinit { free(name) }
}

/// What a result handle points to (the result keeps a new array's memory alive).
final class ArrayResultBox {
    let kind: Int32
    let intValue: Int64
    let floatValue: Double
    let array: NDArray?
    let argument: Int
    let shape: UnsafeMutablePointer<Int>

    init(kind: Int32, intValue: Int64 = 0, floatValue: Double = 0, array: NDArray? = nil, argument: Int = -1) {
        self.kind = kind
        self.intValue = intValue
        self.floatValue = floatValue
        self.array = array
        self.argument = argument
        let rank = array?.rank ?? 0
        shape = .allocate(capacity: max(rank, 1))
        for axis in 0..<rank { shape[axis] = array!.shape[axis] }
    }

    deinit { shape.deallocate() }
}

func arrayFunctionBox(_ handle: OpaquePointer?) -> ArrayFunctionBox? {
    guard let handle else { return nil }
    return Unmanaged<ArrayFunctionBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

func arrayResultBox(_ handle: OpaquePointer?) -> ArrayResultBox? {
    guard let handle else { return nil }
    return Unmanaged<ArrayResultBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// `filterjit_array_function *filterjit_array_function_create(engine, source, function, file_name, line_offset, flags,
/// status, error)`; flags: FILTERJIT_ARRAY_UNCHECKED (1) drops the index checks (Numba's boundscheck=False).
@_cdecl("filterjit_array_function_create")
public func filterjit_array_function_create(_ engine: OpaquePointer?, _ source: UnsafePointer<CChar>?,
                                            _ function: UnsafePointer<CChar>?, _ fileName: UnsafePointer<CChar>?,
                                            _ lineOffset: Int, _ flags: Int32, _ status: UnsafeMutablePointer<Int32>?,
                                            _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> OpaquePointer? {
    var result: OpaquePointer?
    let code = withStatus(errorText) {
        guard let box = engineBox(engine) else { throw APIFailure(.argument, "engine is NULL") }
        guard let source else { throw APIFailure(.argument, "source is NULL") }
        let name = fileName.map { String(cString: $0) } ?? "<function>"
        do {
            let compiled = try box.engine.compileFunction(String(cString: source), function: function.map { String(cString: $0) },
                                                          fileName: name, lineOffset: lineOffset, boundsChecked: flags & 1 == 0)
            result = OpaquePointer(Unmanaged.passRetained(ArrayFunctionBox(compiled)).toOpaque())
        } catch let compileError as CompileError {
            throw APIFailure(.compile, compileError.description)
        }
    }
    status?.pointee = code
    return result
}

/// `void filterjit_array_function_free(filterjit_array_function *)`.
@_cdecl("filterjit_array_function_free")
public func filterjit_array_function_free(_ function: OpaquePointer?) {
    guard let function else { return }
    Unmanaged<ArrayFunctionBox>.fromOpaque(UnsafeRawPointer(function)).release()
}

/// `const char *filterjit_array_function_name(const filterjit_array_function *)`.
@_cdecl("filterjit_array_function_name")
public func filterjit_array_function_name(_ function: OpaquePointer?) -> UnsafePointer<CChar>? {
    arrayFunctionBox(function)?.name.map { UnsafePointer($0) }
}

/// `intptr_t filterjit_array_function_signature_count(const filterjit_array_function *)`.
@_cdecl("filterjit_array_function_signature_count")
public func filterjit_array_function_signature_count(_ function: OpaquePointer?) -> Int {
    arrayFunctionBox(function)?.function.signatures.count ?? 0
}

/// `char *filterjit_array_function_signature(const filterjit_array_function *, intptr_t index)`: NULL when out of range.
@_cdecl("filterjit_array_function_signature")
public func filterjit_array_function_signature(_ function: OpaquePointer?, _ index: Int) -> UnsafeMutablePointer<CChar>? {
    guard let signatures = arrayFunctionBox(function)?.function.signatures, signatures.indices.contains(index) else { return nil }
    return copyCString(signatures[index].description)
}

/// `char *filterjit_array_function_ir(const filterjit_array_function *, intptr_t index)`: the optimised LLVM IR
/// of signature `index`; NULL when out of range.
@_cdecl("filterjit_array_function_ir")
public func filterjit_array_function_ir(_ function: OpaquePointer?, _ index: Int) -> UnsafeMutablePointer<CChar>? {
    guard let box = arrayFunctionBox(function) else { return nil }
    let signatures = box.function.signatures
    guard signatures.indices.contains(index), let text = try? box.function.inspectIR(for: signatures[index]) else { return nil }
    return copyCString(text)
}

/// `int filterjit_array_function_call(function, count, kinds, data, dtypes, ranks, shapes, strides, int_values,
/// float_values, engine, result, error)`.
@_cdecl("filterjit_array_function_call")
public func filterjit_array_function_call(_ function: OpaquePointer?, _ count: Int,
                                          _ kinds: UnsafePointer<Int32>?, _ data: UnsafePointer<UnsafeMutableRawPointer?>?,
                                          _ dtypes: UnsafePointer<Int32>?, _ ranks: UnsafePointer<Int32>?,
                                          _ shapes: UnsafePointer<UnsafePointer<Int>?>?, _ strides: UnsafePointer<UnsafePointer<Int>?>?,
                                          _ intValues: UnsafePointer<Int64>?, _ floatValues: UnsafePointer<Double>?,
                                          _ engine: Int32, _ result: UnsafeMutablePointer<OpaquePointer?>?,
                                          _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    result?.pointee = nil
    return withStatus(errorText) {
        guard let box = arrayFunctionBox(function) else { throw APIFailure(.argument, "function is NULL") }
        guard count >= 0, count <= 1 << 16 else { throw APIFailure(.argument, "argument count \(count) is out of range") }
        guard let result else { throw APIFailure(.argument, "result is NULL") }
        guard count == 0 || kinds != nil else { throw APIFailure(.argument, "kinds is NULL") }
        var arguments: [ArrayFunctionArgument] = []
        for k in 0..<count {
            switch kinds![k] {
            case 0:
                guard let data, let dtypes, let ranks, let shapes, let strides else {
                    throw APIFailure(.argument, "argument \(k) is an array but data, dtypes, ranks, shapes or strides is NULL")
                }
                let rank = Int(ranks[k])
                guard rank >= 0, rank <= 32 else { throw APIFailure(.argument, "argument \(k): rank \(rank) is out of range 0...32") }
                guard let shapePointer = shapes[k] ?? (rank == 0 ? UnsafePointer(bitPattern: 8) : nil),
                      let stridePointer = strides[k] ?? (rank == 0 ? UnsafePointer(bitPattern: 8) : nil) else {
                    throw APIFailure(.argument, "argument \(k): shape or strides is NULL")
                }
                let type = try elementType(code: dtypes[k])
                let shape = (0..<rank).map { shapePointer[$0] }
                let count = try NDArray.checkedElementCount(shape: shape, itemSize: type.itemSize)
                guard let base = data[k] ?? (count == 0 ? UnsafeMutableRawPointer(bitPattern: 16) : nil) else {
                    throw APIFailure(.argument, "argument \(k): data is NULL")
                }
                let byteStrides = (0..<rank).map { stridePointer[$0] }
                // The caller guarantees every element lies in its buffer (as for the filter drivers): view exactly them.
                let (low, high) = try byteSpan(shape: shape, strides: byteStrides, itemSize: type.itemSize, argument: k)
                let storage = try NDArrayStorage(borrowing: base + low, byteCount: high - low + type.itemSize)
                arguments.append(.array(try NDArray(storage: storage, elementType: type, shape: shape, strides: byteStrides,
                                                    byteOffset: -low)))
            case 1:
                guard let intValues else { throw APIFailure(.argument, "int_values is NULL") }
                arguments.append(.int(intValues[k]))
            case 2:
                guard let floatValues else { throw APIFailure(.argument, "float_values is NULL") }
                arguments.append(.float(floatValues[k]))
            case 3:
                guard let intValues else { throw APIFailure(.argument, "int_values is NULL") }
                arguments.append(.bool(intValues[k] != 0))
            default:
                throw APIFailure(.argument, "argument \(k) has the unknown kind \(kinds![k])")
            }
        }
        guard engine == 0 || engine == 1 else { throw APIFailure(.argument, "engine \(engine) is not 0 (JIT) or 1 (interpreter)") }
        let backEnd: ArrayFunctionEngine = engine == 1 ? .interpreter : .jit
        let value: ArrayFunctionResult
        do {
            value = try box.function.call(arguments, engine: backEnd)
        } catch let error as CompileError {
            throw APIFailure(.compile, error.description)
        } catch let error as KernelRuntimeError {
            throw APIFailure(.kernel, "\(box.function.name): \(box.function.describe(error))")
        }
        let resultBox: ArrayResultBox
        switch value {
        case .none: resultBox = ArrayResultBox(kind: 0)
        case .int(let x): resultBox = ArrayResultBox(kind: 1, intValue: x)
        case .uint64(let x): resultBox = ArrayResultBox(kind: 5, intValue: Int64(bitPattern: x))
        case .float(let x): resultBox = ArrayResultBox(kind: 2, floatValue: x)
        case .bool(let x): resultBox = ArrayResultBox(kind: 3, intValue: x ? 1 : 0)
        case .array(let array):
            let index = arguments.firstIndex { if case .array(let a) = $0 { return a === array } else { return false } } ?? -1
            resultBox = ArrayResultBox(kind: 4, array: index >= 0 ? nil : array, argument: index)
        }
        result.pointee = OpaquePointer(Unmanaged.passRetained(resultBox).toOpaque())
    }
}

/// `int filterjit_result_kind(const filterjit_result *)`: FILTERJIT_RESULT_*; -1 for NULL.
@_cdecl("filterjit_result_kind")
public func filterjit_result_kind(_ result: OpaquePointer?) -> Int32 { arrayResultBox(result)?.kind ?? -1 }

/// `int64_t filterjit_result_int(const filterjit_result *)`: an INT result, 0/1 for BOOL, a UINT64's bits.
@_cdecl("filterjit_result_int")
public func filterjit_result_int(_ result: OpaquePointer?) -> Int64 { arrayResultBox(result)?.intValue ?? 0 }

/// `double filterjit_result_float(const filterjit_result *)`.
@_cdecl("filterjit_result_float")
public func filterjit_result_float(_ result: OpaquePointer?) -> Double { arrayResultBox(result)?.floatValue ?? .nan }

/// `intptr_t filterjit_result_argument(const filterjit_result *)`: for ARRAY, the index of the argument the
/// function returned, or -1 for a new array.
@_cdecl("filterjit_result_argument")
public func filterjit_result_argument(_ result: OpaquePointer?) -> Int { arrayResultBox(result)?.argument ?? -1 }

/// `int filterjit_result_dtype(const filterjit_result *)`: a new array's FILTERJIT_* element type (-1 otherwise).
@_cdecl("filterjit_result_dtype")
public func filterjit_result_dtype(_ result: OpaquePointer?) -> Int32 {
    guard let array = arrayResultBox(result)?.array else { return -1 }
    return Int32(array.elementType.abiCode.rawValue)
}

/// `int filterjit_result_rank(const filterjit_result *)`.
@_cdecl("filterjit_result_rank")
public func filterjit_result_rank(_ result: OpaquePointer?) -> Int32 { Int32(arrayResultBox(result)?.array?.rank ?? 0) }

/// `const intptr_t *filterjit_result_shape(const filterjit_result *)`: valid while the result lives.
@_cdecl("filterjit_result_shape")
public func filterjit_result_shape(_ result: OpaquePointer?) -> UnsafePointer<Int>? {
    arrayResultBox(result).map { UnsafePointer($0.shape) }
}

/// `void *filterjit_result_data(const filterjit_result *)`: a new array's elements, C-contiguous, valid while
/// the result lives.
@_cdecl("filterjit_result_data")
public func filterjit_result_data(_ result: OpaquePointer?) -> UnsafeMutableRawPointer? {
    arrayResultBox(result)?.array?.firstElementPointer
}

/// `void filterjit_result_free(filterjit_result *)`.
@_cdecl("filterjit_result_free")
public func filterjit_result_free(_ result: OpaquePointer?) {
    guard let result else { return }
    Unmanaged<ArrayResultBox>.fromOpaque(UnsafeRawPointer(result)).release()
}

/// `int filterjit_array_function_call_packed(function, count, words, word_count, engine, out, error)`: the same call
/// with every argument in one buffer of int64 words (one buffer instead of eight: what a Python call costs is
/// mostly the buffers it builds). Per argument: its kind, then for an array its dtype, rank, data pointer,
/// shape[rank] and byte strides[rank]; for an int or a bool its value; for a float its bits. On success `out`
/// (at least `8 + 32` words) holds [0] the result kind, [1] an int/bool value or a float's bits, [2] for an array
/// the argument's index or -1, [3] a new array's dtype, [4] its rank, [5] its data pointer, [6] the result handle
/// that owns it (the caller frees it; 0 for every other result, whose handle is freed here), [8...] its shape.
@_cdecl("filterjit_array_function_call_packed")
public func filterjit_array_function_call_packed(_ function: OpaquePointer?, _ count: Int, _ words: UnsafePointer<Int64>?,
                                                 _ wordCount: Int, _ engine: Int32, _ out: UnsafeMutablePointer<Int64>?,
                                                 _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // The words are copied (a few hundred bytes): the machine code reads each array's descriptor straight from the
    // copy, which nothing else can change while it runs.
    // (Clamped: the counts are checked below, before anything is read or written.)
    let copy = UnsafeMutablePointer<Int64>.allocate(capacity: min(max(wordCount, 1), 1 << 24))
    defer { copy.deallocate() }
    let pointers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: min(max(count, 1), 1 << 16))
    defer { pointers.deallocate() }
    var types: [ArrayFunctionArgumentType] = []
    let status = withStatus(errorText) {
        guard let box = arrayFunctionBox(function) else { throw APIFailure(.argument, "function is NULL") }
        guard count >= 0, count <= 1 << 16 else { throw APIFailure(.argument, "argument count \(count) is out of range") }
        guard let out else { throw APIFailure(.argument, "out is NULL") }
        guard wordCount >= 0, wordCount <= 1 << 24, count == 0 || words != nil else { throw APIFailure(.argument, "words is NULL") }
        guard engine == 0 || engine == 1 else { throw APIFailure(.argument, "engine \(engine) is not 0 (JIT) or 1 (interpreter)") }
        if wordCount > 0, let words { copy.update(from: words, count: wordCount) }
        types.reserveCapacity(count)
        var position = 0
        func next(_ k: Int) throws -> Int64 {
            guard position < wordCount else { throw APIFailure(.argument, "argument \(k): the words end early") }
            position += 1
            return copy[position - 1]
        }
        for k in 0..<count {
            let kind = try next(k)
            switch kind {
            case 0:
                let code = try next(k), rank = Int(truncatingIfNeeded: try next(k))
                guard (0...32).contains(rank) else { throw APIFailure(.argument, "argument \(k): rank \(rank) is out of range 0...32") }
                guard code >= 0, code < Int64(packedElementTypes.count), let (type, dtype) = packedElementTypes[Int(code)] else {
                    throw APIFailure(.argument, "argument \(k): unknown element type code \(code)")
                }
                let descriptor = copy + position
                _ = try next(k)
                guard position + 2 * rank <= wordCount else { throw APIFailure(.argument, "argument \(k): the words end early") }
                let shape = (0..<rank).map { Int(descriptor[1 + $0]) }
                let elements = try NDArray.checkedElementCount(shape: shape, itemSize: type.itemSize)
                if descriptor[0] == 0 {
                    guard elements == 0 else { throw APIFailure(.argument, "argument \(k): data is NULL") }
                    descriptor[0] = 16  // no element is ever read
                }
                // Every extent, their sums and the span fit an Int (the call below then computes them unchecked).
                _ = try byteSpan(shape: elements > 0 ? shape : [], strides: (0..<rank).map { Int(descriptor[1 + rank + $0]) },
                                 itemSize: type.itemSize, argument: k)
                position += 2 * rank
                pointers[k] = UnsafeMutableRawPointer(descriptor)
                types.append(.array(NDLayout(dtype: dtype, rank: rank)))
            case 1, 2, 3:
                pointers[k] = UnsafeMutableRawPointer(copy + position)
                let value = try next(k)
                if kind == 3 { copy[position - 1] = value != 0 ? 1 : 0 }
                types.append(kind == 1 ? .int : kind == 2 ? .float : .bool)
            default:
                throw APIFailure(.argument, "argument \(k) has the unknown kind \(kind)")
            }
        }
        for index in 0..<8 { out[index] = 0 }
        if engine == 1 {
            // The interpreter: the general call (it reads the same words).
            try fillPacked(out, interpreted: box, count: count, copy: copy, types: types)
            return
        }
        let value: ArrayFunction.RawResult
        do {
            value = try box.function.callDescriptors(types, pointers: pointers)
        } catch let error as CompileError {
            throw APIFailure(.compile, error.description)
        } catch let error as KernelRuntimeError {
            throw APIFailure(.kernel, "\(box.function.name): \(box.function.describe(error))")
        }
        switch value {
        case .argument(let k):
            out[0] = 4
            out[2] = Int64(k)
        case .value(let result):
            fill(out, with: result)
        }
    }
    return status
}

/// Where a NumPy array object (`PyArrayObject`) keeps its fields, as byte offsets from the object's address, and
/// the writeable flag's bit; set once by `filterjit_set_array_object_layout` (the Python package checks them on
/// probe arrays first). Nil until then: `filterjit_array_function_call_objects` refuses to run.
private struct ArrayObjectLayout {
    var data, rank, shape, strides, descr, flags: Int
    var writeable: Int32
    /// CPython's `PyEval_SaveThread`/`PyEval_RestoreThread` (nil for C callers): the call reads the objects with
    /// the GIL held (no other thread can reshape them meanwhile) and releases it only around the run.
    var saveThread: (@convention(c) () -> UnsafeMutableRawPointer?)?
    var restoreThread: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
}
nonisolated(unsafe) private var arrayObjectLayout: ArrayObjectLayout?

/// `void filterjit_set_array_object_layout(intptr_t data, intptr_t nd, intptr_t dimensions, intptr_t strides,
/// intptr_t descr, intptr_t flags, int writeable, void *save_thread, void *restore_thread)`: the offsets of NumPy's
/// `PyArrayObject_fields` members (`char *data`, `int nd`, `npy_intp *dimensions`, `npy_intp *strides`,
/// `PyArray_Descr *descr`, `int flags`),
/// the NPY_ARRAY_WRITEABLE bit, and CPython's `PyEval_SaveThread`/`PyEval_RestoreThread` (NULL from C: no GIL). With
/// them, `filterjit_array_function_call_objects` must be called with the GIL held (ctypes.PyDLL): it reads the
/// objects first, then releases the GIL around the run. Call it once, before any such call (not thread-safe with them).
@_cdecl("filterjit_set_array_object_layout")
public func filterjit_set_array_object_layout(_ data: Int, _ rank: Int, _ shape: Int, _ strides: Int, _ descr: Int, _ flags: Int,
                                              _ writeable: Int32, _ saveThread: UnsafeRawPointer?, _ restoreThread: UnsafeRawPointer?) {
    let offsets = [data, rank, shape, strides, descr, flags]
    guard offsets.allSatisfy({ (0...4096).contains($0) }), (saveThread == nil) == (restoreThread == nil) else { arrayObjectLayout = nil; return }
    arrayObjectLayout = ArrayObjectLayout(
        data: data, rank: rank, shape: shape, strides: strides, descr: descr, flags: flags, writeable: writeable,
        saveThread: saveThread.map { unsafeBitCast($0, to: (@convention(c) () -> UnsafeMutableRawPointer?).self) },
        restoreThread: restoreThread.map { unsafeBitCast($0, to: (@convention(c) (UnsafeMutableRawPointer?) -> Void).self) })
}

/// `int filterjit_array_function_call_objects(function, count, words, word_count, engine, out)`: the packed
/// call where an array argument may also be given as kind 4, its dtype code, the address of a live NumPy array
/// object (what Python's `id(a)` is) and the address of the dtype object the code was read from (`id(a.dtype)`): its
/// rank, data pointer, shape and strides are read from the object (the layout given to
/// `filterjit_set_array_object_layout`); an object whose dtype is no longer that one (another thread set `a.dtype`
/// after the code was read) and a read-only array are refused (FILTERJIT_ERROR_ARGUMENT).
/// For the Python package, which holds the arrays for the call: the addresses are trusted as the data pointers of
/// the packed call are. Then the same as `filterjit_array_function_call_packed` (the same checks and `out`), except
/// that a failure's message is in out[7] (a `char *` to free with `filterjit_string_free`; one argument less to pass).
@_cdecl("filterjit_array_function_call_objects")
public func filterjit_array_function_call_objects(_ function: OpaquePointer?, _ count: Int, _ words: UnsafePointer<Int64>?,
                                                  _ wordCount: Int, _ engine: Int32, _ out: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard let out else { return Status.argument.rawValue }
    var errorText: UnsafeMutablePointer<CChar>?
    var expanded: [Int64] = []
    let layout = arrayObjectLayout  // read once: the GIL is released and re-acquired with the same functions
    let status = withStatus(&errorText) {
        guard let layout else { throw APIFailure(.argument, "filterjit_set_array_object_layout was not called") }
        guard count >= 0, count <= 1 << 16, wordCount >= 0, wordCount <= 1 << 24, count == 0 || words != nil else {
            throw APIFailure(.argument, "argument count \(count) or word count \(wordCount) is out of range")
        }
        expanded.reserveCapacity(wordCount + 8 * count)
        var position = 0
        func next(_ k: Int) throws -> Int64 {
            guard position < wordCount, let words else { throw APIFailure(.argument, "argument \(k): the words end early") }
            position += 1
            return words[position - 1]
        }
        for k in 0..<count {
            let kind = try next(k)
            switch kind {
            case 4:
                let code = try next(k), address = try next(k), descr = try next(k)
                guard let object = UnsafeRawPointer(bitPattern: Int(truncatingIfNeeded: address)) else {
                    throw APIFailure(.argument, "argument \(k + 1): the array object is NULL")
                }
                guard object.load(fromByteOffset: layout.descr, as: Int.self) == Int(truncatingIfNeeded: descr) else {
                    throw APIFailure(.argument, "argument \(k + 1): the array's dtype changed during the call")
                }
                guard object.load(fromByteOffset: layout.flags, as: Int32.self) & layout.writeable != 0 else {
                    throw APIFailure(.argument, "argument \(k + 1): the array is read-only; array functions may write into their "
                                     + "arguments, so pass a writable array (e.g. a copy)")
                }
                let rank = Int(object.load(fromByteOffset: layout.rank, as: Int32.self))
                guard (0...32).contains(rank) else { throw APIFailure(.argument, "argument \(k + 1): rank \(rank) is out of range 0...32") }
                let data = object.load(fromByteOffset: layout.data, as: Int.self)
                expanded += [0, code, Int64(rank), Int64(data)]
                if rank > 0 {
                    guard let shape = UnsafePointer<Int>(bitPattern: object.load(fromByteOffset: layout.shape, as: Int.self)),
                          let strides = UnsafePointer<Int>(bitPattern: object.load(fromByteOffset: layout.strides, as: Int.self)) else {
                        throw APIFailure(.argument, "argument \(k + 1): the array has no shape or strides")
                    }
                    for axis in 0..<rank { expanded.append(Int64(shape[axis])) }
                    for axis in 0..<rank { expanded.append(Int64(strides[axis])) }
                }
            case 0:
                let code = try next(k), rank = try next(k)
                guard (0...32).contains(rank) else { throw APIFailure(.argument, "argument \(k): rank \(rank) is out of range 0...32") }
                expanded += [0, code, rank, try next(k)]
                for _ in 0..<(2 * rank) { expanded.append(try next(k)) }
            case 1, 2, 3:
                expanded += [kind, try next(k)]
            default:
                throw APIFailure(.argument, "argument \(k) has the unknown kind \(kind)")
            }
        }
    }
    // The objects were read (with the GIL held when Python calls); the run sees only the copied words.
    let thread = status == Status.ok.rawValue ? layout?.saveThread?() : nil
    let result = status != Status.ok.rawValue ? status : expanded.withUnsafeBufferPointer {
        filterjit_array_function_call_packed(function, count, $0.baseAddress, $0.count, engine, out, &errorText)
    }
    if let thread { layout?.restoreThread?(thread) }
    if result != Status.ok.rawValue { out[7] = Int64(Int(bitPattern: errorText)) }
    return result
}

/// What a kernel handle of `filterjit_array_function_kernel` points to: the compiled code of one signature, and the
/// function it belongs to (for the messages of failures).
final class ArrayKernelBox {
    let function: ArrayFunctionBox
    let kernel: Kernel

    init(function: ArrayFunctionBox, kernel: Kernel) {
        self.function = function
        self.kernel = kernel
    }
}

/// `filterjit_array_kernel *filterjit_array_function_kernel(function, count, kinds, dtypes, ranks, info, status, error)`:
/// the machine code of the signature whose arguments are `kinds[k]` (FILTERJIT_ARGUMENT_*) and, for an array,
/// `dtypes[k]` (FILTERJIT_*) and `ranks[k]`; compiled now if it is new (FILTERJIT_ERROR_COMPILE then as for a call).
/// `info` (4 words) receives [0] the address of `int f(void **arguments, void *result, void *arena)`, [1] the
/// FILTERJIT_RESULT_* kind of what it returns, [2] a new array result's FILTERJIT_* dtype (-1 otherwise), [3] its
/// rank. For callers that lay the arguments out and run the code themselves (the Python package's C extension):
/// see include/filterjit.h for the contract. Free the handle with `filterjit_array_kernel_free`.
@_cdecl("filterjit_array_function_kernel")
public func filterjit_array_function_kernel(_ function: OpaquePointer?, _ count: Int, _ kinds: UnsafePointer<Int32>?,
                                            _ dtypes: UnsafePointer<Int32>?, _ ranks: UnsafePointer<Int32>?,
                                            _ info: UnsafeMutablePointer<Int64>?, _ status: UnsafeMutablePointer<Int32>?,
                                            _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> OpaquePointer? {
    var handle: OpaquePointer?
    let code = withStatus(errorText) {
        guard let box = arrayFunctionBox(function) else { throw APIFailure(.argument, "function is NULL") }
        guard count >= 0, count <= 1 << 16 else { throw APIFailure(.argument, "argument count \(count) is out of range") }
        guard let info, count == 0 || kinds != nil else { throw APIFailure(.argument, "info or kinds is NULL") }
        var types: [ArrayFunctionArgumentType] = []
        for k in 0..<count {
            switch kinds![k] {
            case 0:
                guard let dtypes, let ranks else { throw APIFailure(.argument, "argument \(k) is an array but dtypes or ranks is NULL") }
                let rank = Int(ranks[k])
                guard (0...32).contains(rank) else { throw APIFailure(.argument, "argument \(k): rank \(rank) is out of range 0...32") }
                guard dtypes[k] >= 0, Int(dtypes[k]) < packedElementTypes.count, let (_, dtype) = packedElementTypes[Int(dtypes[k])] else {
                    throw APIFailure(.argument, "argument \(k): unknown element type code \(dtypes[k])")
                }
                types.append(.array(NDLayout(dtype: dtype, rank: rank)))
            case 1: types.append(.int)
            case 2: types.append(.float)
            case 3: types.append(.bool)
            default: throw APIFailure(.argument, "argument \(k) has the unknown kind \(kinds![k])")
            }
        }
        let kernel: Kernel
        do {
            kernel = try box.function.compiledKernel(for: types)
        } catch let error as CompileError {
            throw APIFailure(.compile, error.description)
        }
        let program = kernel.program
        var resultDType: Int64 = -1, resultRank: Int64 = 0
        let kind: Int64
        switch program.kernel.returnType {
        case nil: kind = 0
        case .int?: kind = 1
        case .float?: kind = 2
        case .bool?: kind = 3
        case .uint64?: kind = 5
        case .ndarray?:
            kind = 4
            if let layout = program.resultLayout, let type = ElementType(rawValue: layout.dtype.rawValue) {
                resultDType = Int64(type.abiCode.rawValue)
                resultRank = Int64(layout.rank)
            }
        default:
            throw APIFailure(.internal, "\(box.function.name): unexpected result type")
        }
        info[0] = Int64(bitPattern: UInt64(try kernel.address))
        info[1] = kind
        info[2] = resultDType
        info[3] = resultRank
        handle = OpaquePointer(Unmanaged.passRetained(ArrayKernelBox(function: box, kernel: kernel)).toOpaque())
    }
    status?.pointee = code
    return handle
}

/// `void filterjit_array_kernel_free(filterjit_array_kernel *)`. NULL is ignored.
@_cdecl("filterjit_array_kernel_free")
public func filterjit_array_kernel_free(_ kernel: OpaquePointer?) {
    guard let kernel else { return }
    Unmanaged<ArrayKernelBox>.fromOpaque(UnsafeRawPointer(kernel)).release()
}

/// `char *filterjit_array_kernel_error(const filterjit_array_kernel *, int reason)`: the message of a failed run, as
/// the call functions give it (FILTERJIT_ERROR_KERNEL, "addarr: index 5 is out of bounds ... at line 4, column 21"):
/// reason 0, the failure the machine code recorded on this thread; 1, an array result whose descriptor is NULL; 2, an
/// array result that is neither an argument nor in the arena. Free it with `filterjit_string_free`.
@_cdecl("filterjit_array_kernel_error")
public func filterjit_array_kernel_error(_ kernel: OpaquePointer?, _ reason: Int32) -> UnsafeMutablePointer<CChar>? {
    guard let kernel else { return copyCString("kernel is NULL") }
    let box = Unmanaged<ArrayKernelBox>.fromOpaque(UnsafeRawPointer(kernel)).takeUnretainedValue()
    let function = box.function.function, range = box.kernel.program.kernel.range
    let error: KernelRuntimeError
    switch reason {
    case 1: error = KernelRuntimeError("the function returned no array", at: range)
    case 2: error = KernelRuntimeError("the returned array is not one the function made", at: range)
    default: error = function.lastFailure(of: box.kernel)
    }
    return copyCString("\(function.name): \(function.describe(error))")
}

/// `void filterjit_array_arena_release(void *arena)`: frees every block left in an arena head (two words) after a
/// run of a kernel's machine code, and zeroes the head. NULL is ignored.
@_cdecl("filterjit_array_arena_release")
public func filterjit_array_arena_release(_ arena: UnsafeMutableRawPointer?) {
    guard let arena else { return }
    ArrayFunction.releaseArena(arena)
}

/// `void *filterjit_array_arena_detach(void *arena, void *descriptor)`: takes the new array whose descriptor is
/// `descriptor` (the result word of an ARRAY run) out of the arena; returns its block (free it with `free`), or NULL
/// when the arena holds no such block.
@_cdecl("filterjit_array_arena_detach")
public func filterjit_array_arena_detach(_ arena: UnsafeMutableRawPointer?, _ descriptor: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let arena, let descriptor else { return nil }
    return ArrayFunction.detachFromArena(arena, payload: descriptor)
}

/// Element type and dtype by FILTERJIT_* code (nil: not an element type), computed once: the names are strings,
/// and matching them costs more than the rest of a packed call's parsing.
private let packedElementTypes: [(ElementType, ArrayDType)?] = (0..<32).map { code in
    guard let type = try? elementType(code: Int32(code)), let dtype = ArrayDType(rawValue: type.rawValue) else { return nil }
    return (type, dtype)
}

/// `out` of a packed call for `result` (a new array's handle is retained in out[6]).
private func fill(_ out: UnsafeMutablePointer<Int64>, with result: ArrayFunctionResult) {
    out[2] = -1
    switch result {
    case .none: out[0] = 0
    case .int(let x): out[0] = 1; out[1] = x
    case .float(let x): out[0] = 2; out[1] = Int64(bitPattern: x.bitPattern)
    case .uint64(let x): out[0] = 5; out[1] = Int64(bitPattern: x)
    case .bool(let x): out[0] = 3; out[1] = x ? 1 : 0
    case .array(let array):
        out[0] = 4
        out[3] = Int64(array.elementType.abiCode.rawValue)
        out[4] = Int64(array.rank)
        out[5] = Int64(Int(bitPattern: array.firstElementPointer))
        out[6] = Int64(Int(bitPattern: Unmanaged.passRetained(ArrayResultBox(kind: 4, array: array)).toOpaque()))
        for axis in 0..<array.rank { out[8 + axis] = Int64(array.shape[axis]) }
    }
}

/// The interpreter's packed call: the arguments as `NDArray`s over the same memory, through `call`.
private func fillPacked(_ out: UnsafeMutablePointer<Int64>, interpreted box: ArrayFunctionBox, count: Int,
                        copy: UnsafeMutablePointer<Int64>, types: [ArrayFunctionArgumentType]) throws {
    var arguments: [ArrayFunctionArgument] = []
    var position = 0
    for type in types {
        position += 1  // the kind
        switch type {
        case .array(let layout):
            position += 2
            let descriptor = copy + position
            let rank = layout.rank
            let elementType = ElementType(rawValue: layout.dtype.rawValue) ?? .float64
            let shape = (0..<rank).map { Int(descriptor[1 + $0]) }
            let strides = (0..<rank).map { Int(descriptor[1 + rank + $0]) }
            let (low, high) = try byteSpan(shape: shape, strides: strides, itemSize: elementType.itemSize, argument: arguments.count)
            let base = UnsafeMutableRawPointer(bitPattern: Int(descriptor[0]))!
            let storage = try NDArrayStorage(borrowing: base + low, byteCount: high - low + elementType.itemSize)
            arguments.append(.array(try NDArray(storage: storage, elementType: elementType, shape: shape, strides: strides, byteOffset: -low)))
            position += 1 + 2 * rank
        case .int: arguments.append(.int(copy[position])); position += 1
        case .float: arguments.append(.float(Double(bitPattern: UInt64(bitPattern: copy[position])))); position += 1
        case .bool: arguments.append(.bool(copy[position] != 0)); position += 1
        }
    }
    let value: ArrayFunctionResult
    do {
        value = try box.function.call(arguments, engine: .interpreter)
    } catch let error as CompileError {
        throw APIFailure(.compile, error.description)
    } catch let error as KernelRuntimeError {
        throw APIFailure(.kernel, "\(box.function.name): \(box.function.describe(error))")
    }
    if case .array(let array) = value,
       let index = arguments.firstIndex(where: { if case .array(let a) = $0 { return a === array } else { return false } }) {
        out[0] = 4
        out[2] = Int64(index)
        return
    }
    fill(out, with: value)
}

/// The byte offsets of an array's lowest and highest element from its base (`low` <= 0 <= `high`), and a
/// `.size` failure when an extent, their sum or the span overflows an Int (hostile strides).
func byteSpan(shape: [Int], strides: [Int], itemSize: Int, argument k: Int) throws -> (low: Int, high: Int) {
    var low = 0, high = 0
    guard !shape.contains(0) else { return (0, 0) }
    for (length, stride) in zip(shape, strides) {
        let extent = (length - 1).multipliedReportingOverflow(by: stride)
        guard !extent.overflow else { throw APIFailure(.size, "argument \(k): strides overflow") }
        let sum = extent.partialValue < 0 ? low.addingReportingOverflow(extent.partialValue) : high.addingReportingOverflow(extent.partialValue)
        guard !sum.overflow else { throw APIFailure(.size, "argument \(k): strides overflow") }
        if extent.partialValue < 0 { low = sum.partialValue } else { high = sum.partialValue }
    }
    let span = high.subtractingReportingOverflow(low)
    guard !span.overflow, !span.partialValue.addingReportingOverflow(itemSize).overflow else {
        throw APIFailure(.size, "argument \(k): strides overflow")
    }
    return (low, high)
}
