import Foundation

/// The rounds a seeded fuzz test runs: `full` scaled by FILTERJIT_TEST_ROUNDS_PERCENT (default 100; at
/// least one round). The sanitizer runs (scripts/sanitizers.sh) set it lower: their builds run the
/// same kernels many times slower, and what they look for (an access outside a buffer, a race) shows
/// in fewer rounds, while the normal test run keeps every round.
func testRounds(_ full: Int) -> Int {
    max(1, full * testRoundsPercent / 100)
}

/// FILTERJIT_TEST_ROUNDS_PERCENT, 1 ... 100 (100 when unset).
private var testRoundsPercent: Int {
    let percent = ProcessInfo.processInfo.environment["FILTERJIT_TEST_ROUNDS_PERCENT"].flatMap { Int($0) } ?? 100
    return min(max(percent, 1), 100)
}

/// The least number of a seeded test's `rounds` that must reach the path under test: `numerator /
/// denominator` of them in a full run, none when FILTERJIT_TEST_ROUNDS_PERCENT cuts the rounds. A few
/// rounds' share of random cases varies too much to bound without flaking (15% of 140 rounds is 21,
/// and one such floor failed in an ASan run); the full run in the same CI asserts every floor, and the
/// sanitizer runs look for memory errors and races on whatever their rounds reach.
func coverageFloor(_ rounds: Int, _ numerator: Int, _ denominator: Int) -> Int {
    testRoundsPercent >= 100 ? rounds * numerator / denominator : 0
}
