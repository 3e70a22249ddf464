import Foundation
import Testing

/// How long a child may run before its test kills it and fails: far more than any test needs, so that
/// a hung child fails one test, with its stacks, instead of stopping the whole run.
let childProcessTimeout: Double = 240

/// A started child process whose exit is signalled by its termination handler.
///
/// `Process.waitUntilExit()` polls the calling thread's run loop; on Linux, from the test runner's
/// worker threads, it can miss the exit of a child that has already ended and wait forever. A
/// semaphore signalled by `terminationHandler`, which is set before the launch so that even a child
/// that exits at once is seen, does not depend on the run loop.
final class Child: @unchecked Sendable {
    /// The process, already running.
    let process: Process
    private let exited = DispatchSemaphore(value: 0)

    /// Launches `process` (configured, not yet run).
    init(launching process: Process) throws {
        self.process = process
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
    }

    /// The child's process id.
    var pid: Int32 { process.processIdentifier }

    /// Waits for the child to exit. After `timeout` seconds the child is killed and the test fails
    /// with its threads' stacks (gdb, when installed).
    func waitForExit(timeout: Double = childProcessTimeout, sourceLocation: SourceLocation = #_sourceLocation) {
        if exited.wait(timeout: .now() + timeout) == .success { return }
        let stacks = Child.stacks(of: pid)
        kill(pid, SIGKILL)
        _ = exited.wait(timeout: .now() + 30)
        Issue.record("\(process.executableURL?.lastPathComponent ?? "child") \(process.arguments ?? []) was still running after \(Int(timeout)) s and was killed; its stacks:\n\(stacks)",
                     sourceLocation: sourceLocation)
    }

    /// Every thread's stack of process `pid`, or why there are none.
    static func stacks(of pid: Int32) -> String {
        let gdb = "/usr/bin/gdb"
        guard FileManager.default.isExecutableFile(atPath: gdb) else { return "(gdb is not installed)" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gdb)
        process.arguments = ["-p", "\(pid)", "-batch", "-ex", "thread apply all bt 25"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "(gdb did not start)" }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n").filter { $0.hasPrefix("Thread") || $0.hasPrefix("#") }.joined(separator: "\n")
    }
}
