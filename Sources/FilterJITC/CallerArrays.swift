// Caller-owned strided buffers: viewed in place through borrowed NDArray storage when aligned for
// their element type, else copied into a C-ordered NDArray (and the result copied back out) with
// memcpy, so unaligned caller memory is fine too.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NDImage

/// A strided buffer the caller owns: pointer, element type, shape and byte strides.
struct CallerArray {
    var base: UnsafeMutableRawPointer?
    var elementType: ElementType
    var shape: [Int]
    var strides: [Int]

    /// Reads the C arrays of a call, checking what can be checked (the memory itself cannot be).
    init(base: UnsafeRawPointer?, dtype: Int32, rank: Int32, shape: UnsafePointer<Int>?,
         strides: UnsafePointer<Int>?, role: String) throws {
        guard rank >= 0, rank <= 64 else { throw APIFailure(.argument, "\(role) rank \(rank) is out of range (0...64)") }
        guard let shape = readIntegers(shape, count: Int(rank)), let strides = readIntegers(strides, count: Int(rank)) else {
            throw APIFailure(.argument, "\(role) shape or strides is NULL")
        }
        self.elementType = try FilterJITC.elementType(code: dtype)
        self.shape = shape
        self.strides = strides
        self.base = UnsafeMutableRawPointer(mutating: base)
        let elements: Int
        do { elements = try NDArray.checkedElementCount(shape: self.shape, itemSize: elementType.itemSize) }
        catch { throw APIFailure(error) }
        guard elements == 0 || self.base != nil else { throw APIFailure(.argument, "\(role) data pointer is NULL") }
    }

    /// The same layout at another address (a prepared call's arrays); checked as `init` checks the base.
    func rebased(_ other: UnsafeRawPointer?, role: String) throws -> CallerArray {
        var copy = self
        copy.base = UnsafeMutableRawPointer(mutating: other)
        guard other != nil || shape.contains(0) else { throw APIFailure(.argument, "\(role) data pointer is NULL") }
        return copy
    }

    /// Calls `body` with the byte offset of every element in C order of the indices.
    func forEachOffset(_ body: (Int) -> Void) {
        guard !shape.contains(0) else { return }
        if shape.isEmpty { body(0); return }
        var index = Array(repeating: 0, count: shape.count)
        var offset = 0
        let last = shape.count - 1
        while true {
            var inner = offset
            for _ in 0..<shape[last] {
                body(inner)
                inner &+= strides[last]
            }
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

    /// Whether the elements are one C-ordered block (then one memcpy moves them all).
    var isCContiguous: Bool {
        var expected = elementType.itemSize
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            if shape[axis] > 1 && strides[axis] != expected { return false }
            expected = expected &* shape[axis]
        }
        return true
    }

    /// The number of bytes in one C-ordered row along the last axis when that axis is contiguous
    /// (rows then copy with one memcpy each), else nil.
    private var contiguousRowBytes: Int? {
        guard let last = shape.last, let stride = strides.last, last > 0 else { return nil }
        return last == 1 || stride == elementType.itemSize ? last * elementType.itemSize : nil
    }

    /// Calls `body` with the byte offset of the first element of every row along the last axis.
    private func forEachRowOffset(_ body: (Int) -> Void) {
        guard shape.count > 1 else { body(0); return }
        let outer = CallerArray(uncheckedBase: base, elementType: elementType, shape: Array(shape.dropLast()),
                                strides: Array(strides.dropLast()))
        outer.forEachOffset(body)
    }

    private init(uncheckedBase: UnsafeMutableRawPointer?, elementType: ElementType, shape: [Int], strides: [Int]) {
        self.base = uncheckedBase
        self.elementType = elementType
        self.shape = shape
        self.strides = strides
    }

    /// An NDArray viewing the caller's memory in place (no copy), or nil when the base or a stride is
    /// not a multiple of the element size (generated code loads whole, aligned elements).
    func borrowedView() throws -> NDArray? {
        let size = elementType.itemSize
        guard let base else {
            // No elements (checked at init): an empty array of its own.
            do { return try NDArray(shape: shape, elementType: elementType) } catch { throw APIFailure(error) }
        }
        guard Int(bitPattern: base) % size == 0, strides.allSatisfy({ $0 % size == 0 }) else { return nil }
        var low = 0, high = 0
        for (length, stride) in zip(shape, strides) where length > 1 {
            let (extent, overflow) = (length - 1).multipliedReportingOverflow(by: stride)
            guard !overflow else { throw APIFailure(.size, "strides \(strides) overflow") }
            if extent < 0 { low += extent } else { high += extent }
        }
        do {
            let storage = try NDArrayStorage(borrowing: base + low, byteCount: high - low + size)
            return try NDArray(storage: storage, elementType: elementType, shape: shape, strides: strides, byteOffset: -low)
        } catch {
            throw APIFailure(error)
        }
    }

    /// A C-ordered NDArray holding a copy of the elements.
    func copiedIn() throws -> NDArray {
        let array: NDArray
        do { array = try NDArray(shape: shape, elementType: elementType) } catch { throw APIFailure(error) }
        guard let base, array.count > 0 else { return array }
        var destination = array.storage.baseAddress
        if isCContiguous {
            memcpy(destination, base, array.count * elementType.itemSize)
        } else if let rowBytes = contiguousRowBytes {
            forEachRowOffset { offset in
                memcpy(destination, base + offset, rowBytes)
                destination += rowBytes
            }
        } else {
            let size = elementType.itemSize
            forEachOffset { offset in
                memcpy(destination, base + offset, size)
                destination += size
            }
        }
        return array
    }

    /// Copies a C-ordered NDArray of the same shape and element type into the caller's buffer.
    func copyOut(from array: NDArray) {
        guard let base, array.count > 0 else { return }
        var source = UnsafeRawPointer(array.firstElementPointer)
        if isCContiguous {
            memcpy(base, source, array.count * elementType.itemSize)
        } else if let rowBytes = contiguousRowBytes {
            forEachRowOffset { offset in
                memcpy(base + offset, source, rowBytes)
                source += rowBytes
            }
        } else {
            let size = elementType.itemSize
            forEachOffset { offset in
                memcpy(base + offset, source, size)
                source += size
            }
        }
    }
}

/// `count` integers read from a C array; nil when the array is NULL but some are needed.
func readIntegers(_ pointer: UnsafePointer<Int>?, count: Int) -> [Int]? {
    guard count > 0 else { return [] }
    guard let pointer else { return nil }
    return Array(UnsafeBufferPointer(start: pointer, count: count))
}
