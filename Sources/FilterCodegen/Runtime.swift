// The run-time support generated code calls: failure reporting, local-array memory,
// and the reductions too intricate to inline. Registered in the JIT as absolute symbols.

import Foundation
import FilterLang
import FilterInterpreter

/// Why a kernel call failed; the codes the generated code passes to `filterjit_fail`.
public enum RuntimeFailureKind: Int32, Sendable, CaseIterable {
    /// An index outside its array (`a` = index, `b` = length).
    case indexOutOfRange = 0
    /// Integer `//` by zero.
    case divisionByZero = 1
    /// Integer `%` by zero.
    case moduloByZero = 2
    /// `range()` with step 0.
    case zeroRangeStep = 3
    /// A reduction of an empty array (`a` = index of the builtin in `Builtin.allCases`).
    case emptyReduction = 4
    /// A local array size outside 0...1,048,576 (`a` = size).
    case arraySize = 5
    /// NaN, ±inf or out-of-range float converted to int (`a` = builtin index, `b` = the double's bits).
    case floatToInt = 6
    /// `percentile`/`quantile` fraction out of range (`a` = builtin index, `b` = q's bits).
    case quantileRange = 7
    /// The engine's cancellation flag was set during a `while` loop.
    case cancelled = 8
    /// A run-time int parameter was NaN, infinite or out of range (`a` = parameter index, `b` = bits).
    case invalidParameter = 9
    /// A value function ended without `return` (Sema forbids this; kept as a safety net).
    case missingReturn = 10
    /// Local arrays of one call exceeded the memory limit or malloc failed (`a` = requested size).
    case outOfMemory = 11
    /// A required run-time parameter (declared without a default) had no value: user_data was NULL
    /// (`a` = parameter index).
    case missingParameter = 12
    /// Arrays of different lengths (neither 1) in an element-wise expression (`a`, `b` = the lengths).
    case broadcast = 13
    /// A slice with step 0.
    case zeroSliceStep = 14
    /// A boolean mask of another length than the array it indexes (`a` = array length, `b` = mask length).
    case maskLength = 15
    /// `np.average` weights of another length (`a` = 0) or summing to zero (`a` = 1).
    case averageWeights = 16
    /// `np.bincount` of a negative element (`a` = 0) or with a negative minlength (`a` = 1).
    case bincountNegative = 17
    /// `np.histogram` with bad bins or range (`a` = `Numerics.histogram`'s status).
    case histogram = 18
    /// `return 0` in Numba's raw callback form (`@cfunc`): the callback reported failure.
    case callbackFailure = 19
    /// An array function's index outside its axis (`a` = index, `b` = axis | slot << 32, `shape`).
    case ndIndexOutOfRange = 20
    /// An array function's `np.zeros`/`np.empty` of a negative extent or too many bytes (`shape`).
    case ndAllocation = 21
    /// `np.max`/`np.min` of an empty array (`a` = the `NDReduction`'s index).
    case ndEmptyReduction = 22
    /// `np.dot` of arrays of different lengths (`a`, `b` = the lengths).
    case dotShapes = 23
}

/// The last failure recorded on a thread by generated code.
public struct RuntimeFailure: Hashable, Sendable {
    /// What failed.
    public var kind: RuntimeFailureKind
    /// Source byte range of the failing node.
    public var range: SourceRange
    /// First detail operand (see `RuntimeFailureKind`).
    public var a: Int64
    /// Second detail operand.
    public var b: Int64
    /// The shape of the array involved (array functions' index and allocation failures).
    public var shape: [Int] = []

    /// A message in the interpreter's words, e.g. `index 9 is out of range for an array of length 9`.
    public func message(program: TypedProgram?) -> String {
        let builtin: Builtin? = {
            let all = Builtin.allCases
            return a >= 0 && a < all.count ? all[Int(a)] : nil
        }()
        let builtinName = builtin?.sourceSpelling ?? "built-in"
        let double = Double(bitPattern: UInt64(bitPattern: b))
        switch kind {
        case .indexOutOfRange: return "index \(a) is out of range for an array of length \(b)"
        case .divisionByZero: return "integer division by zero"
        case .moduloByZero: return "integer modulo by zero"
        case .zeroRangeStep: return "range() step must not be zero"
        case .emptyReduction: return "\(builtinName) of an empty array"
        case .arraySize: return "local array size \(a) is outside 0...\(maximumLocalArrayLength)"
        // NaN prints as "nan" whatever its sign bit (Swift would say "-nan" for 0.0 / 0.0).
        case .floatToInt where a == -1: return RuntimeMessages.floatToIntStore(double)
        case .floatToInt: return "cannot convert \(double.isNaN ? "nan" : "\(double)") to an int"
        case .quantileRange: return "\(builtinName) q = \(double) is outside \(builtin == .percentile ? "[0, 100]" : "[0, 1]")"
        case .cancelled: return "kernel cancelled"
        case .invalidParameter:
            let name = program.flatMap { a >= 0 && a < $0.parameters.count ? $0.parameters[Int(a)].name : nil } ?? "#\(a)"
            return "parameter '\(name)' must be an int, got \(double)"
        case .missingReturn: return "function ended without returning a value"
        case .outOfMemory: return "local arrays need more memory than allowed (\(a) elements requested)"
        case .missingParameter:
            let name = program.flatMap { a >= 0 && a < $0.parameters.count ? $0.parameters[Int(a)].name : nil } ?? "#\(a)"
            return "parameter '\(name)' has no default and user_data is NULL: give its value (e.g. in extra_arguments or the callable's parameters)"
        case .broadcast: return RuntimeMessages.broadcast(Int(a), Int(b))
        case .zeroSliceStep: return RuntimeMessages.zeroSliceStep
        case .maskLength: return RuntimeMessages.maskLength(Int(a), Int(b))
        case .averageWeights: return a == 0 ? RuntimeMessages.averageShapes : RuntimeMessages.averageZeroWeights
        case .bincountNegative: return a == 0 ? RuntimeMessages.bincountNegative : RuntimeMessages.bincountMinlength
        case .histogram: return RuntimeMessages.histogram(Int(a))
        case .callbackFailure: return RuntimeMessages.callbackFailure
        case .ndIndexOutOfRange:
            let slot = Int(b >> 32)
            let name = program.flatMap { $0.functions.indices.contains($0.kernelIndex) && $0.kernel.locals.indices.contains(slot) ? $0.kernel.locals[slot].name : nil } ?? "?"
            return RuntimeMessages.ndIndex(array: name, index: a, axis: Int(b & 0xFFFF_FFFF), shape: shape)
        case .ndAllocation: return RuntimeMessages.ndAllocation(shape: shape, itemSize: Int(a))
        case .ndEmptyReduction:
            return (NDReduction.allCases.indices.contains(Int(a)) ? NDReduction.allCases[Int(a)] : .max).emptyMessage
        case .dotShapes: return RuntimeMessages.dotShapes(Int(a), Int(b))
        }
    }
}

/// Thread-local storage for the last failure (generated code may run on any thread).
public enum RuntimeFailureRecord {
    private struct Slot {
        var isSet: Bool
        var failure: RuntimeFailure
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // The destructor frees a thread's slot when the thread exits.
        pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            pointer.assumingMemoryBound(to: Slot.self).deinitialize(count: 1)
            pointer.deallocate()
        }
        return key
    }()

    private static func slot() -> UnsafeMutablePointer<Slot> {
        if let existing = pthread_getspecific(key) {
            return existing.assumingMemoryBound(to: Slot.self)
        }
        let slot = UnsafeMutablePointer<Slot>.allocate(capacity: 1)
        slot.initialize(to: Slot(isSet: false, failure: RuntimeFailure(kind: .missingReturn, range: .none, a: 0, b: 0)))
        pthread_setspecific(key, slot)
        return slot
    }

    /// Records a failure for this thread.
    static func record(_ failure: RuntimeFailure) {
        let slot = slot()
        slot.pointee.isSet = true
        slot.pointee.failure = failure
    }

    /// The last failure recorded on this thread, if any.
    public static var last: RuntimeFailure? {
        let slot = slot()
        return slot.pointee.isSet ? slot.pointee.failure : nil
    }

    /// Forgets this thread's last failure.
    public static func clear() { slot().pointee.isSet = false }
}

/// The most elements all local arrays of one kernel call may hold together (see FilterLang).
let arenaElementLimit = Int64(maximumLocalArrayElementsPerCall)

/// A per-call arena: a linked list of malloc'd blocks, freed by the kernel wrapper on every exit.
/// Layout of a block: [next pointer, element count, payload...]; the arena head is `i8**` in IR
/// pointing at two words: [first block, total elements].
public enum Arena {
    static func allocate(_ head: UnsafeMutableRawPointer?, _ count: Int64) -> UnsafeMutableRawPointer? {
        guard let head, count >= 0 else { return nil }
        let words = head.assumingMemoryBound(to: Int.self)
        let total = words[1] &+ Int(count)
        guard total <= Int(arenaElementLimit) else { return nil }
        guard let block = calloc(2 + Int(count), 8) else { return nil }
        let header = block.assumingMemoryBound(to: Int.self)
        header[0] = words[0]
        header[1] = Int(count)
        words[0] = Int(bitPattern: block)
        words[1] = total
        return block + 16
    }

    /// An array function's new array in the arena: one zeroed block holding its descriptor (int64 words:
    /// data, shape, C-order strides) and then its elements (16-byte aligned); nil for a negative extent or
    /// more than `maximumArrayFunctionBytes` (not counted against the local-array bound).
    /// `zeroed: false` leaves the elements as malloc gives them, for an array whose every element the
    /// generated code stores before anything reads one. `shape` holds `rank` extents (read in place: no Swift
    /// array is made on the way, a call of `np.zeros_like` is one malloc; w15f).
    static func allocateND(_ head: UnsafeMutableRawPointer?, itemSize: Int, rank: Int, shape: UnsafePointer<Int64>?,
                           zeroed: Bool = true) -> UnsafeMutableRawPointer? {
        guard let head, rank >= 0, rank == 0 || shape != nil else { return nil }
        // NDBuffer.elementCount's rules (negative extents, overflow of the count, the bytes or the strides, the
        // byte bound), on the words in place.
        let extents = UnsafeBufferPointer(start: shape, count: rank).lazy.map { Int($0) }
        guard let count = NDBuffer.elementCount(of: extents, itemSize: itemSize) else { return nil }
        let byteCount = count * itemSize
        let descriptorBytes = ((1 + 2 * rank) * 8 + 15) / 16 * 16
        // The elements start at a 64-byte boundary (a cache line: vector loads and stores of a whole line never
        // straddle two), up to 48 bytes after the descriptor.
        let bytes = 16 + descriptorBytes + 48 + max(byteCount, 1)
        guard let block = zeroed ? calloc(bytes, 1) : malloc(bytes) else { return nil }
        let words = head.assumingMemoryBound(to: Int.self)
        let header = block.assumingMemoryBound(to: Int.self)
        header[0] = words[0]
        header[1] = 0
        words[0] = Int(bitPattern: block)
        let descriptor = (block + 16).assumingMemoryBound(to: Int.self)
        let elements = Int(bitPattern: block + 16 + descriptorBytes)
        descriptor[0] = (elements + 63) & ~63
        var step = itemSize
        var axis = rank - 1
        while axis >= 0 {
            let extent = Int(shape![axis])
            descriptor[1 + axis] = extent
            descriptor[1 + rank + axis] = step
            step &*= max(extent, 1)  // no overflow: elementCount(of:) checked the strides
            axis -= 1
        }
        return block + 16
    }

    /// Unlinks from the arena the block whose payload is `payload` (a returned array), so that `release`
    /// keeps it; returns the block (to `free` later), or nil when no block holds it.
    public static func detach(_ head: UnsafeMutableRawPointer, payload: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        var link = head.assumingMemoryBound(to: Int.self)
        while link[0] != 0, let block = UnsafeMutableRawPointer(bitPattern: link[0]) {
            if block + 16 == payload {
                link[0] = block.assumingMemoryBound(to: Int.self)[0]
                return block
            }
            link = block.assumingMemoryBound(to: Int.self)
        }
        return nil
    }

    public static func release(_ head: UnsafeMutableRawPointer?) {
        guard let head else { return }
        let words = head.assumingMemoryBound(to: Int.self)
        var current = words[0]
        while current != 0, let block = UnsafeMutableRawPointer(bitPattern: current) {
            current = block.assumingMemoryBound(to: Int.self)[0]
            free(block)
        }
        words[0] = 0
        words[1] = 0
    }
}

// MARK: - The C entry points

typealias FailFunction = @convention(c) (Int32, Int64, Int64, Int64, Int64) -> Void
typealias AllocateFunction = @convention(c) (UnsafeMutableRawPointer?, Int64) -> UnsafeMutableRawPointer?
typealias ReleaseFunction = @convention(c) (UnsafeMutableRawPointer?) -> Void
typealias ReduceFunction = @convention(c) (UnsafePointer<Double>?, Int64) -> Double
typealias UniqueFunction = @convention(c) (UnsafePointer<Double>?, Int64, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Int64>?) -> Int64
typealias HistogramFunction = @convention(c) (UnsafePointer<Double>?, Int64, Int64, Double, Double, Int64,
                                               UnsafeMutablePointer<Int64>?, UnsafeMutablePointer<Double>?) -> Int64
typealias WeightedSumFunction = @convention(c) (UnsafePointer<Double>?, UnsafePointer<Double>?, Int64) -> Double
typealias QuantileFunction = @convention(c) (UnsafePointer<Double>?, Int64, Double) -> Double
typealias SortFunction = @convention(c) (UnsafeMutablePointer<Double>?, Int64) -> Void
typealias BinaryFunction = @convention(c) (Double, Double) -> Double
typealias IntPowerFunction = @convention(c) (Int64, Int64) -> Int64
typealias NDReduceFunction = @convention(c) (UnsafeMutablePointer<Int64>?, Int64, Int64, Int64, UnsafeMutablePointer<Int64>?) -> Int32
typealias NDIndexFailFunction = @convention(c) (Int64, Int64, Int64, Int64, Int64, UnsafeMutablePointer<Int64>?, Int64) -> Void
typealias NDAllocateFunction = @convention(c) (UnsafeMutableRawPointer?, Int64, Int64, UnsafeMutablePointer<Int64>?, Int64, Int64) -> UnsafeMutablePointer<Int64>?

/// One runtime symbol: its name in IR, its LLVM signature, and its address.
public struct RuntimeSymbol: @unchecked Sendable {
    /// The symbol name generated code calls.
    public let name: String
    /// The address the JIT binds it to.
    public let address: UnsafeRawPointer
}

/// The runtime symbols, registered in every JIT session.
public enum Runtime {
    static let fail: FailFunction = { kind, start, end, a, b in
        RuntimeFailureRecord.record(RuntimeFailure(
            kind: RuntimeFailureKind(rawValue: kind) ?? .missingReturn,
            range: SourceRange(Int(start), Int(end)), a: a, b: b))
    }
    static let allocate: AllocateFunction = { head, count in Arena.allocate(head, count) }
    static let release: ReleaseFunction = { head in Arena.release(head) }
    // The numeric routines are FilterInterpreter's own (`Numerics`), so that the interpreter and
    // the JIT produce the same bits by construction.
    static let npSum: ReduceFunction = { p, n in Numerics.npSum(p, Int(n)) }
    static let mean: ReduceFunction = { p, n in Numerics.mean(p, Int(n)) }
    static let median: ReduceFunction = { p, n in Numerics.median(p, Int(n)) }
    static let variance: ReduceFunction = { p, n in Numerics.variance(p, Int(n)) }
    static let std: ReduceFunction = { p, n in Numerics.std(p, Int(n)) }
    static let nanmin: ReduceFunction = { p, n in Numerics.nanmin(p, Int(n)) }
    static let nanmax: ReduceFunction = { p, n in Numerics.nanmax(p, Int(n)) }
    static let nansum: ReduceFunction = { p, n in Numerics.nansum(p, Int(n)) }
    static let nanmean: ReduceFunction = { p, n in Numerics.nanmean(p, Int(n)) }
    static let nanmedian: ReduceFunction = { p, n in Numerics.nanmedian(p, Int(n)) }
    static let quantile: QuantileFunction = { p, n, q in Numerics.quantile(p, Int(n), q) }
    static let sort: SortFunction = { p, n in Numerics.sortNaNLast(p, Int(n)) }
    static let floorDivide: BinaryFunction = { a, b in Numerics.floorDivide(a, b) }
    static let modulo: BinaryFunction = { a, b in Numerics.remainder(a, b) }
    static let intPower: IntPowerFunction = { a, b in Numerics.power(a, b) }
    static let hypot: BinaryFunction = { a, b in Numerics.hypot(a, b) }
    static let unique: UniqueFunction = { a, n, values, counts in Int64(Numerics.unique(a, Int(n), values: values, counts: counts)) }
    static let histogram: HistogramFunction = { a, n, bins, lo, hi, auto, counts, edges in
        Numerics.histogram(a, Int(n), bins: bins, lo: lo, hi: hi, autodetect: auto != 0, counts: counts, edges: edges)
    }
    static let ndIndexFail: NDIndexFailFunction = { start, end, index, axis, slot, descriptor, rank in
        let shape = descriptor.map { words in (0..<Int(rank)).map { Int(words[1 + $0]) } } ?? []
        var failure = RuntimeFailure(kind: .ndIndexOutOfRange, range: SourceRange(Int(start), Int(end)), a: index, b: axis | (slot << 32))
        failure.shape = shape
        RuntimeFailureRecord.record(failure)
    }
    static let ndAllocate: NDAllocateFunction = { head, itemSize, rank, shapePointer, start, end in
        allocateND(head, itemSize, rank, shapePointer, start, end, zeroed: true)
    }
    /// `filterjit_nd_alloc_uninitialized`: as `filterjit_nd_alloc`, elements not zero-filled (the code stores
    /// every one before reading any).
    static let ndAllocateUninitialized: NDAllocateFunction = { head, itemSize, rank, shapePointer, start, end in
        allocateND(head, itemSize, rank, shapePointer, start, end, zeroed: false)
    }
    private static func allocateND(_ head: UnsafeMutableRawPointer?, _ itemSize: Int64, _ rank: Int64, _ shapePointer: UnsafeMutablePointer<Int64>?,
                                   _ start: Int64, _ end: Int64, zeroed: Bool) -> UnsafeMutablePointer<Int64>? {
        if let descriptor = Arena.allocateND(head, itemSize: Int(itemSize), rank: Int(rank), shape: UnsafePointer(shapePointer),
                                             zeroed: zeroed) {
            return descriptor.assumingMemoryBound(to: Int64.self)
        }
        // `a` carries the item size, so the message can tell too many bytes from exhausted memory.
        var failure = RuntimeFailure(kind: .ndAllocation, range: SourceRange(Int(start), Int(end)), a: Int64(itemSize), b: 0)
        failure.shape = shapePointer.map { words in (0..<Int(rank)).map { Int(words[$0]) } } ?? []
        RuntimeFailureRecord.record(failure)
        return nil
    }
    /// `np.max`/`np.min` of an array function's array: the shared `NDReduction` routine; returns 1 and the
    /// result's bits (an int64, a double's bits, or 0/1), or 0 for an empty array.
    static let ndReduce: NDReduceFunction = { descriptor, rank, dtypeCode, operation, result in
        guard let descriptor, let result, ArrayDType.allCases.indices.contains(Int(dtypeCode)),
              NDReduction.allCases.indices.contains(Int(operation)) else { return 0 }
        let r = Int(rank)
        let view = NDArrayView(data: UnsafeMutableRawPointer(bitPattern: Int(descriptor[0])), dtype: ArrayDType.allCases[Int(dtypeCode)],
                               shape: (0..<r).map { Int(descriptor[1 + $0]) }, strides: (0..<r).map { Int(descriptor[1 + r + $0]) })
        switch NDReduction.allCases[Int(operation)].reduce(view) {
        case nil: return 0
        case .int(let x)?: result.pointee = x
        case .float(let x)?: result.pointee = Int64(bitPattern: x.bitPattern)
        case .bool(let x)?: result.pointee = x ? 1 : 0
        }
        return 1
    }
    static let weightedSum: WeightedSumFunction = { a, w, n in Numerics.weightedSum(a, w, Int(n)) }
    static let dot: WeightedSumFunction = { a, b, n in Numerics.dot(a, b, Int(n)) }

    private static func address<F>(_ function: F) -> UnsafeRawPointer {
        unsafeBitCast(function, to: UnsafeRawPointer.self)
    }

    /// Every runtime symbol and its address.
    public static let symbols: [RuntimeSymbol] = [
        RuntimeSymbol(name: "filterjit_fail", address: address(fail)),
        RuntimeSymbol(name: "filterjit_alloc", address: address(allocate)),
        RuntimeSymbol(name: "filterjit_release", address: address(release)),
        RuntimeSymbol(name: "filterjit_np_sum", address: address(npSum)),
        RuntimeSymbol(name: "filterjit_mean", address: address(mean)),
        RuntimeSymbol(name: "filterjit_median", address: address(median)),
        RuntimeSymbol(name: "filterjit_var", address: address(variance)),
        RuntimeSymbol(name: "filterjit_std", address: address(std)),
        RuntimeSymbol(name: "filterjit_nanmin", address: address(nanmin)),
        RuntimeSymbol(name: "filterjit_nanmax", address: address(nanmax)),
        RuntimeSymbol(name: "filterjit_nansum", address: address(nansum)),
        RuntimeSymbol(name: "filterjit_nanmean", address: address(nanmean)),
        RuntimeSymbol(name: "filterjit_nanmedian", address: address(nanmedian)),
        RuntimeSymbol(name: "filterjit_quantile", address: address(quantile)),
        RuntimeSymbol(name: "filterjit_sort", address: address(sort)),
        RuntimeSymbol(name: "filterjit_floordiv_f64", address: address(floorDivide)),
        RuntimeSymbol(name: "filterjit_mod_f64", address: address(modulo)),
        RuntimeSymbol(name: "filterjit_ipow", address: address(intPower)),
        RuntimeSymbol(name: "filterjit_hypot", address: address(hypot)),
        RuntimeSymbol(name: "filterjit_weighted_sum", address: address(weightedSum)),
        RuntimeSymbol(name: "filterjit_dot", address: address(dot)),
        RuntimeSymbol(name: "filterjit_unique", address: address(unique)),
        RuntimeSymbol(name: "filterjit_histogram", address: address(histogram)),
        RuntimeSymbol(name: "filterjit_nd_index_fail", address: address(ndIndexFail)),
        RuntimeSymbol(name: "filterjit_nd_alloc", address: address(ndAllocate)),
        RuntimeSymbol(name: "filterjit_nd_alloc_uninitialized", address: address(ndAllocateUninitialized)),
        RuntimeSymbol(name: "filterjit_nd_reduce", address: address(ndReduce)),
    ]
}
