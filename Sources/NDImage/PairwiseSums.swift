// Exact float window sums in NumPy's pairwise order (docs/window-strategies.md), vectorised across
// pixels: every pixel's sum is the same expression tree over its taps (in SciPy's buffer order),
// `0.0 + pairwise(taps)`, where pairwise (numpy/_core/src/umath/loops_utils.h.src, as
// FilterInterpreter's `Numerics.npSum`) adds below 8 elements sequentially from 0.0; up to 128 keeps
// eight accumulators (element i into accumulator i mod 8), combines them as
// ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)) and adds the rest sequentially; above 128 sums
// two halves (the first a multiple of 8) recursively. The tree is evaluated with each operation
// one vectorised add over a block of pixels, each lane one pixel's exact sequence of additions, so
// the bits equal the literal kernel's for any data (NaN, inf and -0.0 included: the same operations
// in the same order). The cost stays O(taps) per pixel, but in vector lanes, with no per-pixel
// gathering into a window buffer. Where the CPU has AVX-512 or AVX2, `filterjit_pairwise_sum_f64`
// (RankKernelsC, pairwise_sums.c / pairwise_sums_avx2.c) evaluates the same tree with the accumulators in
// registers, 16 or 8 pixels per step; the program below is the portable fallback and the reference.

import RankKernelsC

/// An operand of a pairwise-sum operation: a tap (its row, read at the pixel's offset), a slot of the
/// block's scratch, or +0.0.
enum PairwiseOperand: Equatable, Sendable {
    case tap(Int)
    case slot(Int)
    case zero
}

/// `slots[destination] = ((operands[0] + operands[1]) + operands[2]) + ...` (a left fold; when
/// operands[0] is the destination slot itself, the fold continues that slot's value).
struct PairwiseOperation: Sendable {
    var destination: Int
    var operands: [PairwiseOperand]
}

/// The operations of `0.0 + pairwise(taps 0 ..< n)`; the result is in slot `result`.
struct PairwiseSumProgram: Sendable {
    var operations: [PairwiseOperation] = []
    var slotCount = 0
    var result = 0
    private var free: [Int] = []

    init(taps n: Int) {
        precondition(n >= 1)
        let sum = pairwise(0, n)
        result = fold([.zero, sum])
    }

    private mutating func slot() -> Int {
        if let reused = free.popLast() { return reused }
        slotCount += 1
        return slotCount - 1
    }

    /// The left fold of `operands` (at least 2) in that order; slot operands are consumed (the first
    /// one's slot holds the result).
    private mutating func fold(_ operands: [PairwiseOperand]) -> Int {
        let destination: Int
        if case .slot(let s) = operands[0] { destination = s } else { destination = slot() }
        operations.append(PairwiseOperation(destination: destination, operands: operands))
        for operand in operands.dropFirst() { if case .slot(let s) = operand { free.append(s) } }
        return destination
    }

    private mutating func pairwise(_ start: Int, _ n: Int) -> PairwiseOperand {
        if n < 8 {
            return .slot(fold([.zero] + (start..<(start + n)).map { .tap($0) }))
        }
        if n <= 128 {
            let blockEnd = n - n % 8
            // Accumulator j: taps j, j + 8, ... below blockEnd, added in order.
            let r: [PairwiseOperand] = (0..<8).map { j in
                let chain = Swift.stride(from: start + j, to: start + blockEnd, by: 8).map { PairwiseOperand.tap($0) }
                return chain.count == 1 ? chain[0] : .slot(fold(chain))
            }
            let a = fold([r[0], r[1]]), b = fold([r[2], r[3]]), c = fold([r[4], r[5]]), d = fold([r[6], r[7]])
            let ab = fold([.slot(a), .slot(b)]), cd = fold([.slot(c), .slot(d)])
            let result = fold([.slot(ab), .slot(cd)])
            if blockEnd < n {
                _ = fold([.slot(result)] + ((start + blockEnd)..<(start + n)).map { .tap($0) })
            }
            return .slot(result)
        }
        var half = n / 2
        half -= half % 8
        let first = pairwise(start, half)
        let second = pairwise(start + half, n - half)
        return .slot(fold([first, second]))
    }

    /// The program's value for one pixel's taps (the reference the vectorised evaluation follows).
    func evaluate(_ taps: [Double]) -> Double {
        var slots = [Double](repeating: 0, count: slotCount)
        func value(_ operand: PairwiseOperand) -> Double {
            switch operand {
            case .tap(let i): return taps[i]
            case .slot(let s): return slots[s]
            case .zero: return 0.0
            }
        }
        for operation in operations {
            var total = value(operation.operands[0])
            for operand in operation.operands.dropFirst() { total = total + value(operand) }
            slots[operation.destination] = total
        }
        return slots[result]
    }
}

/// Evaluates a pairwise-sum program over a row of pixels: tap i of pixel x is `taps[i][x]` (doubles,
/// as generic_filter's buffer holds the elements), in blocks of pixels that keep the slots in L1.
final class PairwiseSumRunner {
    let program: PairwiseSumProgram
    static var block: Int { 256 }
    /// Whether a C kernel evaluates the sums: AVX-512 (the CPU has AVX-512 F and BW, FILTERJIT_NO_AVX512
    /// unset) or else AVX2 (FILTERJIT_NO_AVX2 unset).
    static var vectorised: Bool { filterjit_pairwise_sum_vectorised() != 0 }
    private let slots: UnsafeMutablePointer<Double>
    private let zeros: UnsafeMutablePointer<Double>

    init(program: PairwiseSumProgram) {
        self.program = program
        slots = .allocate(capacity: Swift.max(1, program.slotCount) * Self.block)
        zeros = .allocate(capacity: Self.block)
        zeros.initialize(repeating: 0, count: Self.block)
    }

    deinit {
        slots.deallocate()
        zeros.deallocate()
    }

    /// `plane[x] = sum of taps[i][x]` in the program's order, for x in 0..<count.
    func run(taps: [UnsafePointer<Double>], count: Int, into plane: UnsafeMutablePointer<Double>) {
        let ran = taps.withUnsafeBufferPointer { pointers in
            pointers.baseAddress!.withMemoryRebound(to: Optional<UnsafePointer<Double>>.self, capacity: pointers.count) {
                filterjit_pairwise_sum_f64($0, pointers.count, count, plane)
            }
        }
        if ran != 0 { return }
        runProgram(taps: taps, count: count, into: plane)
    }

    /// `run` by the Swift program alone (CPUs without AVX2; tests: the reference path on every CPU).
    func runProgram(taps: [UnsafePointer<Double>], count: Int, into plane: UnsafeMutablePointer<Double>) {
        let block = Self.block
        let slots = self.slots, zeros = UnsafePointer(self.zeros)
        var x0 = 0
        while x0 < count {
            let width = Swift.min(block, count - x0)
            func pointer(_ operand: PairwiseOperand) -> UnsafePointer<Double> {
                switch operand {
                case .tap(let i): return taps[i] + x0
                case .slot(let s): return UnsafePointer(slots + s * block)
                case .zero: return zeros
                }
            }
            for operation in program.operations {
                let destination = slots + operation.destination * block
                let operands = operation.operands
                var next: Int
                if case .slot(let s) = operands[0], s == operation.destination {
                    next = 1
                } else {
                    // The first (up to) 8 operands in one pass.
                    next = Swift.min(8, operands.count)
                    pairwiseFold(operands[0..<next].map(pointer), destination, width)
                }
                // The rest continue the destination's value, up to 7 per pass.
                while next < operands.count {
                    let end = Swift.min(next + 7, operands.count)
                    pairwiseFold([UnsafePointer(destination)] + operands[next..<end].map(pointer), destination, width)
                    next = end
                }
            }
            (plane + x0).update(from: slots + program.result * block, count: width)
            x0 += width
        }
    }
}

/// `d[t] = ((r[0][t] + r[1][t]) + r[2][t]) + ...` for 2 ... 8 rows (r[0] may be d itself: each
/// element is read before it is written, at the same index).
func pairwiseFold(_ r: [UnsafePointer<Double>], _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    let same = r[0] == UnsafePointer(d)
    switch (r.count, same) {
    case (2, true): pairwiseAccumulate1(d, r[1], count)
    case (2, false): pairwiseFold2(r[0], r[1], d, count)
    case (3, true): pairwiseAccumulate2(d, r[1], r[2], count)
    case (3, false): pairwiseFold3(r[0], r[1], r[2], d, count)
    case (4, true): pairwiseAccumulate3(d, r[1], r[2], r[3], count)
    case (4, false): pairwiseFold4(r[0], r[1], r[2], r[3], d, count)
    case (5, true): pairwiseAccumulate4(d, r[1], r[2], r[3], r[4], count)
    case (5, false): pairwiseFold5(r[0], r[1], r[2], r[3], r[4], d, count)
    case (6, true): pairwiseAccumulate5(d, r[1], r[2], r[3], r[4], r[5], count)
    case (6, false): pairwiseFold6(r[0], r[1], r[2], r[3], r[4], r[5], d, count)
    case (7, true): pairwiseAccumulate6(d, r[1], r[2], r[3], r[4], r[5], r[6], count)
    case (7, false): pairwiseFold7(r[0], r[1], r[2], r[3], r[4], r[5], r[6], d, count)
    case (8, true): pairwiseAccumulate7(d, r[1], r[2], r[3], r[4], r[5], r[6], r[7], count)
    case (8, false): pairwiseFold8(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], d, count)
    default: preconditionFailure("folds take 2 to 8 rows")
    }
}

@inline(never)
func pairwiseFold2(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = a[t] + b[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseFold3(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = (a[t] + b[t]) + c[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseFold4(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ e: UnsafePointer<Double>, _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = ((a[t] + b[t]) + c[t]) + e[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseFold5(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ e: UnsafePointer<Double>, _ f: UnsafePointer<Double>, _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = (((a[t] + b[t]) + c[t]) + e[t]) + f[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseFold6(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ e: UnsafePointer<Double>, _ f: UnsafePointer<Double>, _ g: UnsafePointer<Double>, _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = ((((a[t] + b[t]) + c[t]) + e[t]) + f[t]) + g[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseFold7(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ e: UnsafePointer<Double>, _ f: UnsafePointer<Double>, _ g: UnsafePointer<Double>, _ h: UnsafePointer<Double>, _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = (((((a[t] + b[t]) + c[t]) + e[t]) + f[t]) + g[t]) + h[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseFold8(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ e: UnsafePointer<Double>, _ f: UnsafePointer<Double>, _ g: UnsafePointer<Double>, _ h: UnsafePointer<Double>, _ i: UnsafePointer<Double>, _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = ((((((a[t] + b[t]) + c[t]) + e[t]) + f[t]) + g[t]) + h[t]) + i[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseAccumulate1(_ d: UnsafeMutablePointer<Double>, _ b: UnsafePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = d[t] + b[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseAccumulate2(_ d: UnsafeMutablePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = (d[t] + b[t]) + c[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseAccumulate3(_ d: UnsafeMutablePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ e: UnsafePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = ((d[t] + b[t]) + c[t]) + e[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseAccumulate4(_ d: UnsafeMutablePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ e: UnsafePointer<Double>, _ f: UnsafePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = (((d[t] + b[t]) + c[t]) + e[t]) + f[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseAccumulate5(_ d: UnsafeMutablePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ e: UnsafePointer<Double>, _ f: UnsafePointer<Double>, _ g: UnsafePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = ((((d[t] + b[t]) + c[t]) + e[t]) + f[t]) + g[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseAccumulate6(_ d: UnsafeMutablePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ e: UnsafePointer<Double>, _ f: UnsafePointer<Double>, _ g: UnsafePointer<Double>, _ h: UnsafePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = (((((d[t] + b[t]) + c[t]) + e[t]) + f[t]) + g[t]) + h[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseAccumulate7(_ d: UnsafeMutablePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafePointer<Double>, _ e: UnsafePointer<Double>, _ f: UnsafePointer<Double>, _ g: UnsafePointer<Double>, _ h: UnsafePointer<Double>, _ i: UnsafePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = ((((((d[t] + b[t]) + c[t]) + e[t]) + f[t]) + g[t]) + h[t]) + i[t]
        t &+= 1
    }
}

@inline(never)
func pairwiseConvert<T: ReducibleElement>(_ source: UnsafePointer<T>, _ d: UnsafeMutablePointer<Double>, _ count: Int) {
    var t = 0
    while t < count {
        d[t] = source[t].doubleValue
        t &+= 1
    }
}
