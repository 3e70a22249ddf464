#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The temporary files this process is writing right now, so a signal handler can remove them before
/// the process ends: every file FilterJIT writes goes to a temporary in the same directory and is
/// renamed into place on success only, and an interrupted run must leave no temporary behind.
///
/// The registry is a fixed table of C strings that `removeAllForSignal()` reads without locks or
/// allocation (both unsafe in a signal handler); registering and unregistering take a lock.
public enum TemporaryFiles {
    /// How many temporaries may be pending at once (a batch run writes several outputs at once).
    static let capacity = 256
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        table.initialize(repeating: nil, count: capacity)
        return table
    }()
    static let lock = NSLock()

    /// Records `path` as pending; returns its slot, or nil when the table is full (the file is then
    /// still removed on failure, only not by a signal handler).
    static func register(_ path: String) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        for index in 0..<capacity where slots[index] == nil {
            slots[index] = strdup(path)
            return index
        }
        return nil
    }

    /// Forgets the pending file in `slot`.
    static func unregister(_ slot: Int?) {
        guard let slot else { return }
        lock.lock()
        defer { lock.unlock() }
        let pending = slots[slot]
        slots[slot] = nil
        free(pending)
    }

    /// Unlinks every pending temporary. Async-signal-safe: only reads the table and calls unlink(2).
    public static func removeAllForSignal() {
        for index in 0..<capacity {
            if let path = slots[index] { unlink(path) }
        }
    }

    /// A fresh temporary name next to `path` (same directory, so rename(2) is atomic): a hidden file
    /// carrying the process id, so a later run can tell a temporary of a dead process.
    public static func temporaryPath(for path: String) -> String {
        // String surgery rather than URL (whose parsing cost showed in batch runs of small files):
        // `dir/name` gives `dir/.name.tmp-…`, a bare `name` gives `.name.tmp-…` in the same (current) directory.
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let slash = trimmed.lastIndex(of: "/")
        let directory = slash.map { trimmed[...$0] } ?? ""
        let name = slash.map { trimmed[trimmed.index(after: $0)...] } ?? trimmed
        return "\(directory).\(name).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    }

    /// Writes `bytes` to a registered temporary next to `path`, then renames it onto `path`. On any
    /// failure (full disk, file-size limit, rename refused) the temporary is removed and `path` keeps
    /// its previous contents; errors name `path`, never the temporary.
    public static func replace(_ path: String, with bytes: [UInt8]) throws(NDImageError) {
        try bytes.withUnsafeBufferPointer { buffer throws(NDImageError) in try replace(path, with: UnsafeRawBufferPointer(buffer)) }
    }

    /// `replace(_:with:)` for bytes held outside an array.
    public static func replace(_ path: String, with bytes: UnsafeRawBufferPointer) throws(NDImageError) {
        let temporary = temporaryPath(for: path)
        let slot = register(temporary)
        defer { unregister(slot) }
        do throws(NDImageError) {
            try writeNew(bytes, to: temporary, reportedAs: path)
            guard rename(temporary, path) == 0 else {
                throw .io("cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Writes `bytes` into a new file at `path` (exclusively created), naming `shownPath` in errors.
    static func writeNew(_ bytes: UnsafeRawBufferPointer, to path: String, reportedAs shownPath: String) throws(NDImageError) {
        try FileBytes.writeAll(bytes, to: path, flags: O_EXCL, reportedAs: shownPath)
    }

    /// Removes temporaries in `directory` (named as `temporaryPath(for:)` names them, and accepted by
    /// `isOurs`) whose writing process no longer exists: what a run killed by SIGKILL left behind.
    public static func removeAbandoned(in directory: URL, isOurs: (String) -> Bool) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix(".") && isOurs(name) {
            guard let marker = name.range(of: ".tmp-") else { continue }
            let digits = name[marker.upperBound...].prefix { $0.isASCII && $0.isNumber }
            guard let pid = pid_t(digits), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink(directory.appendingPathComponent(name).path)
            }
        }
    }
}
