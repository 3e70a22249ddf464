import FilterJIT
import FilterLang
import Foundation
import NDImage

/// `filterjit run KERNEL --input 'data/*.tif' --output-dir out/`: one compiled kernel over many files.
///
/// The files are filtered in parallel within the thread budget (`--threads`): up to one worker per
/// thread, each file's kernel run getting the threads left over. Each output keeps its input's file
/// name (and so its format) and is written through a temporary file renamed on success, so a failed
/// file leaves nothing behind and does not stop the others.
struct BatchRun {
    /// The input files, in the order they are reported.
    let inputs: [String]
    /// Where the outputs go.
    let outputDirectory: String

    /// The files a `--input` names: the files of a directory, or a glob pattern's matches, with an
    /// image extension, sorted; an error when there are none.
    static func expandInputs(_ pattern: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        var candidates: [String]
        if FileManager.default.fileExists(atPath: pattern, isDirectory: &isDirectory), isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: pattern)) ?? []
            candidates = names.filter { !$0.hasPrefix(".") }.map { URL(fileURLWithPath: pattern).appendingPathComponent($0).path }
        } else {
            var matches = glob_t()
            defer { globfree(&matches) }
            let status = glob(pattern, 0, nil, &matches)
            guard status == 0 || status == GLOB_NOMATCH else { throw UserError("cannot expand '\(pattern)'") }
            candidates = (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
        }
        let files = candidates.filter {
            ImageFile.extensions.contains(ImageFile.fileExtension($0)) && FileBytes.unreadableReason($0) == nil
        }.sorted()
        guard !files.isEmpty else {
            throw UserError("no image files (.npy, .png, .tif, .tiff) match '\(pattern)'")
        }
        return files
    }

    /// Checks the output directory and that no two inputs share a file name (they would overwrite each other).
    func checkOutputs() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: outputDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UserError("--output-dir '\(outputDirectory)' is not an existing directory")
        }
        guard access(outputDirectory, W_OK) == 0 else {
            throw UserError("cannot write into '\(outputDirectory)': the directory is not writable")
        }
        var seen: [String: String] = [:]
        for input in inputs {
            let name = URL(fileURLWithPath: input).lastPathComponent
            if let other = seen[name] { throw UserError("'\(other)' and '\(input)' would both be written as '\(name)'") }
            seen[name] = input
        }
    }

    /// The output path of `input`.
    func outputPath(for input: String) -> String {
        URL(fileURLWithPath: outputDirectory).appendingPathComponent(URL(fileURLWithPath: input).lastPathComponent).path
    }

    /// Filters every file; prints failures as they happen, a progress line on a terminal, and a summary.
    /// Returns the number of files that failed.
    func run(kernel: Kernel, arguments: FilterOptionArguments) throws -> Int {
        keepFreedMemoryForReuse()
        let budget = try arguments.checkedThreads()
        let workers = min(budget, inputs.count)
        let threadsPerFile = max(1, budget / workers)
        let start = DispatchTime.now()
        let progress = FileProgress(total: inputs.count)
        let tally = BatchTally()
        // The size/footprint warning once, not once per file.
        if kernel.kind == .filter, let first = inputs.first, let image = try? ImageFile.read(path: first),
           let (_, warning) = try? arguments.filterOptions(rank: image.rank), let warning {
            printError("warning: \(warning)\n")
        }
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let index = tally.claim(below: inputs.count) {
                let input = inputs[index]
                do {
                    let (image, tiffTags) = try ImageFile.readWithTags(path: input)
                    let result = try applyKernel(kernel, to: image, arguments: arguments, threads: threadsPerFile, quiet: true)
                    try writeAtomically(result, to: outputPath(for: input), tiffTags: tiffTags)
                    tally.finished(pixels: image.count)
                } catch {
                    tally.failed()
                    progress.clear()
                    printError("error: \(input): \(message(of: error))\n")
                }
                progress.advance()
            }
        }
        progress.finish()
        let seconds = milliseconds(since: start) / 1000
        let (failed, pixels) = tally.totals
        let failures = failed == 0 ? "" : ", \(failed) failed"
        print(String(format: "%d files%@, %@ pixels, %.2f s", inputs.count, failures, groupedThousands(pixels), seconds))
        return failed
    }

    private func message(of error: Error) -> String {
        if let error = error as? UserError { return error.message }
        if let error = error as? CompileError { return error.description }
        return "\(error)"
    }
}

/// The workers' shared counters: the next file to take, failures, pixels filtered.
private final class BatchTally: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0, failures = 0, pixels = 0

    /// The index of the next file to filter, or nil when all are taken.
    func claim(below count: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }

    func finished(pixels count: Int) { lock.lock(); pixels += count; lock.unlock() }
    func failed() { lock.lock(); failures += 1; lock.unlock() }
    var totals: (failed: Int, pixels: Int) { lock.lock(); defer { lock.unlock() }; return (failures, pixels) }
}

/// Every file allocates the same few buffers (file bytes, input, output, encoded output). By default glibc
/// maps each large one afresh and returns it on free, so the kernel faults in and zeroes every page again
/// for every file (two thirds of a batch's CPU time on 512x512 images); keeping freed memory in the heap
/// lets the next file reuse it.
private func keepFreedMemoryForReuse() {
    #if os(Linux)
    _ = glibcMallopt(-3, 64 << 20)   // M_MMAP_THRESHOLD
    _ = glibcMallopt(-1, 512 << 20)  // M_TRIM_THRESHOLD
    #endif
}

#if os(Linux)
/// glibc's `int mallopt(int, int)` (malloc.h is not part of the Glibc module Swift imports).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// `1234567` as `1,234,567`.
func groupedThousands(_ value: Int) -> String {
    let digits = String(value)
    var result = ""
    for (index, character) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(character)
    }
    return result
}

/// `files 12/100 [#####.....]` on stderr, redrawn as files finish; only when stderr is a terminal.
final class FileProgress: @unchecked Sendable {
    private let total: Int
    private let lock = NSLock()
    private var done = 0
    private let enabled = isatty(STDERR_FILENO) != 0

    init(total: Int) { self.total = total }

    /// One more file finished.
    func advance() {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        guard enabled else { return }
        let width = 30
        let filled = total == 0 ? width : done * width / total
        printError("\rfiles \(done)/\(total) [" + String(repeating: "#", count: filled)
            + String(repeating: ".", count: width - filled) + "]")
    }

    /// Erases the line so an error message starts on a clean line.
    func clear() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        printError("\r\u{1B}[K")
    }

    /// Erases the line at the end.
    func finish() { clear() }
}
