import Foundation

/// Shows that a long run is alive: after half a second, `label … 1.5 s` on stderr, updated in place,
/// erased when the run ends. Only when stderr is a terminal, so pipes and logs stay clean.
final class ProgressIndicator: @unchecked Sendable {
    private let label: String
    private let start = DispatchTime.now()
    private let lock = NSLock()
    private var timer: DispatchSourceTimer?
    private var shown = false

    /// Starts watching; nothing is printed unless the run takes longer than `delay` seconds.
    init(_ label: String, delay: Double = 0.5) {
        self.label = label
        guard isatty(STDERR_FILENO) != 0 else { return }
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + delay, repeating: 0.25)
        timer.setEventHandler { [weak self] in self?.tick() }
        self.timer = timer
        timer.resume()
    }

    private func tick() {
        lock.lock()
        defer { lock.unlock() }
        guard timer != nil else { return }
        shown = true
        let seconds = milliseconds(since: start) / 1000
        printError(String(format: "\r%@ … %.1f s", label, seconds))
    }

    /// Stops and erases the line if one was shown.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        timer?.cancel()
        timer = nil
        if shown { printError("\r\u{1B}[K") }
    }
}

/// Runs `body` with a progress indicator named `label`.
func withProgress<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
    let progress = ProgressIndicator(label)
    defer { progress.finish() }
    return try body()
}
