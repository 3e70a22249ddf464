import Foundation
import Testing

/// Runs the built `filterjit` executable and captures what it prints.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The repository root (three levels above this file).
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `filterjit` binary built next to the test bundle.
func filterjitExecutable() -> URL {
    var candidates: [URL] = []
    let argv0 = URL(fileURLWithPath: CommandLine.arguments[0])
    candidates.append(argv0.deletingLastPathComponent().appendingPathComponent("filterjit"))
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("filterjit"))
    candidates.append(repositoryRoot.appendingPathComponent(".build/debug/filterjit"))
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[2]
}

/// Runs `filterjit` with `arguments` in `directory` (default: the repository root), feeding `input` on stdin.
func runCLI(_ arguments: [String], input: String? = nil, directory: URL = repositoryRoot,
            environment: [String: String] = [:]) throws -> CLIResult {
    let process = Process()
    process.executableURL = filterjitExecutable()
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    // Output goes to temporary files, so a chatty child can never block on a full pipe.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("filterjit-cli-\(UUID())")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
    let inPipe = Pipe()
    process.standardOutput = outHandle
    process.standardError = errHandle
    process.standardInput = inPipe
    let child = try Child(launching: process)
    if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
    try inPipe.fileHandleForWriting.close()
    child.waitForExit()
    try outHandle.close()
    try errHandle.close()
    let outData = try Data(contentsOf: outURL), errData = try Data(contentsOf: errURL)
    return CLIResult(status: process.terminationStatus,
                     stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

/// Whether a `filterjit` child process runs float pairwise sums in vector code: AVX-512 (the CPU has
/// AVX-512 F and BW, as /proc/cpuinfo names them, and FILTERJIT_NO_AVX512 leaves them on: unset, empty or
/// starting with '0', as the C side reads it) or else AVX2 (FILTERJIT_NO_AVX2 likewise). The pairwise
/// strategy starts at 26 taps only then (at 129 otherwise).
func childVectorisesPairwiseSums() -> Bool {
    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    func on(_ variable: String) -> Bool {
        let off = ProcessInfo.processInfo.environment[variable] ?? ""
        return off.isEmpty || off.hasPrefix("0")
    }
    return (cpu.contains("avx512f") && cpu.contains("avx512bw") && on("FILTERJIT_NO_AVX512"))
        || (cpu.contains(" avx2") && on("FILTERJIT_NO_AVX2"))
}
