// Selection networks for order statistics (median, percentile, rank) of small box windows
// (docs/window-strategies.md). A box window is M footprint rows of one span of L columns: per output
// row, every extended column's M elements are sorted once (a sorting network, shared by the L
// windows that hold the column); an optional stage A merges P neighbouring sorted columns at every
// column position (shared by the windows that hold them at offsets 0, P, 2P, ...); stage B, per pixel,
// merges those sorted lists (Batcher's odd-even merges) down to the ranks it needs. Comparators
// whose result cannot reach a wanted rank are removed when the plan is built: each value tracks the
// inputs known to be <= it and >= it (bit masks), a comparator whose order is known becomes a copy,
// and a value known to be above at least `highest rank + 1` other elements (or below enough) is
// replaced by +inf (-inf), which leaves the wanted ranks unchanged and removes what it touches.
// Every operation is one element-wise min or max over a block of pixels in the native element type,
// which LLVM vectorises (32 lanes of uint8, 4 of float64 with AVX2). Exact for any data without
// NaN and -0.0 (the row builder declines those), as a min/max network only moves elements.

import Foundation
import RankKernelsC

/// A selection network plan for ranks of a box window of `rows` x `length` elements.
struct RankNetwork: Sendable {
    /// An operand: buffer 0 is the raw rows (index = footprint row), buffer 1 the slots (index =
    /// slot); `offset` is in columns (pixels).
    struct Operand: Sendable, Hashable {
        var buffer: Int
        var index: Int
        var offset: Int
    }

    struct Operation: Sendable {
        var isMax: Bool
        var a: Operand
        var b: Operand
        var destination: Int
    }

    /// Footprint rows (elements per column) and window columns.
    let rows: Int
    let length: Int
    /// The ranks, ascending, in the order of `outputs`.
    let ranks: [Int]
    /// Stage 0, the column sort: over `length - 1` more positions than pixels, reading the raw rows.
    let stage0: [Operation]
    /// Columns merged at every position by stage A (1: no stage A).
    let partialColumns: Int
    /// Stage A: computed at `length - partialColumns + 1` more positions than pixels.
    let stageA: [Operation]
    /// Stage B: per pixel.
    let stageB: [Operation]
    /// Where each rank ends up (per pixel).
    let outputs: [Operand]
    let slotCount: Int

    /// Min/max operations per pixel (each over one vector of pixels when run).
    var operationsPerPixel: Int { stage0.count + stageA.count + stageB.count }

    /// Whether box windows of `rows` x `length` taps take a network (small enough to pay off).
    static func applies(rows: Int, length: Int) -> Bool {
        rows >= 1 && length >= 1 && rows * length >= 2 && rows * length <= 49 && rows <= 9 && length <= 7
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var plans: [[Int]: RankNetwork] = [:]

    /// The plan for `ranks` of a `rows` x `length` box (built once per process, then shared).
    static func plan(rows: Int, length: Int, ranks: [Int]) -> RankNetwork {
        let wanted = Array(Set(ranks)).sorted()
        let key = [rows, length] + wanted
        lock.lock()
        if let known = plans[key] { lock.unlock(); return known }
        lock.unlock()
        var best: RankNetwork?
        for p in 1...length {
            let candidate = build(rows: rows, length: length, ranks: wanted, partialColumns: p)
            if best == nil || candidate.operationsPerPixel < best!.operationsPerPixel { best = candidate }
        }
        lock.lock()
        plans[key] = best!
        lock.unlock()
        return best!
    }

    // MARK: Building

    /// Batcher's odd-even merge of sorted wire lists a and b (any lengths): the merged order and the
    /// comparators (min to the first wire).
    static func oddEvenMerge(_ a: [Int], _ b: [Int]) -> (order: [Int], comparators: [(Int, Int)]) {
        if a.isEmpty { return (b, []) }
        if b.isEmpty { return (a, []) }
        if a.count == 1 && b.count == 1 { return ([a[0], b[0]], [(a[0], b[0])]) }
        let evens = oddEvenMerge(stride(from: 0, to: a.count, by: 2).map { a[$0] }, stride(from: 0, to: b.count, by: 2).map { b[$0] })
        let odds = oddEvenMerge(stride(from: 1, to: a.count, by: 2).map { a[$0] }, stride(from: 1, to: b.count, by: 2).map { b[$0] })
        var comparators = evens.comparators + odds.comparators
        let v = evens.order, w = odds.order
        var order = [v[0]]
        var i = 1, j = 0
        while i < v.count || j < w.count {
            if i < v.count && j < w.count {
                comparators.append((w[j], v[i]))
                order += [w[j], v[i]]
                i += 1
                j += 1
            } else if j < w.count {
                order.append(w[j])
                j += 1
            } else {
                order.append(v[i])
                i += 1
            }
        }
        return (order, comparators)
    }

    /// Batcher's sorting network for `count` wires (merge sort of halves): its comparators, and the
    /// wire that ends with each rank.
    static func sortingNetwork(_ count: Int) -> (comparators: [(Int, Int)], order: [Int]) {
        func sort(_ wires: [Int]) -> (order: [Int], comparators: [(Int, Int)]) {
            if wires.count <= 1 { return (wires, []) }
            let half = wires.count / 2
            let left = sort(Array(wires[..<half])), right = sort(Array(wires[half...]))
            let merged = oddEvenMerge(left.order, right.order)
            return (merged.order, left.comparators + right.comparators + merged.comparators)
        }
        let result = sort(Array(0..<count))
        return (result.comparators, result.order)
    }

    private enum Symbol: Hashable {
        case plusInfinity, minusInfinity
        case column(Int, Int)          // element, column offset
        case partial(Int, Int)         // stage-A element, column offset
        case operation(Int)
    }

    /// Symbolic min/max network with the known-order simplifications and rank pruning.
    private struct Builder {
        let rows: Int
        let total: Int
        let lowest: Int
        let highest: Int
        var operations: [(isMax: Bool, a: Symbol, b: Symbol)] = []
        var below: [Symbol: UInt64] = [:]
        var above: [Symbol: UInt64] = [:]

        /// A value with the inputs known below and above it; pruned to an infinity when it cannot
        /// reach the wanted ranks.
        mutating func value(_ symbol: Symbol, below b: UInt64, above a: UInt64) -> Symbol {
            below[symbol] = b
            above[symbol] = a
            if b.nonzeroBitCount >= highest + 2 { return .plusInfinity }
            if a.nonzeroBitCount >= total - lowest + 1 { return .minusInfinity }
            return symbol
        }

        func columnMasks(element i: Int, offset c: Int) -> (below: UInt64, above: UInt64) {
            var b: UInt64 = 0, a: UInt64 = 0
            for e in 0..<rows {
                let bit = UInt64(1) << UInt64(c * rows + e)
                if e <= i { b |= bit }
                if e >= i { a |= bit }
            }
            return (b, a)
        }

        mutating func column(_ i: Int, _ c: Int) -> Symbol {
            let masks = columnMasks(element: i, offset: c)
            return value(.column(i, c), below: masks.below, above: masks.above)
        }

        func knownOrdered(_ a: Symbol, _ b: Symbol) -> Bool {
            if a == .minusInfinity || b == .plusInfinity { return true }
            if a == .plusInfinity || b == .minusInfinity { return false }
            return above[a]! & below[b]! != 0
        }

        mutating func minimum(_ a: Symbol, _ b: Symbol) -> Symbol {
            if knownOrdered(a, b) { return a }
            if knownOrdered(b, a) { return b }
            operations.append((false, a, b))
            return value(.operation(operations.count - 1), below: below[a]! & below[b]!, above: above[a]! | above[b]!)
        }

        mutating func maximum(_ a: Symbol, _ b: Symbol) -> Symbol {
            if knownOrdered(a, b) { return b }
            if knownOrdered(b, a) { return a }
            operations.append((true, a, b))
            return value(.operation(operations.count - 1), below: below[a]! | below[b]!, above: above[a]! & above[b]!)
        }

        mutating func merge(_ a: [Symbol], _ b: [Symbol]) -> [Symbol] {
            let network = RankNetwork.oddEvenMerge(Array(0..<a.count), Array(a.count..<(a.count + b.count)))
            var values = a + b
            for (low, high) in network.comparators {
                let x = values[low], y = values[high]
                values[low] = minimum(x, y)
                values[high] = maximum(x, y)
            }
            return network.order.map { values[$0] }
        }

        mutating func mergeTree(_ lists: [[Symbol]]) -> [Symbol] {
            var lists = lists
            while lists.count > 1 {
                var next: [[Symbol]] = []
                for i in stride(from: 0, to: lists.count - 1, by: 2) { next.append(merge(lists[i], lists[i + 1])) }
                if lists.count % 2 == 1 { next.append(lists[lists.count - 1]) }
                lists = next
            }
            return lists[0]
        }

        /// The operations that `roots` need, in order.
        func live(_ roots: [Symbol]) -> [Int] {
            var isLive = [Bool](repeating: false, count: operations.count)
            var stack = roots
            while let symbol = stack.popLast() {
                guard case .operation(let j) = symbol, !isLive[j] else { continue }
                isLive[j] = true
                stack += [operations[j].a, operations[j].b]
            }
            return (0..<operations.count).filter { isLive[$0] }
        }
    }

    private static func build(rows m: Int, length l: Int, ranks: [Int], partialColumns p: Int) -> RankNetwork {
        let total = m * l
        let sorting = sortingNetwork(m)
        // Stage A: merge of columns 0..<p.
        var a = Builder(rows: m, total: total, lowest: ranks.first!, highest: ranks.last!)
        let resultA = a.mergeTree((0..<p).map { c in (0..<m).map { a.column($0, c) } })
        // Stage B: groups of p columns at offsets 0, p, ..., then the remaining columns one by one.
        var b = Builder(rows: m, total: total, lowest: ranks.first!, highest: ranks.last!)
        var lists: [[Symbol]] = []
        let groups = l / p
        for g in 0..<groups {
            let o = g * p
            lists.append(resultA.enumerated().map { k, symbol -> Symbol in
                switch symbol {
                case .plusInfinity, .minusInfinity: return symbol
                case .column(let i, let c): return b.column(i, c + o)
                case .operation:
                    let shift = UInt64(o * m)
                    return b.value(.partial(k, o), below: a.below[symbol]! << shift, above: a.above[symbol]! << shift)
                case .partial: preconditionFailure("stage A has no partials")
                }
            })
        }
        for c in (groups * p)..<l { lists.append((0..<m).map { b.column($0, c) }) }
        let resultB = b.mergeTree(lists)
        let outputSymbols = ranks.map { resultB[$0] }
        precondition(!outputSymbols.contains(.plusInfinity) && !outputSymbols.contains(.minusInfinity),
                     "a wanted rank was pruned")
        let liveB = b.live(outputSymbols)
        var neededPartials = Set<Int>()
        func collectPartial(_ s: Symbol) { if case .partial(let k, _) = s { neededPartials.insert(k) } }
        for j in liveB { collectPartial(b.operations[j].a); collectPartial(b.operations[j].b) }
        outputSymbols.forEach(collectPartial)
        let partialRoots = neededPartials.sorted().map { resultA[$0] }
        let liveA = a.live(partialRoots)
        // The sorted column elements that stages A and B read.
        var neededElements = Set<Int>()
        func collectElement(_ s: Symbol) { if case .column(let i, _) = s { neededElements.insert(i) } }
        for j in liveA { collectElement(a.operations[j].a); collectElement(a.operations[j].b) }
        for j in liveB { collectElement(b.operations[j].a); collectElement(b.operations[j].b) }
        outputSymbols.forEach(collectElement)

        // Stage 0: the column sort as single min/max operations on the raw rows (raw row r is -1 - r).
        var operations0: [(isMax: Bool, a: Int, b: Int)] = []
        var wires = (0..<m).map { -1 - $0 }
        for (low, high) in sorting.comparators {
            let x = wires[low], y = wires[high]
            operations0.append((false, x, y))
            wires[low] = operations0.count - 1
            operations0.append((true, x, y))
            wires[high] = operations0.count - 1
        }
        let elementValue = sorting.order.map { wires[$0] }   // sorted element e: a raw row or an operation
        var live0 = [Bool](repeating: false, count: operations0.count)
        var stack = neededElements.map { elementValue[$0] }
        while let v = stack.popLast() {
            guard v >= 0, !live0[v] else { continue }
            live0[v] = true
            stack += [operations0[v].a, operations0[v].b]
        }

        // Slots, by a linear scan per stage: a value's slot is free after its last use; the values
        // later stages read stay pinned.
        var allocator = SlotAllocator()
        var slot0: [Int: Int] = [:]
        let pinned0 = Set(neededElements.map { elementValue[$0] }.filter { $0 >= 0 })
        var lastUse0: [Int: Int] = [:]
        for j in 0..<operations0.count where live0[j] {
            for v in [operations0[j].a, operations0[j].b] where v >= 0 { lastUse0[v] = j }
        }
        func operand0(_ v: Int) -> Operand {
            v < 0 ? Operand(buffer: 0, index: -1 - v, offset: 0) : Operand(buffer: 1, index: slot0[v]!, offset: 0)
        }
        var stage0: [Operation] = []
        for j in 0..<operations0.count where live0[j] {
            let op = operations0[j]
            let x = operand0(op.a), y = operand0(op.b)
            // Allocated before the operands' slots are released: a destination never overlaps an
            // operand, so that the vectorised loops need no overlap fallback.
            let d = allocator.allocate()
            slot0[j] = d
            for v in (op.a == op.b ? [op.a] : [op.a, op.b]) where v >= 0 && lastUse0[v] == j && !pinned0.contains(v) {
                allocator.release(slot0[v]!)
            }
            stage0.append(Operation(isMax: op.isMax, a: x, b: y, destination: d))
        }
        func columnOperand(_ i: Int, _ c: Int) -> Operand {
            let v = elementValue[i]
            return v < 0 ? Operand(buffer: 0, index: -1 - v, offset: c) : Operand(buffer: 1, index: slot0[v]!, offset: c)
        }
        // Stage A.
        var slotOfA: [Int: Int] = [:]
        var lastUseA: [Int: Int] = [:]
        for j in liveA {
            for operand in [a.operations[j].a, a.operations[j].b] { if case .operation(let q) = operand { lastUseA[q] = j } }
        }
        let pinnedA = Set(partialRoots.compactMap { s -> Int? in if case .operation(let j) = s { return j } else { return nil } })
        func operandA(_ s: Symbol) -> Operand {
            switch s {
            case .column(let i, let c): return columnOperand(i, c)
            case .operation(let j): return Operand(buffer: 1, index: slotOfA[j]!, offset: 0)
            default: preconditionFailure("unexpected operand")
            }
        }
        var stageA: [Operation] = []
        for j in liveA {
            let op = a.operations[j]
            let x = operandA(op.a), y = operandA(op.b)
            let d = allocator.allocate()
            slotOfA[j] = d
            var released = Set<Int>()
            for operand in [op.a, op.b] {
                if case .operation(let q) = operand, lastUseA[q] == j, !pinnedA.contains(q), released.insert(q).inserted {
                    allocator.release(slotOfA[q]!)
                }
            }
            stageA.append(Operation(isMax: op.isMax, a: x, b: y, destination: d))
        }
        // Stage B.
        var slotOfB: [Int: Int] = [:]
        var lastUseB: [Int: Int] = [:]
        for j in liveB {
            for operand in [b.operations[j].a, b.operations[j].b] { if case .operation(let q) = operand { lastUseB[q] = j } }
        }
        let pinnedB = Set(outputSymbols.compactMap { s -> Int? in if case .operation(let j) = s { return j } else { return nil } })
        func operandB(_ s: Symbol) -> Operand {
            switch s {
            case .column(let i, let c): return columnOperand(i, c)
            case .partial(let k, let o):
                guard case .operation(let j) = resultA[k] else { preconditionFailure("partial of no operation") }
                return Operand(buffer: 1, index: slotOfA[j]!, offset: o)
            case .operation(let j): return Operand(buffer: 1, index: slotOfB[j]!, offset: 0)
            default: preconditionFailure("unexpected operand")
            }
        }
        var stageB: [Operation] = []
        for j in liveB {
            let op = b.operations[j]
            let x = operandB(op.a), y = operandB(op.b)
            let d = allocator.allocate()
            slotOfB[j] = d
            var released = Set<Int>()
            for operand in [op.a, op.b] {
                if case .operation(let q) = operand, lastUseB[q] == j, !pinnedB.contains(q), released.insert(q).inserted {
                    allocator.release(slotOfB[q]!)
                }
            }
            stageB.append(Operation(isMax: op.isMax, a: x, b: y, destination: d))
        }
        return RankNetwork(rows: m, length: l, ranks: ranks, stage0: stage0, partialColumns: p,
                           stageA: stageA, stageB: stageB, outputs: outputSymbols.map(operandB), slotCount: allocator.count)
    }
}

private struct SlotAllocator {
    var free: [Int] = []
    var count = 0
    mutating func allocate() -> Int {
        if let s = free.popLast() { return s }
        count += 1
        return count - 1
    }
    mutating func release(_ slot: Int) { free.append(slot) }
}

/// One thread's scratch for running a `RankNetwork` over rows.
final class RankNetworkRunner<T: ReducibleElement> {
    let network: RankNetwork
    /// Pixels per block: about 1 KiB of elements per slot, so that the live slots stay in L1.
    let block: Int
    /// Elements per slot (block + window columns).
    let span: Int
    let slots: UnsafeMutablePointer<T>

    /// The straight-line kernel generated for this plan, if any (`MedianNetworkKernels.swift`).
    let kernel: RankKernel<T>?

    init(network: RankNetwork) {
        self.network = network
        block = rankNetworkBlock(T.self)
        span = block + 8
        slots = .allocate(capacity: span * max(1, network.slotCount))
        kernel = generatedRankKernel(T.self, rows: network.rows, length: network.length, ranks: network.ranks)
        vectorSize = filterjit_rank_kernels_avx512() == 0 ? 0
            : network.rows == 3 && network.length == 3 && network.ranks == [4] ? 3
            : network.rows == 5 && network.length == 5 && network.ranks == [12] ? 5 : 0
    }

    /// 3 or 5 when the AVX-512 3x3 or 5x5 median kernel (`RankKernelsC`) runs this plan, else 0.
    let vectorSize: Int

    deinit { slots.deallocate() }

    /// The network's ranks of every window of `n` pixels: window x holds columns
    /// `start + x ..< start + x + length` of the rows `rows[0 ..< rows]`; rank `network.ranks[i]` of
    /// pixel x goes to `outputs[i][x]`.
    func run(rows: UnsafePointer<UnsafeMutablePointer<T>>, start: Int, count n: Int, outputs: [UnsafeMutablePointer<T>]) {
        let l = network.length, span = self.span, slots = self.slots
        if vectorSize != 0, outputs.count == 1, medianVector(T.self, size: vectorSize, rows, start, n, outputs[0]) { return }
        if let kernel {
            kernel(rows, start, n, outputs, slots)
            return
        }
        var x0 = 0
        while x0 < n {
            let b = min(block, n - x0)
            @inline(__always) func pointer(_ operand: RankNetwork.Operand) -> UnsafeMutablePointer<T> {
                operand.buffer == 0 ? rows[operand.index] + (start &+ x0 &+ operand.offset)
                    : slots + (operand.index &* span &+ operand.offset)
            }
            func apply(_ operations: [RankNetwork.Operation], count: Int) {
                for op in operations {
                    let d = slots + op.destination &* span
                    if op.isMax { pairwiseMax(pointer(op.a), pointer(op.b), d, count) }
                    else { pairwiseMin(pointer(op.a), pointer(op.b), d, count) }
                }
            }
            apply(network.stage0, count: b + l - 1)
            apply(network.stageA, count: b + l - network.partialColumns)
            apply(network.stageB, count: b)
            for (r, operand) in network.outputs.enumerated() {
                (outputs[r] + x0).update(from: pointer(operand), count: b)
            }
            x0 += b
        }
    }
}

// Free functions over plain pointers, so that LLVM vectorises each loop (no class state inside).
@inline(never)
private func pairwiseMin<T: ReducibleElement>(_ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>,
                                              _ d: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        let x = a[t], y = b[t]
        d[t] = y < x ? y : x
        t &+= 1
    }
}

@inline(never)
private func pairwiseMax<T: ReducibleElement>(_ a: UnsafeMutablePointer<T>, _ b: UnsafeMutablePointer<T>,
                                              _ d: UnsafeMutablePointer<T>, _ count: Int) {
    var t = 0
    while t < count {
        let x = a[t], y = b[t]
        d[t] = y > x ? y : x
        t &+= 1
    }
}

// MARK: Straight-line kernels

extension RankNetwork {
    /// The plan as a Swift function whose loops LLVM vectorises with every value in a register (the
    /// interpreter above pays a load and a store per operation). `MedianNetworkKernels.swift` holds
    /// the output for the common medians; `RankNetworkTests` checks that it matches the plans.
    func swiftSource(functionName: String) -> String {
        var lines: [String] = []
        func emit(_ line: String) { lines.append(line) }
        let l = length
        // Slots read by a later stage before that stage writes them: stored to their slot rows.
        func arrayReads(_ stage: [Operation], extra: [Operand]) -> Set<Int> {
            var written = Set<Int>(), reads = Set<Int>()
            for op in stage {
                for operand in [op.a, op.b] where operand.buffer == 1 && !written.contains(operand.index) { reads.insert(operand.index) }
                written.insert(op.destination)
            }
            for operand in extra where operand.buffer == 1 && !written.contains(operand.index) { reads.insert(operand.index) }
            return reads
        }
        let readByB = arrayReads(stageB, extra: outputs)
        let readByA = arrayReads(stageA, extra: [])
        let stored0 = readByA.union(readByB).intersection(Set(stage0.map(\.destination)))
        let storedA = readByB.intersection(Set(stageA.map(\.destination)))
        var counter = 0
        /// Emits one stage's loop body: `index` is the loop variable; returns nothing.
        func body(_ stage: [Operation], index: String, stores: Set<Int>, finalOutputs: [Operand]) {
            var current: [Int: String] = [:]
            var loads: [String: String] = [:]
            func value(_ operand: Operand) -> String {
                if operand.buffer == 1, operand.offset == 0, let name = current[operand.index] { return name }
                let key = "\(operand.buffer)_\(operand.index)_\(operand.offset)"
                if let name = loads[key] { return name }
                let name = "l\(loads.count)"
                let base = operand.buffer == 0 ? "r\(operand.index)" : "s\(operand.index)"
                emit("            let \(name) = \(base)[\(index) &+ \(operand.offset)]")
                loads[key] = name
                return name
            }
            for op in stage {
                let a = value(op.a), b = value(op.b)
                counter += 1
                let name = "v\(counter)"
                emit("            let \(name) = \(op.isMax ? "maxOf" : "minOf")(\(a), \(b))")
                current[op.destination] = name
            }
            for slot in stores.sorted() { emit("            s\(slot)[\(index)] = \(current[slot]!)") }
            for (r, operand) in finalOutputs.enumerated() { emit("            o\(r)[\(index)] = \(value(operand))") }
        }
        emit("/// Ranks \(ranks) of a \(rows) x \(length) box (generated from `RankNetwork.plan`).")
        emit("@inline(never)")
        emit("func \(functionName)<T: ReducibleElement>(_ rows: UnsafePointer<UnsafeMutablePointer<T>>, _ start: Int, _ n: Int,")
        emit("    _ outputs: [UnsafeMutablePointer<T>], _ slots: UnsafeMutablePointer<T>) {")
        emit("    let block = rankNetworkBlock(T.self), span = block + 8")
        emit("    var x0 = 0")
        emit("    while x0 < n {")
        emit("        let count = min(block, n - x0)")
        for r in 0..<rows { emit("        let r\(r) = rows[\(r)] + (start + x0)") }
        for s in stored0.union(storedA).union(readByA).union(readByB).sorted() { emit("        let s\(s) = slots + \(s) * span") }
        for r in ranks.indices { emit("        let o\(r) = outputs[\(r)] + x0") }
        if !stage0.isEmpty {
            emit("        for j in 0..<(count + \(l - 1)) {")
            body(stage0, index: "j", stores: stored0, finalOutputs: [])
            emit("        }")
        }
        if !stageA.isEmpty {
            emit("        for j in 0..<(count + \(l - partialColumns)) {")
            body(stageA, index: "j", stores: storedA, finalOutputs: [])
            emit("        }")
        }
        emit("        for x in 0..<count {")
        body(stageB, index: "x", stores: [], finalOutputs: outputs)
        emit("        }")
        emit("        x0 += count")
        emit("    }")
        emit("}")
        return lines.joined(separator: "\n")
    }
}

/// A generated kernel: rows, start, pixels, outputs, slots (as `RankNetworkRunner.run`).
typealias RankKernel<T> = (UnsafePointer<UnsafeMutablePointer<T>>, Int, Int, [UnsafeMutablePointer<T>],
                           UnsafeMutablePointer<T>) -> Void

/// Pixels per block of the networks: about 1 KiB of elements per slot, so that the live slots stay
/// in L1. Slots are `block + 8` elements apart (windows have at most 7 columns): a constant after
/// specialisation, so that LLVM sees the distances between slots and vectorises the generated
/// loops without run-time overlap checks.
@inline(__always) func rankNetworkBlock<T>(_: T.Type) -> Int { 1024 / MemoryLayout<T>.stride }

@inline(__always) func minOf<T: ReducibleElement>(_ a: T, _ b: T) -> T { b < a ? b : a }
@inline(__always) func maxOf<T: ReducibleElement>(_ a: T, _ b: T) -> T { b > a ? b : a }
