// The on-disk kernel cache: relocatable object files keyed by the kernel signature plus
// everything that changes the machine code (FilterJIT's codegen version, the LLVM version,
// the host CPU name and features, the optimisation pipeline), so a new process skips
// optimisation and code generation and never loads stale or foreign code.

import Foundation
import FilterCodegen
import NDImage

/// One entry of the disk cache.
public struct DiskCacheEntry: Hashable, Sendable {
    /// The file key (64 hex digits).
    public var key: String
    /// The kernel function's name.
    public var kernelName: String
    /// Size of the object file in bytes.
    public var size: Int
    /// When it was written.
    public var modified: Date
}

/// What a disk-cache lookup found.
public enum DiskCacheLookup: Sendable {
    /// A verified entry: its object code and the symbol it exports.
    case hit(objectCode: [UInt8], symbol: String)
    /// No entry for the key.
    case miss
    /// An entry that failed verification (truncated, damaged, foreign); it has been removed.
    case corrupt(String)
}

/// A directory of compiled kernels, one checksummed file per key. Safe to share between threads and
/// processes: files are written under a temporary name and renamed into place, so a reader sees a
/// whole entry or none; every entry carries a SHA-256 of its contents and is verified before use, so a
/// damaged file is rebuilt, never loaded. The directory is bounded: after each store the least
/// recently used entries are removed until it fits.
public final class DiskKernelCache: @unchecked Sendable {
    /// Bumped whenever code generation changes, so that old object files are never loaded.
    public static let codegenVersion = "filterjit-codegen-19"
    /// The first bytes of every entry file.
    static let magic = Array("FJITKRN1".utf8)
    /// The largest entry accepted, so a damaged length field cannot make us allocate without bound.
    static let largestEntry = 64 << 20

    /// The directory holding the `<key>.fjk` entry files.
    public let directory: URL
    /// The most bytes the directory may hold before the least recently used entries are removed.
    public let capacityBytes: Int

    /// A cache in `directory` (created on first store) bounded to `capacityBytes` (default: 256 MiB,
    /// or `$FILTERJIT_CACHE_MAX_BYTES`).
    public init(directory: URL, capacityBytes: Int? = nil) {
        self.directory = directory
        let fromEnvironment = ProcessInfo.processInfo.environment["FILTERJIT_CACHE_MAX_BYTES"].flatMap { Int($0) }
        self.capacityBytes = max(0, capacityBytes ?? fromEnvironment ?? 256 << 20)
    }

    /// `$FILTERJIT_CACHE_DIR`, else `$XDG_CACHE_HOME/filterjit`, else `~/.cache/filterjit` (cli.md).
    public static var defaultDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["FILTERJIT_CACHE_DIR"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit, isDirectory: true)
        }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("filterjit", isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/filterjit", isDirectory: true)
    }

    /// The file key of a signature compiled for this machine with `optimization`.
    /// (`version` is a parameter only so tests can show that another FilterJIT version gets other keys.)
    public static func key(for signature: KernelSignature, machine: TargetMachine, optimization: OptimizationLevel,
                           version: String = codegenVersion) -> String {
        let parts = [version, NativeTarget.llvmVersion, machine.triple, machine.cpuName, machine.cpuFeatures,
                     optimization.pipeline, optimization.callbackPipeline, "\(optimization.vectorize)", "\(optimization.unrollAndInterleave)",
                     signature.stableKey]
            // Array functions have their own pipeline (other kernels' keys are as before it existed).
            + (signature.variant.isArrayFunction ? [optimization.arrayFunctionPipeline] : [])
        return SHA256.hexDigest(parts.joined(separator: "\u{1F}"))
    }

    private func entryURL(_ key: String) -> URL { directory.appendingPathComponent("\(key).fjk") }

    /// The verified entry stored under `key`. A damaged entry is deleted and reported as `.corrupt`.
    public func load(key: String) -> DiskCacheLookup {
        let url = entryURL(key)
        guard let data = try? Data(contentsOf: url) else { return .miss }
        switch Self.decode([UInt8](data)) {
        case .success(let entry):
            // Touch it, so the size bound removes the least recently used entries first.
            try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: url.path)
            return .hit(objectCode: entry.objectCode, symbol: entry.symbol)
        case .failure(let problem):
            try? FileManager.default.removeItem(at: url)
            return .corrupt("disk cache entry \(url.path) is \(problem.reason); it was removed and the kernel is compiled again")
        }
    }

    /// Stores object code; failures (read-only or full disk) are ignored: the cache is an optimisation.
    public func store(key: String, objectCode: [UInt8], symbol: String, kernelName: String) {
        let bytes = Self.encode(objectCode: objectCode, symbol: symbol, kernelName: kernelName)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // A registered temporary renamed into place (rename(2) replaces atomically: concurrent writers
            // of one key both succeed, one file wins); a signal handler removes it if we are interrupted.
            try TemporaryFiles.replace(entryURL(key).path, with: bytes)
        } catch {
            // Deliberately ignored; the kernel was compiled and works without the cache.
            return
        }
        trim()
        TemporaryFiles.removeAbandoned(in: directory, isOurs: Self.isCacheFileName)
    }

    /// Removes the least recently used entries until the directory fits `capacityBytes`.
    func trim() {
        var entries = self.entries()
        var total = entries.reduce(0) { $0 + $1.size }
        while total > capacityBytes, !entries.isEmpty {
            let oldest = entries.removeFirst()
            try? FileManager.default.removeItem(at: entryURL(oldest.key))
            total -= oldest.size
        }
    }

    /// Every entry whose header reads, least recently used first.
    public func entries() -> [DiskCacheEntry] {
        let keys: [URLResourceKey] = [.fileSizeKey, .contentModificationDateKey]
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: keys)) ?? []
        var result: [DiskCacheEntry] = []
        for file in files where file.pathExtension == "fjk" {
            let values = try? file.resourceValues(forKeys: Set(keys))
            let name = (try? FileHandle(forReadingFrom: file)).flatMap { handle -> String? in
                defer { try? handle.close() }
                return Self.kernelName(fromPrefix: [UInt8](handle.readData(ofLength: 4096)))
            }
            result.append(DiskCacheEntry(key: file.deletingPathExtension().lastPathComponent, kernelName: name ?? "?",
                                         size: values?.fileSize ?? 0,
                                         modified: values?.contentModificationDate ?? Date.distantPast))
        }
        return result.sorted { $0.modified < $1.modified }
    }

    /// Deletes every entry: only regular files named as this cache names them (`<64 hex digits>.fjk`
    /// and its `.<key>.fjk.tmp-...` temporaries), so a cache directory pointed at other data loses nothing else.
    public func clear() throws {
        let keys: [URLResourceKey] = [.isRegularFileKey]
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: keys)) ?? []
        for file in files where Self.isCacheFileName(file.lastPathComponent) {
            guard (try? file.resourceValues(forKeys: Set(keys)))?.isRegularFile == true else { continue }
            try FileManager.default.removeItem(at: file)
        }
    }

    /// Whether a file name is one this cache writes.
    static func isCacheFileName(_ name: String) -> Bool {
        func isKey<S: StringProtocol>(_ text: S) -> Bool {
            text.count == 64 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
        }
        if name.hasPrefix("."), let range = name.range(of: ".tmp-") {
            // `.<key>.fjk.tmp-<pid>-<random>` (and `.<key>.tmp-...` from before).
            var stem = name[name.index(after: name.startIndex)..<range.lowerBound]
            if stem.hasSuffix(".fjk") { stem = stem.dropLast(4) }
            return isKey(stem)
        }
        if name.hasSuffix(".fjk") { return isKey(name.dropLast(4)) }
        return false
    }

    // MARK: Entry format
    //
    //   "FJITKRN1" | u32 header length | header: "symbol\nkernel name\n" | u64 object length |
    //   32-byte SHA-256 of (header, object) | object code          (integers little-endian)

    struct DecodedEntry {
        var symbol: String
        var kernelName: String
        var objectCode: [UInt8]
    }

    struct DecodeProblem: Error {
        var reason: String
    }

    static func encode(objectCode: [UInt8], symbol: String, kernelName: String) -> [UInt8] {
        let header = Array("\(symbol)\n\(kernelName)\n".utf8)
        var bytes = magic
        bytes += withUnsafeBytes(of: UInt32(header.count).littleEndian, Array.init)
        bytes += header
        bytes += withUnsafeBytes(of: UInt64(objectCode.count).littleEndian, Array.init)
        bytes += SHA256.digest(header + objectCode)
        bytes += objectCode
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> Result<DecodedEntry, DecodeProblem> {
        var cursor = 0
        func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, count <= bytes.count - cursor else { return nil }
            defer { cursor += count }
            return bytes[cursor..<(cursor + count)]
        }
        func integer(_ slice: ArraySlice<UInt8>) -> UInt64 {
            slice.reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        guard let head = take(magic.count), Array(head) == magic else {
            return .failure(DecodeProblem(reason: "not a FilterJIT kernel file (bad magic)"))
        }
        guard let headerLength = take(4).map(integer), headerLength <= 4096,
              let header = take(Int(headerLength)) else {
            return .failure(DecodeProblem(reason: "truncated (header)"))
        }
        guard let objectLength = take(8).map(integer), objectLength <= UInt64(largestEntry) else {
            return .failure(DecodeProblem(reason: "damaged (object length)"))
        }
        guard let checksum = take(32), let object = take(Int(objectLength)), cursor == bytes.count else {
            return .failure(DecodeProblem(reason: "truncated or padded (object code)"))
        }
        guard SHA256.digest(Array(header) + Array(object)) == Array(checksum) else {
            return .failure(DecodeProblem(reason: "damaged (checksum mismatch)"))
        }
        let fields = String(decoding: header, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard fields.count >= 2, !fields[0].isEmpty else {
            return .failure(DecodeProblem(reason: "damaged (header)"))
        }
        return .success(DecodedEntry(symbol: String(fields[0]), kernelName: String(fields[1]), objectCode: Array(object)))
    }

    /// The kernel name from the first bytes of an entry file, without reading the object code.
    static func kernelName(fromPrefix bytes: [UInt8]) -> String? {
        guard bytes.count >= magic.count + 4, Array(bytes[0..<magic.count]) == magic else { return nil }
        let length = bytes[magic.count..<(magic.count + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
        guard length <= 4096, bytes.count >= magic.count + 4 + length else { return nil }
        let header = String(decoding: bytes[(magic.count + 4)..<(magic.count + 4 + length)], as: UTF8.self)
        let fields = header.split(separator: "\n", omittingEmptySubsequences: false)
        return fields.count >= 2 ? String(fields[1]) : nil
    }
}
