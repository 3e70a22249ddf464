// The selection networks of NDImage/MedianNetworks.swift, checked by the 0-1 principle: a min/max
// network selects rank r of every input iff it does of every 0-1 input, and with columns sorted
// first, a 0-1 input is fixed by its number of zeros per column, so every plan is checked exhaustively
// (or on many random column counts for the biggest windows), then run on random data against a sort.

import Foundation
import Testing
@testable import NDImage

@Suite struct RankNetworkTests {
    /// Evaluates `network` on one window of sorted columns (column c's elements at columns[c]).
    func evaluate(_ network: RankNetwork, columns: [[Int]]) -> [Int] {
        // Raw rows: row r of column c is the column's element r (sorted or not, stage 0 sorts).
        let columns = columns.map { $0.shuffled() }
        var slots = [[Int]](repeating: [], count: max(1, network.slotCount))
        // Values per column position: stage A at every position the window reads.
        let l = network.length, p = network.partialColumns
        // slots hold values per offset position (0..<l).
        for s in slots.indices { slots[s] = [Int](repeating: 0, count: l) }
        func read(_ operand: RankNetwork.Operand, at position: Int) -> Int {
            operand.buffer == 0 ? columns[position + operand.offset][operand.index] : slots[operand.index][position + operand.offset]
        }
        for position in 0..<l {
            for op in network.stage0 {
                let a = read(op.a, at: position), b = read(op.b, at: position)
                slots[op.destination][position] = op.isMax ? max(a, b) : min(a, b)
            }
        }
        for position in 0...(l - p) {
            for op in network.stageA {
                let a = read(op.a, at: position), b = read(op.b, at: position)
                slots[op.destination][position] = op.isMax ? max(a, b) : min(a, b)
            }
        }
        for op in network.stageB {
            let a = read(op.a, at: 0), b = read(op.b, at: 0)
            slots[op.destination][0] = op.isMax ? max(a, b) : min(a, b)
        }
        return network.outputs.map { read($0, at: 0) }
    }

    @Test func sortingNetworksSort() {
        for count in 1...12 {
            let network = RankNetwork.sortingNetwork(count)
            for bits in 0..<(1 << count) {
                var values = (0..<count).map { (bits >> $0) & 1 }
                for (i, j) in network.comparators where values[i] > values[j] { values.swapAt(i, j) }
                let ordered = network.order.map { values[$0] }
                #expect(ordered == ordered.sorted(), "size \(count) input \(bits)")
            }
        }
    }

    @Test func networksSelectTheirRanksOfEveryZeroOneInput() {
        var random = NetworkRandom(seed: 12)
        for (rows, length) in [(1, 2), (1, 3), (1, 5), (1, 7), (2, 2), (3, 3), (2, 3), (3, 2), (3, 5), (5, 3), (5, 5),
                               (4, 4), (9, 3), (3, 7), (7, 7), (9, 5), (6, 7)] {
            let total = rows * length
            var rankSets: [[Int]] = [[total / 2], [0], [total - 1], [total / 4, total / 4 + 1]]
            if total % 2 == 0 { rankSets.append([total / 2 - 1, total / 2]) }
            for ranks in rankSets {
                let network = RankNetwork.plan(rows: rows, length: length, ranks: ranks)
                let combinations = Int(pow(Double(rows + 1), Double(length)))
                let exhaustive = combinations <= 20_000
                for trial in 0..<(exhaustive ? combinations : 4_000) {
                    var code = exhaustive ? trial : Int(random.next() % UInt64(combinations))
                    var columns: [[Int]] = []
                    for _ in 0..<length {
                        let zeros = code % (rows + 1)
                        code /= rows + 1
                        columns.append((0..<rows).map { $0 < zeros ? 0 : 1 })
                    }
                    let sorted = columns.flatMap { $0 }.sorted()
                    let found = evaluate(network, columns: columns)
                    if found != network.ranks.map({ sorted[$0] }) {
                        Issue.record("\(rows)x\(length) ranks \(ranks): columns \(columns) gave \(found)")
                        return
                    }
                }
            }
        }
    }

    @Test func runnerSelectsRanksOfRandomRows() {
        var random = NetworkRandom(seed: 5)
        for (rows, length) in [(3, 3), (5, 5), (9, 3), (7, 7), (1, 4)] {
            let total = rows * length
            let network = RankNetwork.plan(rows: rows, length: length, ranks: [0, total / 2, total - 1])
            let runner = RankNetworkRunner<Float>(network: network)
            let n = 1000 + Int(random.next() % 300)
            let data = (0..<rows).map { _ in (0..<(n + length - 1)).map { _ in Float(random.next() % 50) } }
            let rowPointers = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: rows)
            for r in 0..<rows {
                rowPointers[r] = .allocate(capacity: n + length - 1)
                rowPointers[r].initialize(from: data[r], count: n + length - 1)
            }
            let outputs = network.ranks.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: n) }
            runner.run(rows: UnsafePointer(rowPointers), start: 0, count: n, outputs: outputs)
            for x in 0..<n {
                let window = (0..<rows).flatMap { r in data[r][x..<(x + length)] }.sorted()
                for (i, rank) in network.ranks.enumerated() where outputs[i][x] != window[rank] {
                    Issue.record("\(rows)x\(length) rank \(rank) pixel \(x): \(outputs[i][x]) vs \(window[rank])")
                    return
                }
            }
            for r in 0..<rows { rowPointers[r].deallocate() }
            rowPointers.deallocate()
            outputs.forEach { $0.deallocate() }
        }
    }

    /// The plans that `MedianNetworkKernels.swift` holds as straight-line Swift.
    static let generatedPlans: [(rows: Int, length: Int, ranks: [Int])] = [
        (3, 3, [4]), (5, 5, [12]), (9, 3, [13]), (7, 7, [24]), (1, 3, [1]), (1, 5, [2]), (1, 7, [3]),
        (3, 5, [7]), (5, 3, [7]), (3, 7, [10]), (7, 3, [10]), (5, 7, [17]), (7, 5, [17]),
    ]

    static func generatedSource() -> String {
        var parts = ["// Generated by RankNetworkTests.generatedKernelsMatchThePlans (GENERATE_RANK_KERNELS=1 swift test",
                     "// --filter generatedKernelsMatchThePlans): the selection networks of common medians as straight-line",
                     "// Swift, whose loops LLVM vectorises with the values in registers. Do not edit.", ""]
        var cases: [String] = []
        for plan in generatedPlans {
            let network = RankNetwork.plan(rows: plan.rows, length: plan.length, ranks: plan.ranks)
            let name = "rankKernel\(plan.rows)x\(plan.length)r" + plan.ranks.map(String.init).joined(separator: "_")
            parts.append(network.swiftSource(functionName: name))
            parts.append("")
            cases.append("    case (\(plan.rows), \(plan.length), \(plan.ranks)): return \(name)")
        }
        parts.append("/// The generated kernel of a plan, or nil.")
        parts.append("func generatedRankKernel<T: ReducibleElement>(_: T.Type, rows: Int, length: Int, ranks: [Int]) -> RankKernel<T>? {")
        parts.append("    switch (rows, length, ranks) {")
        parts += cases
        parts.append("    default: return nil")
        parts.append("    }")
        parts.append("}")
        return parts.joined(separator: "\n") + "\n"
    }

    @Test func generatedKernelsMatchThePlans() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/NDImage/MedianNetworkKernels.swift")
        let source = Self.generatedSource()
        if ProcessInfo.processInfo.environment["GENERATE_RANK_KERNELS"] == "1" {
            try source.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == source, "regenerate with GENERATE_RANK_KERNELS=1")
    }

    @Test func medianNetworkSizes() {
        // Min/max operations per pixel; recorded so that a regression in the pruning shows.
        for (rows, length) in [(3, 3), (5, 5), (9, 3), (7, 7)] {
            let network = RankNetwork.plan(rows: rows, length: length, ranks: [rows * length / 2])
            print("median network \(rows)x\(length): \(network.operationsPerPixel) operations per pixel "
                  + "(column sort \(network.stage0.count), stage A \(network.stageA.count) over \(network.partialColumns) columns, "
                  + "stage B \(network.stageB.count), \(network.slotCount) slots)")
        }
    }
}

private struct NetworkRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
