#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The most memory one array or work buffer may take: `$FILTERJIT_MAX_BYTES` when set, else the
/// machine's physical memory. Larger requests are a `sizeTooLarge` error before anything is allocated,
/// rather than an allocation that succeeds under overcommit and is then killed part-way by the kernel.
public enum MemoryLimit {
    /// The limit in bytes now (the environment is read on each call, so a host can change it).
    public static var maximumBytes: Int {
        if let text = getenv("FILTERJIT_MAX_BYTES"), let value = Int(String(cString: text)), value > 0 {
            return value
        }
        return physicalMemoryBytes
    }

    /// The machine's physical memory (pages times page size), or Int.max when it cannot be told.
    public static let physicalMemoryBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return Int.max }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max : bytes
    }()

    /// Throws when `byteCount` bytes (for `what`) exceed the limit.
    public static func check(_ byteCount: Int, for what: String) throws(NDImageError) {
        let limit = maximumBytes
        guard byteCount <= limit else {
            let source = getenv("FILTERJIT_MAX_BYTES") == nil ? "this machine's memory" : "FILTERJIT_MAX_BYTES"
            throw .sizeTooLarge("\(what) needs \(byteCount) bytes, more than the \(limit) allowed (\(source); set FILTERJIT_MAX_BYTES to change the limit)")
        }
    }
}

/// Allocates `count` Doubles with malloc; nil (not a trap) when the memory is not there or exceeds
/// `MemoryLimit`.
func allocateDoubles(_ count: Int) -> UnsafeMutableRawPointer? {
    let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Double>.stride)
    guard !overflow, bytes <= MemoryLimit.maximumBytes else { return nil }
    return malloc(max(bytes, 1))
}

/// Frees memory from `allocateDoubles`.
func freeMemory(_ pointer: UnsafeMutableRawPointer) { free(pointer) }
