// The on-disk kernel cache: relocatable object files keyed by the kernel signature plus
// everything that changes the machine code (FilterJIT's codegen version, the LLVM version,
// the host CPU name and features, the optimisation pipeline), so a new process skips
// optimisation and code generation and never loads stale or foreign code.

import Foundation
import FilterCodegen

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

/// A directory of compiled kernels. Safe to share between threads and processes: files are
/// written to a temporary name and renamed into place.
public final class DiskKernelCache: @unchecked Sendable {
    /// Bumped whenever code generation changes, so that old object files are never loaded.
    public static let codegenVersion = "filterjit-codegen-1"

    /// The directory holding `<key>.o` and `<key>.meta` files.
    public let directory: URL

    /// A cache in `directory` (created on first store).
    public init(directory: URL) {
        self.directory = directory
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
    public static func key(for signature: KernelSignature, machine: TargetMachine, optimization: OptimizationLevel) -> String {
        let parts = [codegenVersion, NativeTarget.llvmVersion, machine.triple, machine.cpuName, machine.cpuFeatures,
                     optimization.pipeline, "\(optimization.vectorize)", "\(optimization.unrollAndInterleave)",
                     signature.stableKey]
        return SHA256.hexDigest(parts.joined(separator: "\u{1F}"))
    }

    private func objectURL(_ key: String) -> URL { directory.appendingPathComponent("\(key).o") }
    private func metadataURL(_ key: String) -> URL { directory.appendingPathComponent("\(key).meta") }

    /// The object code stored under `key` and the symbol it exports, if present and readable.
    public func load(key: String) -> (objectCode: [UInt8], symbol: String)? {
        guard let data = try? Data(contentsOf: objectURL(key)),
              let metadata = try? String(contentsOf: metadataURL(key), encoding: .utf8) else { return nil }
        let lines = metadata.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 2, !lines[0].isEmpty else { return nil }
        return ([UInt8](data), lines[0])
    }

    /// Stores object code; failures (read-only or full disk) are ignored: the cache is an optimisation.
    public func store(key: String, objectCode: [UInt8], symbol: String, kernelName: String) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // Metadata first: a reader needs both files, and the object file appears last, atomically.
            try Data("\(symbol)\n\(kernelName)\n".utf8).write(to: metadataURL(key), options: .atomic)
            try Data(objectCode).write(to: objectURL(key), options: .atomic)
        } catch {
            // Deliberately ignored; the kernel was compiled and works without the cache.
        }
    }

    /// Every complete entry, oldest first.
    public func entries() -> [DiskCacheEntry] {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey])) ?? []
        var result: [DiskCacheEntry] = []
        for file in files where file.pathExtension == "o" {
            let key = file.deletingPathExtension().lastPathComponent
            guard let metadata = try? String(contentsOf: metadataURL(key), encoding: .utf8) else { continue }
            let lines = metadata.split(separator: "\n").map(String.init)
            let values = try? file.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey])
            result.append(DiskCacheEntry(key: key, kernelName: lines.count > 1 ? lines[1] : "?",
                                         size: values?.fileSize ?? 0, modified: values?.contentModificationDate ?? Date.distantPast))
        }
        return result.sorted { $0.modified < $1.modified }
    }

    /// Deletes every entry (and only FilterJIT's files).
    public func clear() throws {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        for file in files where file.pathExtension == "o" || file.pathExtension == "meta" {
            try FileManager.default.removeItem(at: file)
        }
    }
}
