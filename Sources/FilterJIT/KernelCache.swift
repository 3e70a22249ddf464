// The in-memory kernel cache: one Hashable signature per compiled kernel, hit/miss
// counters, an LRU bound, and at most one compilation per signature in flight.

import Foundation
import FilterLang

/// What identifies a compiled kernel: the source, the function, and the variant of its code.
/// Exactly what changes the generated code is here; mode, cval, origins, offsets, shape, strides and
/// parameters are run-time arguments.
public struct KernelSignature: Hashable, Sendable, CustomStringConvertible {
    /// SHA-256 of the source text (or of the typed program's dump for programs compiled directly).
    public var sourceDigest: SHA256.Digest
    /// The requested kernel function (nil: the last `def`).
    public var function: String?
    /// A requested kernel kind; nil means the kind the source declares.
    public var kind: KernelKind?
    /// The variant of the code.
    public var variant: KernelVariant
    /// Whether `sourceDigest` is of a typed program's dump rather than of source text.
    public var fromTypedProgram: Bool

    /// Creates the signature of a source text.
    public init(source: String, function: String? = nil, kind: KernelKind? = nil, variant: KernelVariant = .callback,
                fromTypedProgram: Bool = false) {
        self.sourceDigest = SHA256.digest(source)
        self.function = function
        self.kind = kind
        self.variant = variant
        self.fromTypedProgram = fromTypedProgram
    }

    /// The same kernel with another variant.
    public func with(variant: KernelVariant) -> KernelSignature {
        var copy = self
        copy.variant = variant
        return copy
    }

    /// A stable text key over every field (64 hex digits), for symbol names and the disk cache.
    public var stableKey: String {
        let digest = sourceDigest.bytes.map { byte -> String in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
        return SHA256.hexDigest([digest, function ?? "\u{0}", kind?.rawValue ?? "\u{0}", variant.description,
                                 fromTypedProgram ? "typed-program" : "source"]
            .joined(separator: "\u{1F}"))
    }

    public var description: String {
        let hex = sourceDigest.bytes.prefix(6).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        return "\(hex)…/\(function ?? "-")/\(kind?.rawValue ?? "-")/\(variant)"
    }
}

/// Counters of a `KernelCache`.
public struct KernelCacheStatistics: Hashable, Sendable {
    /// Lookups answered by an existing (or in-flight) kernel.
    public var hits: Int
    /// Lookups that compiled.
    public var misses: Int
    /// Kernels dropped from the cache by the LRU bound.
    public var evictions: Int
    /// Kernels the cache holds strongly now.
    public var count: Int
}

/// A bounded LRU map from signatures to kernels. A kernel dropped by the bound stays findable
/// while anything else keeps it alive (its code is freed only when the last reference goes).
public final class KernelCache: @unchecked Sendable {
    private final class Entry {
        var strong: Kernel?
        weak var weak: Kernel?
        var lastUse: UInt64

        init(_ kernel: Kernel, lastUse: UInt64) {
            strong = kernel
            weak = kernel
            self.lastUse = lastUse
        }
    }

    private final class Pending: @unchecked Sendable {
        let group = DispatchGroup()
        // Written once before `group.leave()`, read only after `group.wait()`.
        var result: Result<Kernel, any Error>?
        init() { group.enter() }
    }

    /// The most kernels held strongly.
    public let capacity: Int
    private let lock = NSLock()
    private var entries: [KernelSignature: Entry] = [:]
    private var pending: [KernelSignature: Pending] = [:]
    private var clock: UInt64 = 0
    private var hits = 0
    private var misses = 0
    private var evictions = 0

    /// Creates a cache holding at most `capacity` kernels strongly (at least 1).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The counters.
    public var statistics: KernelCacheStatistics {
        lock.lock()
        defer { lock.unlock() }
        return KernelCacheStatistics(hits: hits, misses: misses, evictions: evictions,
                                     count: entries.values.reduce(0) { $0 + ($1.strong == nil ? 0 : 1) })
    }

    /// The cached kernel of `signature`, if any (counts as a hit when found).
    public func lookup(_ signature: KernelSignature) -> Kernel? {
        lock.lock()
        defer { lock.unlock() }
        return liveKernel(signature)
    }

    /// Must hold the lock.
    private func liveKernel(_ signature: KernelSignature) -> Kernel? {
        guard let entry = entries[signature], let kernel = entry.weak else { return nil }
        clock &+= 1
        entry.lastUse = clock
        if entry.strong == nil {
            // Revived: a live kernel that the bound had dropped comes back into the cache.
            entry.strong = kernel
            evictIfNeeded()
        }
        hits += 1
        return kernel
    }

    /// The kernel of `signature`: cached, being compiled by another thread (waits for it), or
    /// compiled now by `make`. Errors are not cached; concurrent waiters get the same error.
    public func kernel(for signature: KernelSignature, make: () throws -> Kernel) throws -> Kernel {
        lock.lock()
        if let kernel = liveKernel(signature) {
            lock.unlock()
            return kernel
        }
        if let inFlight = pending[signature] {
            hits += 1
            lock.unlock()
            inFlight.group.wait()
            guard let result = inFlight.result else { throw LLVMCacheError.compilationVanished }
            return try result.get()
        }
        let mine = Pending()
        pending[signature] = mine
        misses += 1
        lock.unlock()

        let result = Result { try make() }
        lock.lock()
        pending[signature] = nil
        if case .success(let kernel) = result {
            clock &+= 1
            entries[signature] = Entry(kernel, lastUse: clock)
            evictIfNeeded()
        }
        lock.unlock()
        mine.result = result
        mine.group.leave()
        return try result.get()
    }

    /// Drops strong references beyond `capacity`, least recently used first. Must hold the lock.
    private func evictIfNeeded() {
        // Forget entries whose kernel died.
        for (signature, entry) in entries where entry.weak == nil { entries[signature] = nil }
        var held = entries.filter { $0.value.strong != nil }
        while held.count > capacity {
            guard let oldest = held.min(by: { $0.value.lastUse < $1.value.lastUse }) else { break }
            oldest.value.strong = nil
            held[oldest.key] = nil
            evictions += 1
            // The kernel (and its code) dies here unless a caller still holds it.
            if oldest.value.weak == nil { entries[oldest.key] = nil }
        }
    }

    /// Drops every kernel the cache holds. Live ones stay valid for their holders and are still
    /// found by a later compile of the same signature (their code and symbol are still in the JIT).
    public func removeAll() {
        lock.lock()
        var dropped: [Kernel] = []
        for entry in entries.values {
            if let kernel = entry.strong { dropped.append(kernel) }
            entry.strong = nil
        }
        lock.unlock()
        // Kernels die outside the lock, when `dropped` goes.
        dropped.removeAll()
        lock.lock()
        for (signature, entry) in entries where entry.weak == nil { entries[signature] = nil }
        lock.unlock()
    }
}

/// Internal failures of the cache machinery.
enum LLVMCacheError: Error {
    case compilationVanished
}
