import Foundation

/// The rounds a seeded fuzz test runs: `full` scaled by FILTERJIT_TEST_ROUNDS_PERCENT (default 100; at
/// least one round). The sanitizer runs (scripts/sanitizers.sh) set it lower: their builds run the
/// same kernels many times slower, and what they look for (an access outside a buffer, a race) shows
/// in fewer rounds, while the normal test run keeps every round.
func testRounds(_ full: Int) -> Int {
    let percent = ProcessInfo.processInfo.environment["FILTERJIT_TEST_ROUNDS_PERCENT"].flatMap { Int($0) } ?? 100
    return max(1, full * min(max(percent, 1), 100) / 100)
}
