// Array functions (issue 15): the types both back ends share for `@array_function` / `@jit` programs.
//
// An array function is checked once per call signature (each argument's dtype and rank, or its scalar
// type), as Numba types a `@jit` function per signature. Its arrays are n-dimensional and strided; the
// elements of an array load as the language's scalars (`ArrayDType.scalarType`) and stores convert
// with NumPy's casts (`ArrayDType.store`). Both back ends follow the rules written here
// (docs/array-functions.md).
//
// The JIT ABI of an array function: `int f(void **arguments, void *result, void *arena)`; `arguments[k]`
// points at argument k: an array's descriptor (int64 words: data pointer, shape[rank], strides[rank] in
// bytes), an int64, a double or a bool byte. `result` points at the result: an int64, a double, a bool
// byte, or a descriptor pointer for a new array. New arrays live in `arena`, which the caller owns: it
// takes a returned array out of it (`Arena.detach`) before releasing the arena, which frees everything
// else. Returns 1, or 0 after recording a failure (`filterjit_fail`).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The element types of array-function arrays (NumPy's dtypes of the same names).
public enum ArrayDType: String, Hashable, Sendable, CaseIterable {
    case bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    /// The language type an element loads as: ints (every width up to uint32, signed or not) as `.int`,
    /// uint64 as `.uint64`, floats as `.float`, bools as `.bool`.
    public var scalarType: ValueType {
        switch self {
        case .bool: return .bool
        case .float32, .float64: return .float
        case .uint64: return .uint64
        default: return .int
        }
    }

    /// Whether this is an integer dtype (signed or unsigned).
    public var isInteger: Bool { scalarType == .int || scalarType == .uint64 }

    /// Whether this is an unsigned integer dtype.
    public var isUnsigned: Bool { self == .uint8 || self == .uint16 || self == .uint32 || self == .uint64 }

    /// The dtype's name in Python spellings (`np.<name>`, `dtype='<name>'`), nil for other names.
    public init?(pythonName name: String) {
        switch name {
        case "float", "double", "float_": self = .float64
        case "int", "int_", "intp": self = .int64
        case "bool_": self = .bool
        case "single": self = .float32
        case "byte": self = .int8
        case "ubyte": self = .uint8
        case "short": self = .int16
        case "ushort": self = .uint16
        case "intc": self = .int32
        case "uintc": self = .uint32
        default:
            guard let dtype = ArrayDType(rawValue: name) else { return nil }
            self = dtype
        }
    }

    /// The element at `pointer` as the language scalar (`scalarType`); uint64 loads its bits as an int64
    /// (a `.uint64` value is held as the int64 of the same bits; its type says how to read them).
    public func load(_ pointer: UnsafeRawPointer) -> ScalarValue {
        switch self {
        case .bool: return .bool(pointer.load(as: UInt8.self) != 0)
        case .int8: return .int(Int64(pointer.load(as: Int8.self)))
        case .int16: return .int(Int64(pointer.loadUnaligned(as: Int16.self)))
        case .int32: return .int(Int64(pointer.loadUnaligned(as: Int32.self)))
        case .int64: return .int(pointer.loadUnaligned(as: Int64.self))
        case .uint8: return .int(Int64(pointer.load(as: UInt8.self)))
        case .uint16: return .int(Int64(pointer.loadUnaligned(as: UInt16.self)))
        case .uint32: return .int(Int64(pointer.loadUnaligned(as: UInt32.self)))
        case .uint64: return .int(Int64(bitPattern: pointer.loadUnaligned(as: UInt64.self)))
        case .float32: return .float(Double(pointer.loadUnaligned(as: Float.self)))
        case .float64: return .float(pointer.loadUnaligned(as: Double.self))
        }
    }

    /// Stores `value` at `pointer` with NumPy's casts: an int into an integer dtype keeps its low bits
    /// (wraps, as `np.array([300]).astype(np.uint8)`), into a float dtype rounds to nearest; a float into
    /// an integer dtype truncates toward zero, then wraps (NaN, ±inf or beyond the int64 range is an error:
    /// returns false, nothing stored; into uint64 the range is [-2^63, 2^64)); anything into bool is `!= 0`
    /// (NaN is true); a bool is 0 or 1. A `.uint64` value reaches here as `.int` of its bits (Sema converts
    /// it to a float first for float dtypes).
    public func store(_ value: ScalarValue, at pointer: UnsafeMutableRawPointer) -> Bool {
        let bits: Int64
        switch (value, self) {
        case (.float(let x), .float64): pointer.storeBytes(of: x, as: Double.self); return true
        case (.float(let x), .float32): pointer.storeBytes(of: Float(x), as: Float.self); return true
        case (.int(let x), .float64): pointer.storeBytes(of: Double(x), as: Double.self); return true
        case (.int(let x), .float32): pointer.storeBytes(of: Float(x), as: Float.self); return true
        case (.bool(let x), .float64): pointer.storeBytes(of: x ? 1.0 : 0.0, as: Double.self); return true
        case (.bool(let x), .float32): pointer.storeBytes(of: Float(x ? 1 : 0), as: Float.self); return true
        case (.float(let x), .bool): pointer.storeBytes(of: x != 0 || x.isNaN ? 1 : 0, as: UInt8.self); return true
        case (.int(let x), .bool): pointer.storeBytes(of: x != 0 ? 1 : 0, as: UInt8.self); return true
        case (.bool(let x), .bool): pointer.storeBytes(of: x ? 1 : 0, as: UInt8.self); return true
        case (.int(let x), _): bits = x
        case (.bool(let x), _): bits = x ? 1 : 0
        case (.float(let x), _):
            // The int64 range is [-2^63, 2^63): the same test as `int(x)`.
            if self == .uint64, x >= 9.223372036854775808e18, x < 1.8446744073709551616e19 {
                bits = Int64(bitPattern: UInt64(x.rounded(.towardZero)))
                break
            }
            guard x.isFinite, x >= -9.223372036854775808e18, x < 9.223372036854775808e18 else { return false }
            bits = Int64(x.rounded(.towardZero))
        }
        switch itemSize {
        case 1: pointer.storeBytes(of: UInt8(truncatingIfNeeded: bits), as: UInt8.self)
        case 2: pointer.storeBytes(of: UInt16(truncatingIfNeeded: bits), as: UInt16.self)
        case 4: pointer.storeBytes(of: UInt32(truncatingIfNeeded: bits), as: UInt32.self)
        default: pointer.storeBytes(of: bits, as: Int64.self)
        }
        return true
    }
}

/// A scalar of the language (what an array element loads as and a store takes).
public enum ScalarValue: Hashable, Sendable {
    case int(Int64)
    case float(Double)
    case bool(Bool)
}

/// The static facts of an array-function array: its dtype and rank.
public struct NDLayout: Hashable, Sendable, CustomStringConvertible {
    /// The element type.
    public var dtype: ArrayDType
    /// The number of axes (0 for a 0-d array).
    public var rank: Int

    /// Creates a layout.
    public init(dtype: ArrayDType, rank: Int) {
        self.dtype = dtype
        self.rank = rank
    }

    /// Numba's spelling: `float64[:, :]` (`float64[]` for rank 0, written `float64` with no brackets by Numba).
    public var description: String {
        "\(dtype.rawValue)[\(Array(repeating: ":", count: rank).joined(separator: ", "))]"
    }
}

/// The type of one argument of an array-function call.
public enum ArrayFunctionArgumentType: Hashable, Sendable, CustomStringConvertible {
    /// An array of this dtype and rank.
    case array(NDLayout)
    /// A Python int (or NumPy integer scalar): `.int`.
    case int
    /// A Python float (or NumPy float scalar): `.float`.
    case float
    /// A Python bool: `.bool`.
    case bool

    public var description: String {
        switch self {
        case .array(let layout): return layout.description
        case .int: return "int64"
        case .float: return "float64"
        case .bool: return "bool"
        }
    }
}

/// The types of one array-function call's arguments, in order: what its code is specialised on.
public struct ArrayFunctionSignature: Hashable, Sendable, CustomStringConvertible {
    /// One type per argument.
    public var arguments: [ArrayFunctionArgumentType]
    /// Whether every index is checked (the default). False only when the caller asked for Numba's
    /// `boundscheck=False`: the JIT then trusts every index (an index out of bounds is undefined behaviour);
    /// the interpreter checks regardless.
    public var boundsChecked: Bool

    /// Creates a signature.
    public init(_ arguments: [ArrayFunctionArgumentType], boundsChecked: Bool = true) {
        self.arguments = arguments
        self.boundsChecked = boundsChecked
    }

    /// `(float64[:], uint8[:, :], int64)`, as Numba prints signatures (` boundscheck=False` appended when unchecked).
    public var description: String {
        "(" + arguments.map(\.description).joined(separator: ", ") + ")" + (boundsChecked ? "" : " boundscheck=False")
    }
}

/// An array argument as both back ends see it: memory they may read and write, its dtype, shape and
/// byte strides (any sign). The caller guarantees every element lies inside memory it owns.
public struct NDArrayView: @unchecked Sendable {
    /// Address of element (0, 0, ...).
    public var data: UnsafeMutableRawPointer?
    /// The element type.
    public var dtype: ArrayDType
    /// The extent of each axis.
    public var shape: [Int]
    /// Bytes between neighbours along each axis.
    public var strides: [Int]

    /// Creates a view.
    public init(data: UnsafeMutableRawPointer?, dtype: ArrayDType, shape: [Int], strides: [Int]) {
        self.data = data
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
    }

    /// Its layout.
    public var layout: NDLayout { NDLayout(dtype: dtype, rank: shape.count) }
}

/// A C-contiguous array an array function made (its result): malloc'd memory freed with this object.
public final class NDBuffer: @unchecked Sendable {
    /// The element type.
    public let dtype: ArrayDType
    /// The extent of each axis.
    public let shape: [Int]
    /// The elements in C order (`free`d in `deinit`; nil only for zero bytes).
    public let data: UnsafeMutableRawPointer?
    /// The number of bytes at `data`.
    public let byteCount: Int

    /// Takes ownership of `data` (from `malloc`/`calloc`).
    public init(dtype: ArrayDType, shape: [Int], adopting data: UnsafeMutableRawPointer?, byteCount: Int) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
        self.byteCount = byteCount
    }

    /// A zero-filled buffer, or nil when the shape has a negative extent or is too large to allocate.
    public static func zeroed(dtype: ArrayDType, shape: [Int]) -> NDBuffer? {
        guard let count = NDBuffer.elementCount(shape, itemSize: dtype.itemSize) else { return nil }
        let bytes = count * dtype.itemSize
        guard let memory = calloc(max(bytes, 1), 1) else { return nil }
        return NDBuffer(dtype: dtype, shape: shape, adopting: memory, byteCount: bytes)
    }

    /// The element count of `shape`, nil when an extent is negative or the bytes exceed `maximumArrayFunctionBytes`.
    public static func elementCount(_ shape: [Int], itemSize: Int) -> Int? {
        elementCount(of: shape, itemSize: itemSize)
    }

    /// `elementCount` of extents read from anywhere (the JIT runtime reads them in place, making no array).
    @inlinable
    public static func elementCount<Extents: Sequence>(of shape: Extents, itemSize: Int) -> Int? where Extents.Element == Int {
        var count = 1, span = itemSize
        for extent in shape {
            guard extent >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            // The C-order strides multiply the non-zero extents: an empty (0, 2^40, 2^40) array's would overflow.
            let (stride, strideOverflow) = span.multipliedReportingOverflow(by: max(extent, 1))
            guard !overflow, !strideOverflow else { return nil }
            count = product
            span = stride
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: itemSize)
        guard !overflow, bytes <= maximumArrayFunctionBytes else { return nil }
        return count
    }

    /// C-order byte strides of its shape.
    public var strides: [Int] {
        var result = [Int](repeating: 0, count: shape.count)
        var step = dtype.itemSize
        for axis in shape.indices.reversed() {
            result[axis] = step
            step *= max(shape[axis], 1)  // cannot overflow: `zeroed` checked the strides (elementCount)
        }
        return result
    }

    /// A view of it.
    public var view: NDArrayView { NDArrayView(data: data, dtype: dtype, shape: shape, strides: strides) }

    deinit { free(data) }
}

/// The largest array an array function may allocate, in bytes (64 GiB: beyond it `np.zeros` fails
/// with a run-time error, not the process).
public let maximumArrayFunctionBytes = 1 << 36

/// An argument or result of an array function.
public enum ArrayFunctionValue: @unchecked Sendable {
    /// No value (`return` or `return None`).
    case none
    case int(Int64)
    case float(Double)
    case bool(Bool)
    /// An array argument.
    case array(NDArrayView)
    /// A new array the function made and returned.
    case buffer(NDBuffer)

    /// The argument type this value has in a signature (nil for `.none`).
    public var argumentType: ArrayFunctionArgumentType? {
        switch self {
        case .none: return nil
        case .int: return .int
        case .float: return .float
        case .bool: return .bool
        case .array(let view): return .array(view.layout)
        case .buffer(let buffer): return .array(NDLayout(dtype: buffer.dtype, rank: buffer.shape.count))
        }
    }
}

/// The whole-array reductions of array functions (one shared routine, so both back ends give the same bits).
public enum NDReduction: String, Hashable, Sendable, CaseIterable {
    /// `np.max`: the greatest element; NaN if any element is NaN; of equal elements (0.0 and -0.0) the first
    /// in C order.
    case max
    /// `np.min`: the least element, likewise.
    case min

    /// NumPy's words for an empty array.
    public var emptyMessage: String {
        "zero-size array to reduction operation \(self == .max ? "maximum" : "minimum") which has no identity"
    }

    /// The reduction of every element of `view` in C order, or nil when it has none.
    public func reduce(_ view: NDArrayView) -> ScalarValue? {
        guard let data = view.data, !view.shape.contains(0) else { return nil }
        var best: ScalarValue?
        var index = [Int](repeating: 0, count: view.shape.count)
        while true {
            var offset = 0
            for axis in index.indices { offset += index[axis] * view.strides[axis] }
            let value = view.dtype.load(data + offset)
            if let current = best {
                best = better(value, than: current, unsigned: view.dtype == .uint64) ? value : current
            } else {
                best = value
            }
            if case .float(let x)? = best, x.isNaN { return best }
            // The next index in C order.
            var axis = index.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < view.shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return best }
        }
    }

    /// Whether `value` replaces `current` (strictly greater for max; NaN always wins; uint64 elements, held
    /// as int64 bits, compare unsigned).
    private func better(_ value: ScalarValue, than current: ScalarValue, unsigned: Bool) -> Bool {
        switch (value, current) {
        case (.int(let a), .int(let b)) where unsigned:
            let x = UInt64(bitPattern: a), y = UInt64(bitPattern: b)
            return self == .max ? x > y : x < y
        case (.int(let a), .int(let b)): return self == .max ? a > b : a < b
        case (.float(let a), .float(let b)): return a.isNaN || (self == .max ? a > b : a < b)
        case (.bool(let a), .bool(let b)): return self == .max ? (a && !b) : (!a && b)
        default: return false
        }
    }
}

extension RuntimeMessages {
    /// An index outside its axis: NumPy's words plus the array's name and shape.
    public static func ndIndex(array: String, index: Int64, axis: Int, shape: [Int]) -> String {
        let size = axis < shape.count ? shape[axis] : 0
        return "index \(index) is out of bounds for axis \(axis) with size \(size) (array '\(array)' of shape \(shapeText(shape)))"
    }

    /// A shape as NumPy prints it: `(3,)`, `(2, 3)`, `()`.
    public static func shapeText(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// `np.zeros` of a negative extent, of too many bytes, or with the memory exhausted.
    public static func ndAllocation(shape: [Int], itemSize: Int) -> String {
        if shape.contains(where: { $0 < 0 }) { return "negative dimensions are not allowed" }
        if shape.contains(0), NDBuffer.elementCount(shape, itemSize: itemSize) == nil {
            return "array is too big; `arr.size * arr.dtype.itemsize` is larger than the maximum possible size."  // NumPy's
        }
        if NDBuffer.elementCount(shape, itemSize: itemSize) == nil {
            return "cannot allocate an array of shape \(shapeText(shape)): more than \(maximumArrayFunctionBytes) bytes"
        }
        return "cannot allocate an array of shape \(shapeText(shape)): out of memory"
    }

    /// A float stored into an integer array that has no int64 value.
    public static func floatToIntStore(_ value: Double) -> String {
        "cannot convert \(value.isNaN ? "nan" : "\(value)") to an int to store it into an integer array"
    }
}
