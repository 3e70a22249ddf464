// The one thread splitter of the drivers: output rows in contiguous chunks, one per thread, and
// the first failure in C order whatever thread found it.

import Foundation

/// Splits rows across threads and collects the first failure.
public enum RowThreads {
    /// `count` items in at most `threads` contiguous, nearly equal ranges, in order.
    public static func chunks(_ count: Int, threads: Int) -> [Range<Int>] {
        let parts = max(1, min(threads, count))
        return (0..<parts).map { part in (count * part / parts)..<(count * (part + 1) / parts) }
    }

    /// Runs `body(part)` for `part` in `0..<count`, in parallel when count > 1; returns when all are done.
    /// Each call must write only its own rows and its own state.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count == 1 { body(0); return }
        withoutActuallyEscaping(body) { escaping in
            let shared = SharedAcrossWorkers(value: escaping)
            DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
        }
    }

    /// The cores this process may use, read once: Foundation reads it from the scheduler's affinity and
    /// the cgroup files on every call on Linux (25-35 us, most of a small image's call).
    public static let processorCount = max(ProcessInfo.processInfo.activeProcessorCount, 1)

    /// `threads` checked (at least 1), or every core when nil (the filters instead choose by their work: `count`).
    public static func resolved(_ threads: Int?) throws(NDImageError) -> Int {
        let count = threads ?? processorCount
        guard count >= 1 else { throw .invalidArgument("the thread count must be at least 1, got \(count)") }
        return count
    }

    /// The thread count for a run of about `nanoseconds` of one core's work: `threads` when the caller set it,
    /// else as many cores as get at least `minimumNanosecondsPerThread` each (at least one).
    public static func count(_ threads: Int?, work nanoseconds: Double) -> Int {
        if let threads { return max(1, threads) }
        guard nanoseconds.isFinite else { return processorCount }
        return max(1, Int(min(Double(processorCount), nanoseconds / minimumNanosecondsPerThread)))
    }

    /// The least work worth a thread of its own. Waking a worker and waiting for it costs about 20-40 us each
    /// way on the project's VMs (a `concurrentPerform` of two 20 us bodies: the later one starts 22-27 us
    /// late, the call returns after 47-66 us), and a run of 2 threads was faster than 1 only from about 200-250 us
    /// of one thread's work (twenty-third session, Zen 3, 2 cores: float64 5x5 median 256x256 440 us on one
    /// thread against 378 on two, 128x128 136 against 195; float64 3x3 min 512x512 210 against 190, 256x256 66
    /// against 127; uint8 3x3 min 1024x1024 76 against 131).
    public static let minimumNanosecondsPerThread = 125_000.0
}

/// A value shared across the worker threads of one run, which only read it or write disjoint parts.
private struct SharedAcrossWorkers<Value>: @unchecked Sendable {
    let value: Value
}

/// The first failure of a threaded run over chunks in C order: the lowest chunk's first failure is
/// the first failing element overall.
public final class FirstFailure<Failure>: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [(chunk: Int, failure: Failure)] = []

    /// An empty record.
    public init() {}

    /// Records chunk `chunk`'s first failure.
    public func record(chunk: Int, _ failure: Failure) {
        lock.lock()
        failures.append((chunk, failure))
        lock.unlock()
    }

    /// The failure of the lowest chunk that failed, if any.
    public var first: Failure? {
        lock.lock()
        defer { lock.unlock() }
        return failures.min { $0.chunk < $1.chunk }?.failure
    }
}
