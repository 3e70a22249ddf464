import FilterJIT
import FilterLang
import Foundation
import NDImage

/// `filterjit run KERNEL --input 'data/*.tif' --output-dir out/`: one compiled kernel over many files.
///
/// While this thread compiles the kernel, up to `--threads` - 1 other threads read and decode the first
/// files (1 MB of them) and ask the kernel to bring the next ones into the page cache (the compile uses
/// one core; reading needs no kernel). This thread then filters files until one has reached the kernel
/// (its first run compiles the fused specialisation), and the files left are filtered in parallel within
/// the thread budget: up to one worker per thread, each file's kernel run getting the threads left over,
/// each worker reading, filtering and writing its own files, so one worker's reads and writes overlap
/// another's filtering. Each output keeps its input's file name (and so its format) and is written
/// through a temporary file renamed on success, so a failed file leaves nothing behind and does not
/// stop the others.
struct BatchRun {
    /// The input files, in the order they are reported.
    let inputs: [String]
    /// Where the outputs go.
    let outputDirectory: String

    /// The files a `--input` names: the files of a directory, or a glob pattern's matches, with an
    /// image extension, sorted; an error when there are none.
    static func expandInputs(_ pattern: String) throws -> [String] {
        var candidates: [String]
        var info = stat()
        if stat(pattern, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            candidates = directoryEntries(pattern).filter { !$0.hasPrefix(".") }.map { joinedPath(pattern, $0) }
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
        var info = stat()
        guard stat(outputDirectory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw UserError("--output-dir '\(outputDirectory)' is not an existing directory")
        }
        guard access(outputDirectory, W_OK) == 0 else {
            throw UserError("cannot write into '\(outputDirectory)': the directory is not writable")
        }
        var seen: [String: String] = [:]
        for input in inputs {
            let name = lastPathComponent(input)
            if let other = seen[name] { throw UserError("'\(other)' and '\(input)' would both be written as '\(name)'") }
            seen[name] = input
        }
    }

    /// The output path of `input`.
    func outputPath(for input: String) -> String {
        joinedPath(outputDirectory, lastPathComponent(input))
    }

    /// Compiles the kernel with `compile` (reading the first files meanwhile), filters every file, prints
    /// failures as they happen, a progress line on a terminal, and a summary (its time includes the
    /// compile). Returns the number of files that failed; a compile error is thrown, with nothing written.
    /// `compile` returns the engine with the kernel: the engine must outlive the batch (the kernel only holds
    /// it weakly, and its fused specialisations are compiled in it, with its disk cache).
    func run(arguments: FilterOptionArguments, compile: () throws -> (Engine, Kernel)) throws -> Int {
        keepFreedMemoryForReuse()
        let budget = try arguments.checkedThreads()
        let workers = min(budget, inputs.count)
        let threadsPerFile = max(1, budget / workers)
        let start = DispatchTime.now()
        let profile = BatchProfile()
        let queue = BatchQueue(inputs: inputs, profile: profile)
        let readers = DispatchGroup()
        for _ in 0..<min(budget - 1, inputs.count - 1) {
            DispatchQueue.global().async(group: readers) { queue.readAhead() }
        }
        let engine: Engine, kernel: Kernel
        do {
            (engine, kernel) = try compile()
        } catch {
            queue.stopReadingAhead()
            readers.wait()
            throw error
        }
        profile.compiled(readAhead: queue.readAheadCount)
        let progress = FileProgress(total: inputs.count)
        let tally = BatchTally()
        let file = FileJob(batch: self, kernel: kernel, arguments: arguments, threads: threadsPerFile,
                           progress: progress, tally: tally, profile: profile)
        // This thread alone until a file reaches the kernel: a cold first run compiles the fused
        // specialisation on one core while the readers go on using the others.
        var buffers = WorkerBuffers()
        var warned = false
        while let job = queue.take() {
            let image = file.load(job)
            // The size/footprint warning once, not once per file.
            if let image, !warned, kernel.kind == .filter {
                warned = true
                if let (_, warning) = try? arguments.filterOptions(rank: image.array.rank), let warning {
                    printError("warning: \(warning)\n")
                }
            }
            file.filterAndWrite(job, image, buffers: &buffers)
            if image != nil { break }
        }
        queue.stopReadingAhead()
        profile.firstFileDone()
        // Then every thread of the budget takes files (the read-ahead ones first).
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            var buffers = WorkerBuffers()
            while let job = queue.take() {
                file.filterAndWrite(job, file.load(job), buffers: &buffers)
            }
        }
        readers.wait()
        withExtendedLifetime(engine) {}
        progress.finish()
        let seconds = milliseconds(since: start) / 1000
        let (failed, pixels) = tally.totals
        let failures = failed == 0 ? "" : ", \(failed) failed"
        print(String(format: "%d files%@, %@ pixels, %.2f s", inputs.count, failures, groupedThousands(pixels), seconds))
        profile.report(files: inputs.count)
        return failed
    }
}

/// One file's work, shared by the thread that runs first and the workers.
private struct FileJob: @unchecked Sendable {
    let batch: BatchRun
    let kernel: Kernel
    let arguments: FilterOptionArguments
    let threads: Int
    let progress: FileProgress
    let tally: BatchTally
    let profile: BatchProfile

    /// The job's image: read ahead, or read now; nil (reported, counted) when it cannot be read.
    func load(_ job: BatchQueue.Job) -> (array: NDArray, tiffTags: TIFFFile.Tags?)? {
        let loaded = job.loaded ?? profile.timing(.read) { BatchQueue.read(batch.inputs[job.index]) }
        switch loaded {
        case .success(let image): return image
        case .failure(let error):
            fail(job, error)
            return nil
        }
    }

    /// Filters a loaded image and writes the result; reports a failure without stopping. Does nothing
    /// for an image that could not be read (already reported).
    func filterAndWrite(_ job: BatchQueue.Job, _ image: (array: NDArray, tiffTags: TIFFFile.Tags?)?, buffers: inout WorkerBuffers) {
        guard let (array, tiffTags) = image else { return }
        let input = batch.inputs[job.index]
        do {
            let output = try buffers.output(for: array, kernel: kernel, arguments: arguments)
            let result = try profile.timing(.filter) {
                try applyKernel(kernel, to: array, arguments: arguments, into: output, threads: threads, quiet: true)
            }
            try profile.timing(.write) { try writeAtomically(result, to: batch.outputPath(for: input), tiffTags: tiffTags) }
            tally.finished(pixels: array.count)
            progress.advance()
        } catch {
            fail(job, error)
        }
    }

    private func fail(_ job: BatchQueue.Job, _ error: Error) {
        tally.failed()
        progress.clear()
        printError("error: \(batch.inputs[job.index]): \(message(of: error))\n")
        progress.advance()
    }

    private func message(of error: Error) -> String {
        if let error = error as? UserError { return error.message }
        if let error = error as? CompileError { return error.description }
        return "\(error)"
    }
}

/// A worker's output array, reused from file to file while the shape and element type stay the same
/// (a new array per file would be zeroed by calloc for nothing: the kernel writes every element).
private struct WorkerBuffers {
    private var reusable: NDArray?

    /// The array to filter `image` into, or nil to let the driver allocate (transforms, whose output
    /// shape is not the input's).
    mutating func output(for image: NDArray, kernel: Kernel, arguments: FilterOptionArguments) throws -> NDArray? {
        guard kernel.kind == .filter || kernel.kind == .lineFilter else { return nil }
        let type: ElementType
        switch try arguments.filterOutput() {
        case .elementType(let chosen): type = chosen
        default: type = image.elementType
        }
        if let reusable, reusable.shape == image.shape, reusable.elementType == type { return reusable }
        let fresh = try NDArray(shape: image.shape, elementType: type)
        reusable = fresh
        return fresh
    }
}

/// The files and who takes which: read-ahead threads take files in order while the kernel compiles;
/// then workers take the files read ahead (lowest index first), then fresh ones that they read themselves.
final class BatchQueue: @unchecked Sendable {
    typealias Loaded = Result<(array: NDArray, tiffTags: TIFFFile.Tags?), NDImageError>
    /// A file to filter: its index, and its image when it was read ahead.
    struct Job {
        let index: Int
        let loaded: Loaded?
    }

    private let inputs: [String]
    private let profile: BatchProfile
    private let condition = NSCondition()
    private var next = 0
    private var ready: [Int: Loaded] = [:]
    private var readyBytes = 0
    private var readingNow = 0
    private var readingAhead = true
    private var readAheadTotal = 0
    private var hinted = 0, hintedBytes = 0

    /// Decoded images read ahead stop at this many bytes (with at least one file per read-ahead thread).
    /// Few: each image read ahead lives in memory of its own, and faulting fresh pages in costs more CPU
    /// than the read itself (on this project's VM, 30-40 ms more for 100 x 512 KB read ahead than for the
    /// same files read by workers that reuse the memory of the file before, about 2 us per 4 KiB page).
    let readAheadLimit = 1 << 20
    /// After that, read-ahead threads only ask the kernel to bring the next files into the page cache
    /// (`posix_fadvise` WILLNEED; nothing to do when they are cached), up to this many bytes.
    let hintLimit = 256 << 20

    init(inputs: [String], profile: BatchProfile) {
        self.inputs = inputs
        self.profile = profile
    }

    /// Reads `path` (an error for this file only when it fails).
    static func read(_ path: String) -> Loaded {
        Result { () throws(NDImageError) in try ImageFile.readWithTags(path: path) }
    }

    /// A read-ahead thread: reads and decodes files in order until `readAheadLimit` bytes wait, then hints
    /// the files after them, until told to stop (the workers start) or the files or the limits run out.
    func readAhead() {
        while true {
            condition.lock()
            guard readingAhead else {
                condition.unlock()
                return
            }
            if next < inputs.count, readyBytes < readAheadLimit {
                let index = next
                next += 1
                readingNow += 1
                condition.unlock()
                let loaded = profile.timing(.read) { BatchQueue.read(inputs[index]) }
                condition.lock()
                ready[index] = loaded
                if case .success(let image) = loaded { readyBytes += image.array.storage.byteCount }
                readingNow -= 1
                readAheadTotal += 1
                condition.broadcast()
                condition.unlock()
                continue
            }
            hinted = max(hinted, next)
            guard hinted < inputs.count, hintedBytes < hintLimit else {
                condition.unlock()
                return
            }
            let index = hinted
            hinted += 1
            condition.unlock()
            let bytes = BatchQueue.adviseWillNeed(inputs[index])
            condition.lock()
            hintedBytes += bytes
            condition.unlock()
        }
    }

    /// Asks the kernel to start reading `path` into the page cache; returns its size.
    static func adviseWillNeed(_ path: String) -> Int {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return 0 }
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_WILLNEED)
        return Int(info.st_size)
    }

    /// Read-ahead threads stop after the file they are reading.
    func stopReadingAhead() {
        condition.lock()
        readingAhead = false
        condition.unlock()
    }

    /// How many files were read ahead so far.
    var readAheadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return readAheadTotal
    }

    /// The next file to filter: a read-ahead one, else a fresh one for the caller to read (waiting only
    /// while the last files are being read ahead); nil when every file is taken.
    func take() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let index = ready.keys.min(), let loaded = ready.removeValue(forKey: index) {
                if case .success(let image) = loaded { readyBytes -= image.array.storage.byteCount }
                return Job(index: index, loaded: loaded)
            }
            if next < inputs.count {
                next += 1
                return Job(index: next - 1, loaded: nil)
            }
            guard readingNow > 0 else { return nil }
            condition.wait()
        }
    }
}

/// The workers' shared counters: failures, pixels filtered.
private final class BatchTally: @unchecked Sendable {
    private let lock = NSLock()
    private var failures = 0, pixels = 0

    func finished(pixels count: Int) { lock.lock(); pixels += count; lock.unlock() }
    func failed() { lock.lock(); failures += 1; lock.unlock() }
    var totals: (failed: Int, pixels: Int) { lock.lock(); defer { lock.unlock() }; return (failures, pixels) }
}

/// With `FILTERJIT_BATCH_PROFILE=1` in the environment, a batch ends with where its time went on
/// stderr (benchmarks/batch.py reads it): the wall time of the compile (and how many files were read
/// meanwhile), of the first file (with a cold cache, the fused kernel's compile) and of the other
/// files, and the time summed over threads of reading (with decoding), filtering, and writing
/// (encoding, the temporary file, the rename).
final class BatchProfile: @unchecked Sendable {
    enum Stage: Int, CaseIterable { case read, filter, write }
    private let enabled = getenv("FILTERJIT_BATCH_PROFILE").map { String(cString: $0) == "1" } ?? false
    private let lock = NSLock()
    private var sums = [Double](repeating: 0, count: Stage.allCases.count)
    private var start = DispatchTime.now()
    private var compileMilliseconds = 0.0, firstFileMilliseconds = 0.0, otherFilesMilliseconds = 0.0
    private var readAhead = 0

    /// Runs `body`, adding its wall time to `stage` when profiling.
    func timing<T, E: Error>(_ stage: Stage, _ body: () throws(E) -> T) throws(E) -> T {
        guard enabled else { return try body() }
        let begin = DispatchTime.now()
        defer {
            let elapsed = milliseconds(since: begin)
            lock.lock()
            sums[stage.rawValue] += elapsed
            lock.unlock()
        }
        return try body()
    }

    func compiled(readAhead count: Int) {
        compileMilliseconds = milliseconds(since: start)
        readAhead = count
        start = DispatchTime.now()
    }

    func firstFileDone() {
        firstFileMilliseconds = milliseconds(since: start)
        start = DispatchTime.now()
    }

    func report(files: Int) {
        guard enabled else { return }
        otherFilesMilliseconds = milliseconds(since: start)
        lock.lock()
        defer { lock.unlock() }
        printError(String(format: "profile: compile %.1f ms (%d files read meanwhile), first file %.1f ms, other files %.1f ms; "
                          + "summed over threads: read %.1f ms, filter %.1f ms, write %.1f ms (%d files)\n",
                          compileMilliseconds, readAhead, firstFileMilliseconds, otherFilesMilliseconds,
                          sums[Stage.read.rawValue], sums[Stage.filter.rawValue], sums[Stage.write.rawValue], files))
    }
}

/// The names in directory `path` (nil-safe: none when it cannot be read).
private func directoryEntries(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// `directory/name` (one slash between them).
private func joinedPath(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}

/// The last component of `path` (trailing slashes ignored).
private func lastPathComponent(_ path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    return trimmed.lastIndex(of: "/").map { String(trimmed[trimmed.index(after: $0)...]) } ?? String(trimmed)
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
