#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory under one or more `NDArray` views: zero-filled, 16-byte aligned memory of its own, or
/// memory borrowed from a caller (a NumPy array through the C API) that it never frees.
public final class NDArrayStorage: @unchecked Sendable {
    /// The first byte of the allocation.
    public let baseAddress: UnsafeMutableRawPointer
    /// The number of bytes allocated.
    public let byteCount: Int
    /// Whether `deinit` frees `baseAddress` (false for borrowed memory).
    private let ownsMemory: Bool
    /// Whatever keeps borrowed memory alive, held as long as this storage.
    private let owner: AnyObject?

    /// Allocates `byteCount` zeroed bytes; throws instead of trapping when the memory is not there.
    public init(byteCount: Int) throws(NDImageError) {
        guard byteCount >= 0 else { throw .sizeTooLarge("negative byte count \(byteCount)") }
        try MemoryLimit.check(byteCount, for: "an array")
        // calloc reports failure with nil rather than trapping like UnsafeMutableRawPointer.allocate.
        guard let memory = calloc(max(byteCount, 1), 1) else {
            throw .sizeTooLarge("cannot allocate \(byteCount) bytes")
        }
        baseAddress = memory
        self.byteCount = byteCount
        ownsMemory = true
        owner = nil
    }

    /// Views `byteCount` bytes at `baseAddress` that the caller owns and keeps valid (and unmoved)
    /// for as long as any array on this storage is used; `owner`, if given, is retained until then.
    public init(borrowing baseAddress: UnsafeMutableRawPointer, byteCount: Int, owner: AnyObject? = nil) throws(NDImageError) {
        guard byteCount >= 0 else { throw .sizeTooLarge("negative byte count \(byteCount)") }
        self.baseAddress = baseAddress
        self.byteCount = byteCount
        ownsMemory = false
        self.owner = owner
    }

    deinit {
        if ownsMemory { free(baseAddress) }
    }
}

/// Memory order of a newly allocated array.
public enum MemoryOrder: Sendable {
    /// Row-major: the last axis varies fastest (NumPy's default).
    case c
    /// Column-major: the first axis varies fastest.
    case fortran
}

/// An n-dimensional strided array of one element type over shared storage, like a NumPy ndarray.
///
/// Strides are in bytes and may be negative (views made by `reversed(axis:)`); several arrays may
/// share one storage. Element values are read and written as Double through the casting rules of
/// `ElementType` (SciPy's generic_filter store).
public final class NDArray: @unchecked Sendable {
    /// The element type.
    public let elementType: ElementType
    /// The length of each axis.
    public let shape: [Int]
    /// The distance in bytes between neighbours along each axis.
    public let strides: [Int]
    /// The memory the array views.
    public let storage: NDArrayStorage
    /// Byte offset of element (0, 0, ...) from the storage's base address.
    public let byteOffset: Int
    /// The number of elements (the product of the shape).
    public let count: Int

    /// The number of axes.
    public var rank: Int { shape.count }
    /// Whether some axis has length 0.
    public var isEmpty: Bool { count == 0 }

    /// Checks that the element count and byte count of `shape` fit in an Int; returns the count.
    public static func checkedElementCount(shape: [Int], itemSize: Int) throws(NDImageError) -> Int {
        var count = 1
        for length in shape {
            guard length >= 0 else { throw .invalidArgument("negative dimensions are not allowed: \(shape)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: length)
            guard !overflow else { throw .sizeTooLarge("the element count of shape \(shape) overflows") }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: itemSize)
        guard !overflow, bytes <= Int.max / 2 else {
            throw .sizeTooLarge("shape \(shape) needs more than \(Int.max / 2) bytes")
        }
        return count
    }

    /// Contiguous strides in bytes for `shape` in the given order.
    public static func contiguousStrides(shape: [Int], itemSize: Int, order: MemoryOrder = .c) -> [Int] {
        var strides = Array(repeating: 0, count: shape.count)
        var step = itemSize
        let axes: [Int] = order == .c ? Array((0..<shape.count).reversed()) : Array(0..<shape.count)
        for axis in axes {
            strides[axis] = step
            step = step &* max(shape[axis], 1)
        }
        return strides
    }

    /// A new zero-filled array; throws when the size overflows or cannot be allocated.
    public convenience init(shape: [Int], elementType: ElementType, order: MemoryOrder = .c) throws(NDImageError) {
        let count = try NDArray.checkedElementCount(shape: shape, itemSize: elementType.itemSize)
        let storage = try NDArrayStorage(byteCount: count * elementType.itemSize)
        self.init(uncheckedStorage: storage, elementType: elementType, shape: shape,
                  strides: NDArray.contiguousStrides(shape: shape, itemSize: elementType.itemSize, order: order),
                  byteOffset: 0, count: count)
    }

    /// A view of `storage`; throws when some element would lie outside the storage.
    public convenience init(storage: NDArrayStorage, elementType: ElementType, shape: [Int], strides: [Int],
                            byteOffset: Int) throws(NDImageError) {
        guard shape.count == strides.count else {
            throw .invalidArgument("shape \(shape) and strides \(strides) have different lengths")
        }
        let count = try NDArray.checkedElementCount(shape: shape, itemSize: elementType.itemSize)
        if count > 0 {
            // The lowest and highest byte touched must lie inside the storage.
            var low = byteOffset, high = byteOffset
            for (length, stride) in zip(shape, strides) {
                let (extent, overflow) = (length - 1).multipliedReportingOverflow(by: stride)
                guard !overflow else { throw .sizeTooLarge("strides \(strides) overflow") }
                // Checked sums: a wrapped (negative) `high` used to pass the bounds check below.
                let (moved, sumOverflow) = extent < 0 ? low.addingReportingOverflow(extent) : high.addingReportingOverflow(extent)
                guard !sumOverflow else { throw .sizeTooLarge("strides \(strides) overflow") }
                if extent < 0 { low = moved } else { high = moved }
            }
            guard low >= 0, high <= storage.byteCount - elementType.itemSize else {
                throw .invalidArgument("view with shape \(shape) and strides \(strides) lies outside its storage")
            }
        }
        self.init(uncheckedStorage: storage, elementType: elementType, shape: shape, strides: strides,
                  byteOffset: byteOffset, count: count)
    }

    private init(uncheckedStorage storage: NDArrayStorage, elementType: ElementType, shape: [Int], strides: [Int],
                 byteOffset: Int, count: Int) {
        self.storage = storage
        self.elementType = elementType
        self.shape = shape
        self.strides = strides
        self.byteOffset = byteOffset
        self.count = count
    }

    /// A new C-ordered array holding `values` (C order) stored with the generic_filter casting rules.
    public static func make(shape: [Int], elementType: ElementType, values: [Double]) throws(NDImageError) -> NDArray {
        let array = try NDArray(shape: shape, elementType: elementType)
        guard values.count == array.count else {
            throw .invalidArgument("\(values.count) values given for shape \(shape)")
        }
        let base = array.storage.baseAddress
        let size = elementType.itemSize
        for (index, value) in values.enumerated() { elementType.storeDouble(value, to: base + index * size) }
        return array
    }

    /// Pointer to element (0, 0, ...).
    public var firstElementPointer: UnsafeMutableRawPointer { storage.baseAddress + byteOffset }

    /// Byte offset (from `firstElementPointer`) of the element at `index`; nil when out of range.
    public func byteOffset(of index: [Int]) -> Int? {
        guard index.count == rank else { return nil }
        var offset = 0
        for axis in 0..<rank {
            guard index[axis] >= 0, index[axis] < shape[axis] else { return nil }
            offset += index[axis] * strides[axis]
        }
        return offset
    }

    /// The element at `index` as a Double (nil when the index is out of range).
    public func value(at index: [Int]) -> Double? {
        guard let offset = byteOffset(of: index) else { return nil }
        return elementType.loadDouble(from: firstElementPointer + offset)
    }

    /// Stores `value` at `index` with the generic_filter casting rules; false when out of range.
    @discardableResult
    public func setValue(_ value: Double, at index: [Int]) -> Bool {
        guard let offset = byteOffset(of: index) else { return false }
        elementType.storeDouble(value, to: firstElementPointer + offset)
        return true
    }

    /// Calls `body` with the byte offset of every element, in C (row-major) order of the indices.
    public func forEachElementOffset(_ body: (Int) throws -> Void) rethrows {
        guard count > 0 else { return }
        if rank == 0 { try body(0); return }
        var index = Array(repeating: 0, count: rank)
        var offset = 0
        let last = rank - 1
        while true {
            // Run the innermost axis as a plain loop.
            let innerStride = strides[last]
            var innerOffset = offset
            for _ in 0..<shape[last] {
                try body(innerOffset)
                innerOffset &+= innerStride
            }
            // Advance the outer axes like an odometer.
            var axis = last - 1
            while axis >= 0 {
                index[axis] += 1
                offset &+= strides[axis]
                if index[axis] < shape[axis] { break }
                offset &-= strides[axis] &* shape[axis]
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }

    /// All elements as Doubles in C order.
    public func doubleValues() -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(count)
        let base = UnsafeRawPointer(firstElementPointer)
        let type = elementType
        forEachElementOffset { values.append(type.loadDouble(from: base + $0)) }
        return values
    }

    /// All elements as their integer bits widened to Int64 (exact for every integer type), C order.
    public func int64Bits() -> [Int64] {
        var values: [Int64] = []
        values.reserveCapacity(count)
        let base = UnsafeRawPointer(firstElementPointer)
        let type = elementType
        forEachElementOffset { values.append(type.loadInt64Bits(from: base + $0)) }
        return values
    }

    /// Fills `buffer` (at least `count` Doubles) with the elements in C order.
    public func copyDoubles(into buffer: UnsafeMutablePointer<Double>) {
        let base = UnsafeRawPointer(firstElementPointer)
        let type = elementType
        var position = 0
        forEachElementOffset {
            buffer[position] = type.loadDouble(from: base + $0)
            position += 1
        }
    }

    /// Whether the elements are laid out in C order without gaps.
    public var isCContiguous: Bool {
        strides == NDArray.contiguousStrides(shape: shape, itemSize: elementType.itemSize) || count <= 1
    }

    /// A new C-contiguous array with the same elements and type.
    public func cContiguousCopy() throws(NDImageError) -> NDArray {
        let copy = try NDArray(shape: shape, elementType: elementType)
        let source = UnsafeRawPointer(firstElementPointer)
        let size = elementType.itemSize
        var destination = copy.storage.baseAddress
        if isCContiguous {
            destination.copyMemory(from: source, byteCount: count * size)
            return copy
        }
        if rank >= 1, strides[rank - 1] == size {
            // Whole rows of the last axis at a time (one copy per row instead of one per element).
            let rowBytes = shape[rank - 1] * size
            let rows = try NDArray(storage: storage, elementType: elementType, shape: Array(shape.dropLast()),
                                   strides: Array(strides.dropLast()), byteOffset: byteOffset)
            rows.forEachElementOffset {
                destination.copyMemory(from: source + $0, byteCount: rowBytes)
                destination += rowBytes
            }
            return copy
        }
        forEachElementOffset {
            destination.copyMemory(from: source + $0, byteCount: size)
            destination += size
        }
        return copy
    }

    /// A new C-ordered array of `type`: integer to integer wraps like NumPy's `astype`; anything
    /// else goes through Double with the generic_filter casting rules.
    public func converted(to type: ElementType) throws(NDImageError) -> NDArray {
        let result = try NDArray(shape: shape, elementType: type)
        let source = UnsafeRawPointer(firstElementPointer)
        let sourceType = elementType
        let size = type.itemSize
        var destination = result.storage.baseAddress
        let integerCopy = !sourceType.isFloatingPoint && !type.isFloatingPoint
        forEachElementOffset {
            if integerCopy {
                type.storeInt64Bits(sourceType.loadInt64Bits(from: source + $0), to: destination)
            } else {
                type.storeDouble(sourceType.loadDouble(from: source + $0), to: destination)
            }
            destination += size
        }
        return result
    }

    /// A view with `axis` reversed (a negative stride).
    public func reversed(axis: Int) throws(NDImageError) -> NDArray {
        guard axis >= 0, axis < rank else { throw .invalidArgument("axis \(axis) is out of bounds for rank \(rank)") }
        var newStrides = strides
        newStrides[axis] = -strides[axis]
        let offset = shape[axis] > 0 ? byteOffset + (shape[axis] - 1) * strides[axis] : byteOffset
        return try NDArray(storage: storage, elementType: elementType, shape: shape, strides: newStrides, byteOffset: offset)
    }

    /// A view with the axes permuted: axis i of the result is axis `permutation[i]` of this array.
    public func transposed(_ permutation: [Int]? = nil) throws(NDImageError) -> NDArray {
        let order = permutation ?? Array((0..<rank).reversed())
        guard order.sorted() == Array(0..<rank) else {
            throw .invalidArgument("\(order) is not a permutation of the axes of a rank-\(rank) array")
        }
        return try NDArray(storage: storage, elementType: elementType, shape: order.map { shape[$0] },
                           strides: order.map { strides[$0] }, byteOffset: byteOffset)
    }

    /// Whether the memory this array may touch overlaps the memory of `other`.
    public func mayShareMemory(with other: NDArray) -> Bool {
        guard count > 0, other.count > 0 else { return false }
        // Compare addresses, not storage objects: two storages may borrow the same caller memory.
        let baseA = Int(bitPattern: storage.baseAddress), baseB = Int(bitPattern: other.storage.baseAddress)
        let a = byteRange, b = other.byteRange
        return baseA &+ a.lowerBound < baseB &+ b.upperBound && baseB &+ b.lowerBound < baseA &+ a.upperBound
    }

    /// The bytes (relative to the storage base) this array can touch.
    private var byteRange: Range<Int> {
        var low = byteOffset, high = byteOffset
        for (length, stride) in zip(shape, strides) {
            let extent = (length - 1) * stride
            if extent < 0 { low += extent } else { high += extent }
        }
        return low..<(high + elementType.itemSize)
    }
}

/// Steps `index` to the next position of an array of `shape` in C order (the last axis fastest), back to all zeros
/// after the last position.
@inline(__always)
func advanceInCOrder(_ index: inout [Int], within shape: [Int]) {
    var axis = shape.count - 1
    while axis >= 0 {
        index[axis] += 1
        if index[axis] < shape[axis] { return }
        index[axis] = 0
        axis -= 1
    }
}
