// Array functions (issue 15): `Engine.compileFunction` and the typed callable over `NDArray`s. Each call
// signature (argument dtypes and ranks, scalar types) is checked and compiled once, cached like every
// kernel (memory and disk) under `KernelVariant.arrayFunction`.

import Foundation
import FilterLang
import FilterParser
import FilterInterpreter
import FilterCodegen
import NDImage

/// An argument of an array-function call.
public enum ArrayFunctionArgument: @unchecked Sendable {
    /// An array of any dtype, rank and layout (strides of any sign); the function may write into it.
    case array(NDArray)
    /// An int (int64).
    case int(Int64)
    /// A float (float64).
    case float(Double)
    /// A bool.
    case bool(Bool)

    /// Its type in a signature.
    public var type: ArrayFunctionArgumentType {
        switch self {
        case .array(let array):
            return .array(NDLayout(dtype: ArrayFunction.dtype(of: array.elementType), rank: array.rank))
        case .int: return .int
        case .float: return .float
        case .bool: return .bool
        }
    }
}

/// What an array function returned.
public enum ArrayFunctionResult: @unchecked Sendable {
    /// `return`, `return None` or no return.
    case none
    case int(Int64)
    /// A uint64 value (an element of a uint64 array, or arithmetic between two; Numba returns it as an int).
    case uint64(UInt64)
    case float(Double)
    case bool(Bool)
    /// A new C-contiguous array, or the argument array the function returned.
    case array(NDArray)
}

/// Which back end runs an array function.
public enum ArrayFunctionEngine: String, Sendable, CaseIterable {
    /// Machine code compiled per signature.
    case jit
    /// The reference interpreter (the oracle the JIT must agree with).
    case interpreter
}

/// An array function (`@array_function`, `@jit`, or an undecorated def): compiled per call signature on
/// first call with it, as Numba's dispatcher does. Thread-safe.
public final class ArrayFunction: @unchecked Sendable {
    /// The function's name.
    public let name: String
    /// The source text.
    public let source: SourceFile
    /// The requested function (nil: the last `def`).
    public let function: String?
    /// Whether the machine code checks every index (false only for `boundscheck=False`).
    public let boundsChecked: Bool
    let engine: Engine
    private let lock = NSLock()
    private var compiled: [ArrayFunctionSignature] = []
    /// The kernel of each signature compiled so far (as Numba's dispatcher keeps its overloads): a call with a
    /// known signature is one dictionary lookup, with no digest of the source.
    private var kernels: [ArrayFunctionSignature: Kernel] = [:]

    init(engine: Engine, source: SourceFile, function: String?, name: String, boundsChecked: Bool) {
        self.engine = engine
        self.boundsChecked = boundsChecked
        self.source = source
        self.function = function
        self.name = name
    }

    /// The signatures compiled so far, in order of first use.
    public var signatures: [ArrayFunctionSignature] {
        lock.lock()
        defer { lock.unlock() }
        return compiled
    }

    /// The NumPy dtype of an NDImage element type.
    static func dtype(of elementType: ElementType) -> ArrayDType {
        ArrayDType(rawValue: elementType.rawValue) ?? .float64
    }

    /// The kernel (checked program and machine code) for `signature`, compiled now if it is new.
    public func kernel(for signature: ArrayFunctionSignature) throws -> Kernel {
        lock.lock()
        if let known = kernels[signature] {
            lock.unlock()
            return known
        }
        lock.unlock()
        let key = KernelSignature(source: source.text, function: function, kind: .arrayFunction, variant: .arrayFunction(signature))
        let kernel = try engine.cache.kernel(for: key) {
            let (program, timings) = try CompilePipeline.frontEnd(source, function: function, arraySignature: signature)
            let symbol = Engine.symbol(for: key, name: program.kernel.name + Engine.symbolSuffix(key.variant))
            let code = try CompilePipeline.backEnd(program, variant: key.variant, signature: key, symbol: symbol,
                                                   generator: engine.generator)
            return engine.makeKernel(program, source: source, signature: key, frontEndTimings: timings, code: code)
        }
        lock.lock()
        if kernels[signature] == nil {
            kernels[signature] = kernel
            compiled.append(signature)
        }
        lock.unlock()
        return kernel
    }

    /// The optimised LLVM IR of the code for `signature` (compiled if new).
    public func inspectIR(for signature: ArrayFunctionSignature) throws -> String {
        try kernel(for: signature).optimizedIR
    }

    /// Calls the function: compiles it for the arguments' signature on first use, then runs it. A run-time
    /// failure (an index out of bounds ...) is thrown as `KernelRuntimeError`; `describe` adds its line.
    public func call(_ arguments: [ArrayFunctionArgument], engine backEnd: ArrayFunctionEngine = .jit) throws -> ArrayFunctionResult {
        let signature = ArrayFunctionSignature(arguments.map(\.type), boundsChecked: boundsChecked)
        let kernel = try kernel(for: signature)
        switch backEnd {
        case .jit: return try runCompiled(kernel, arguments)
        case .interpreter: return try interpret(kernel.program, arguments)
        }
    }

    /// "index 10 is out of bounds ... at line 4, column 21".
    public func describe(_ error: KernelRuntimeError) -> String {
        let location = source.location(of: error.range.start)
        return "\(error.message) at line \(location.line), column \(location.column)"
    }

    private static func view(of array: NDArray) -> NDArrayView {
        NDArrayView(data: array.firstElementPointer, dtype: dtype(of: array.elementType), shape: array.shape, strides: array.strides)
    }

    private func interpret(_ program: TypedProgram, _ arguments: [ArrayFunctionArgument]) throws -> ArrayFunctionResult {
        let values: [ArrayFunctionValue] = arguments.map { argument in
            switch argument {
            case .array(let array): return .array(Self.view(of: array))
            case .int(let x): return .int(x)
            case .float(let x): return .float(x)
            case .bool(let x): return .bool(x)
            }
        }
        let result = try withExtendedLifetime(arguments) { try Interpreter(program: program).runArrayFunction(values) }
        switch result {
        case .none: return .none
        case .int(let x) where program.kernel.returnType == .uint64: return .uint64(UInt64(bitPattern: x))
        case .int(let x): return .int(x)
        case .float(let x): return .float(x)
        case .bool(let x): return .bool(x)
        case .buffer(let buffer):
            let storage = try NDArrayStorage(borrowing: buffer.data ?? UnsafeMutableRawPointer(bitPattern: 16)!,
                                             byteCount: buffer.byteCount, owner: buffer)
            return .array(try NDArray(storage: storage, elementType: ElementType(rawValue: buffer.dtype.rawValue) ?? .float64,
                                      shape: buffer.shape, strides: buffer.strides, byteOffset: 0))
        case .array(let view):
            // The function returned one of its arguments: give back that array.
            for argument in arguments {
                if case .array(let array) = argument, array.firstElementPointer == view.data, array.shape == view.shape,
                   array.strides == view.strides { return .array(array) }
            }
            throw KernelRuntimeError("the returned array is not an argument", at: program.kernel.range)
        }
    }

    private func runCompiled(_ kernel: Kernel, _ arguments: [ArrayFunctionArgument]) throws -> ArrayFunctionResult {
        // One block of 8-byte words: each argument's descriptor or scalar.
        var wordCount = 0
        for argument in arguments {
            if case .array(let array) = argument { wordCount += 1 + 2 * array.rank } else { wordCount += 1 }
        }
        let words = UnsafeMutablePointer<Int64>.allocate(capacity: max(wordCount, 1))
        words.initialize(repeating: 0, count: max(wordCount, 1))
        defer { words.deallocate() }
        let pointers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: max(arguments.count, 1))
        defer { pointers.deallocate() }
        var position = 0
        for (k, argument) in arguments.enumerated() {
            let slot = words + position
            pointers[k] = UnsafeMutableRawPointer(slot)
            switch argument {
            case .array(let array):
                slot[0] = Int64(Int(bitPattern: array.firstElementPointer))
                for axis in 0..<array.rank {
                    slot[1 + axis] = Int64(array.shape[axis])
                    slot[1 + array.rank + axis] = Int64(array.strides[axis])
                }
                position += 1 + 2 * array.rank
            case .int(let x): slot[0] = x; position += 1
            case .float(let x): UnsafeMutableRawPointer(slot).storeBytes(of: x, as: Double.self); position += 1
            case .bool(let x): UnsafeMutableRawPointer(slot).storeBytes(of: x ? 1 : 0, as: UInt8.self); position += 1
            }
        }
        let result = try withExtendedLifetime(arguments) { try run(kernel, pointers: pointers, count: arguments.count) }
        switch result {
        case .value(let value): return value
        case .argument(let k): return argumentResult(arguments[k])
        }
    }

    /// What `run` returns: a value, or the index of the argument array the function returned.
    public enum RawResult {
        case value(ArrayFunctionResult)
        case argument(Int)
    }

    /// Calls the function on arguments already laid out as its machine code reads them (`pointers[k]` points at
    /// argument k: an array's descriptor, int64 words `data, shape[rank], byte strides[rank]`; an int64; a
    /// double; a bool byte), with `types` their signature: compiles it for that signature on first use. The
    /// caller guarantees what `call` checks: each array's elements lie in memory it may read and write, extents
    /// are not negative, and the descriptors do not change during the call (the C API's packed call checks them).
    public func callDescriptors(_ types: [ArrayFunctionArgumentType],
                                pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws -> RawResult {
        let kernel = try kernel(for: ArrayFunctionSignature(types, boundsChecked: boundsChecked))
        return try run(kernel, pointers: pointers, count: types.count)
    }

    /// The kernel of the signature `types`, its machine code compiled now if it is new, for a caller that runs the
    /// machine code itself (the C API's `filterjit_array_function_kernel`, which the Python package's C extension
    /// calls once per signature): `int f(void **arguments, void *result, void *arena)` at `kernel.address`, with the
    /// arguments laid out as `callDescriptors` takes them (the same guarantees), an 8-byte result word and a zeroed
    /// two-word arena head. Status 1 is success; otherwise `lastFailure(of:)` on the same thread says why. Arrays
    /// the function made stay in the arena: `detachFromArena` takes the returned one out, `releaseArena` frees
    /// the rest, on every exit.
    public func compiledKernel(for types: [ArrayFunctionArgumentType]) throws -> Kernel {
        let kernel = try kernel(for: ArrayFunctionSignature(types, boundsChecked: boundsChecked))
        _ = try kernel.address
        return kernel
    }

    /// Why the last run of `kernel`'s machine code on this thread failed (what `call` throws then).
    public func lastFailure(of kernel: Kernel) -> KernelRuntimeError { kernel.lastError() }

    /// Frees every block of an arena head (two words) a run of the machine code left, and zeroes the head.
    public static func releaseArena(_ head: UnsafeMutableRawPointer) { Arena.release(head) }

    /// Unlinks the new array whose descriptor is `payload` from an arena head and returns its malloc'd block
    /// (descriptor, then elements; free it with `free`), or nil when no block of the arena holds it.
    public static func detachFromArena(_ head: UnsafeMutableRawPointer, payload: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        Arena.detach(head, payload: payload)
    }

    private typealias Entry = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutableRawPointer?,
                                              UnsafeMutableRawPointer?) -> Int32

    /// Runs `kernel`'s machine code on laid-out arguments (`callDescriptors`).
    private func run(_ kernel: Kernel, pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>, count: Int) throws -> RawResult {
        let entry = unsafeBitCast(UnsafeRawPointer(bitPattern: try kernel.address)!, to: Entry.self)
        // The result word, then the arena head (two words).
        var state: (Int64, Int64, Int64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &state) { buffer -> RawResult in
            let result = buffer.baseAddress!
            let arena = buffer.baseAddress! + 8
            let status = withExtendedLifetime(kernel) { entry(pointers, result, arena) }
            defer { Arena.release(arena) }
            guard status == 1 else { throw kernel.lastError() }
            switch kernel.program.kernel.returnType {
            case nil: return .value(.none)
            case .int?: return .value(.int(result.load(as: Int64.self)))
            case .uint64?: return .value(.uint64(UInt64(bitPattern: result.load(as: Int64.self))))
            case .float?: return .value(.float(result.load(as: Double.self)))
            case .bool?: return .value(.bool(result.load(as: UInt8.self) != 0))
            case .ndarray?:
                guard let layout = kernel.program.resultLayout,
                      let descriptor = UnsafeMutableRawPointer(bitPattern: Int(result.load(as: Int64.self))) else {
                    throw KernelRuntimeError("the function returned no array", at: kernel.program.kernel.range)
                }
                for k in 0..<count where pointers[k] == descriptor { return .argument(k) }
                guard let block = Arena.detach(arena, payload: descriptor) else {
                    throw KernelRuntimeError("the returned array is not one the function made", at: kernel.program.kernel.range)
                }
                let owner = MallocBlock(block)
                let descriptorWords = descriptor.assumingMemoryBound(to: Int.self)
                let shape = (0..<layout.rank).map { descriptorWords[1 + $0] }
                let strides = (0..<layout.rank).map { descriptorWords[1 + layout.rank + $0] }
                let count = shape.reduce(1, *)
                let data = UnsafeMutableRawPointer(bitPattern: descriptorWords[0])!
                let storage = try NDArrayStorage(borrowing: data, byteCount: count * layout.dtype.itemSize, owner: owner)
                return .value(.array(try NDArray(storage: storage, elementType: ElementType(rawValue: layout.dtype.rawValue) ?? .float64,
                                                 shape: shape, strides: strides, byteOffset: 0)))
            default:
                throw KernelRuntimeError("unexpected result type", at: kernel.program.kernel.range)
            }
        }
    }

    private func argumentResult(_ argument: ArrayFunctionArgument) -> ArrayFunctionResult {
        switch argument {
        case .array(let array): return .array(array)
        case .int(let x): return .int(x)
        case .float(let x): return .float(x)
        case .bool(let x): return .bool(x)
        }
    }
}

/// A malloc'd block freed with its owner (an array function's result taken out of the call's arena).
final class MallocBlock: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
    deinit { free(pointer) }
}

extension Engine {
    /// An array function of `source` (`function`, default the last `def`; decorated `@array_function`/`@jit`
    /// or undecorated): checked and compiled per call signature when called (`ArrayFunction.call`).
    /// Syntax errors are thrown now as `CompileError`; `lineOffset` is added to every line number reported.
    /// `boundsChecked: false` is Numba's `boundscheck=False`: the machine code trusts every index (one out of
    /// bounds is then undefined behaviour); it is the only way to lose the checks.
    public func compileFunction(_ source: String, function: String? = nil, fileName: String = "<function>",
                                lineOffset: Int = 0, boundsChecked: Bool = true) throws -> ArrayFunction {
        let file = SourceFile(name: fileName, text: source, lineOffset: max(0, lineOffset))
        let parsed = Parser.parse(file)
        if !parsed.diagnostics.isEmpty { throw CompileError(file: file, diagnostics: parsed.diagnostics) }
        var names: [String] = []
        for item in parsed.module.items {
            if case .function(let definition) = item { names.append(definition.name) }
        }
        guard let name = function ?? names.last else {
            throw CompileError(file: file, diagnostics: [.error("no function definition ('def') in the source", at: .none)])
        }
        guard names.contains(name) else {
            throw CompileError(file: file, diagnostics: [.error("no function named '\(name)' in this file", at: .none)])
        }
        return ArrayFunction(engine: self, source: file, function: name, name: name, boundsChecked: boundsChecked)
    }
}
