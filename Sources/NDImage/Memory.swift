#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Allocates `count` Doubles with malloc; nil (not a trap) when the memory is not there.
func allocateDoubles(_ count: Int) -> UnsafeMutableRawPointer? {
    let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Double>.stride)
    guard !overflow else { return nil }
    return malloc(max(bytes, 1))
}

/// Frees memory from `allocateDoubles`.
func freeMemory(_ pointer: UnsafeMutableRawPointer) { free(pointer) }
