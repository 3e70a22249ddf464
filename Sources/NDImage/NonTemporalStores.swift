// When a kernel writes its output with non-temporal stores: one policy for every kernel that can (the
// 8-bit long boxes, the 32/64-bit 3x3 and 5x5 medians, the fast-math float box sums).
//
// A non-temporal store writes a whole 64-byte line without reading it first, so the kernel itself runs
// faster (no read for ownership of every output line). But the line then goes to memory instead of
// staying in the last-level cache, and whoever reads the output next pays for it. Measured on Emerald
// Rapids (2048x2048, one thread; docs/status.md, ninth and tenth sessions): the float32 3x3 median kernel
// 1.54 -> 1.42 ms with streaming, but kernel + `y.sum()` 2.43 -> 3.34 ms and kernel + `np.copyto` 2.76 ->
// 3.09-3.18; the uint8 15x15 box min 0.44-0.47 -> 0.36-0.40 ms, but min + a sum 0.60 -> 0.68 (C harness);
// through `generic_filter` (benchmarks/stream_pipeline.py) median + `y.sum()` 2.46 -> 3.46 ms. So an output that fits in the cache
// is written through it, as glibc's memcpy does (it streams only copies larger than about 3/4 of the
// shared cache, `x86_non_temporal_threshold`).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When kernels write their outputs with non-temporal stores (outputs bigger than the last-level cache).
public enum NonTemporalStores {
    /// Outputs of at least this many bytes (the whole output, not one thread's share, so that the stores
    /// do not depend on the thread count) are written with non-temporal stores; tests lower it.
    nonisolated(unsafe) public static var minimumBytes: Int = defaultMinimumBytes

    /// `minimumBytes`'s default: FILTERJIT_STREAM_MIN_BYTES when set (a byte count), else the last-level
    /// cache's size (at least 4 MiB; 32 MiB where the size is unknown).
    public static let defaultMinimumBytes: Int = {
        if let text = getenv("FILTERJIT_STREAM_MIN_BYTES").map({ String(cString: $0) }), let bytes = Int(text), bytes >= 0 {
            return bytes
        }
        #if canImport(Glibc)
        let lastLevel = sysconf(Int32(_SC_LEVEL3_CACHE_SIZE))
        return lastLevel > 0 ? max(4 << 20, lastLevel) : 32 << 20
        #else
        return 32 << 20
        #endif
    }()

    /// Whether an output of `bytes` bytes is written with non-temporal stores.
    public static func stream(outputBytes bytes: Int) -> Bool { bytes >= minimumBytes }
}
