// The one driver of generic_filter1d, for both engines:
//
//   plan (axis, filter size, origin, mode) -> per line: the input line extended through the mode into
//   a double buffer -> the line kernel (SciPy's LowLevelCallable ABI: a compiled fused kernel, a user's
//   callback or a Swift closure) -> the output line stored with generic_filter1d's casting
//   -> lines split across threads (RowThreads); lines along an axis other than the last are read and
//      written `groupSize` at a time, neighbours along the last axis side by side; a kernel compiled
//      across SIMD lanes (FilterCodegen/LineLanes.swift) takes its `count` lines per call

import Foundation
import KernelABI
import RankKernelsC

/// A line kernel over `count` lines at once (a kernel compiled across SIMD lanes): called as the line
/// kernel is, with `line` holding `count` extended lines one after another (each `extendedLength` long)
/// and `out` `count` output lines of `n`. It must give each line exactly what the line kernel gives it;
/// when it fails, the driver runs those lines again one at a time.
public struct LineLanesKernel {
    /// Lines per call.
    public let count: Int
    /// The kernel: false when it failed.
    public let kernel: (UnsafeMutablePointer<Double>, Int, UnsafeMutablePointer<Double>, Int) -> Bool

    /// Wraps `kernel`, which runs `count` (at least 1) lines per call.
    public init(count: Int, kernel: @escaping (UnsafeMutablePointer<Double>, Int, UnsafeMutablePointer<Double>, Int) -> Bool) {
        precondition(count >= 1, "a lanes kernel runs at least one line")
        self.count = count
        self.kernel = kernel
    }
}

/// A SciPy line callback over `count` lines at once (`LineLanesKernel`'s layout), with the callback ABI.
public struct LineLanesCallback {
    /// Lines per call.
    public let count: Int
    /// The compiled function.
    public let callback: LineFilterCallback

    /// Wraps `callback`, which runs `count` (at least 1) lines per call.
    public init(count: Int, callback: LineFilterCallback) {
        precondition(count >= 1, "a lanes kernel runs at least one line")
        self.count = count
        self.callback = callback
    }
}

/// A generic_filter1d run over one input: validated and planned once, then run on any number of threads.
public struct LineRun: @unchecked Sendable {
    private let input: NDArray
    private let output: NDArray
    private let axis: Int
    private let cval: Double
    /// Per extended position, the byte offset along the line it reads (nil: cval).
    private let map: [Int?]
    /// Extended positions `before ..< before + n` read the line in order.
    private let before: Int

    /// Validates `options` for `input` (one validation for every engine) and plans the lines.
    public init(input: NDArray, options: LineFilterOptions, output: NDArray) throws(NDImageError) {
        let axis = try validatedLineFilterAxis(options, rank: input.rank)
        let n = input.shape[axis], stride = input.strides[axis]
        let before = options.filterSize / 2 + options.origin
        let (extended, overflow) = n.addingReportingOverflow(options.filterSize - 1)
        guard !overflow else { throw .sizeTooLarge("cannot extend a line of \(n) by \(options.filterSize - 1)") }
        self.axis = axis
        self.input = input
        self.output = output
        self.cval = options.cval
        self.before = before
        // An empty line has nothing to extend (and no index to map into).
        self.map = n == 0 ? [] : (0..<extended).map { j in options.mode.mapIndex(j - before, length: n).map { $0 * stride } }
    }

    /// The number of lines (every axis but the filtered one).
    public var lineCount: Int { input.count / max(input.shape[axis], 1) }

    /// Whether each output line is the kernel's `out` itself: a contiguous float64 line that shares no memory
    /// with the input (with overlap, a line written early could be another line's input).
    private var writesInPlace: Bool {
        output.elementType == .float64 && output.strides[axis] == 8 && !output.mayShareMemory(with: input)
    }

    /// How many neighbouring lines `run` reads (and writes) together. Lines more strided than their
    /// neighbours along the last axis (an axis other than the last of a C-ordered array): up to `groupSize`,
    /// position by position, so each row of the image is read in runs of neighbouring elements instead of
    /// one element per line (strided lines touch a new cache line and page per element). Not where the
    /// output line is written in place (a contiguous float64 line: then a failing line keeps what its kernel
    /// stored, which a group would not). Else 1.
    private var linesPerGroup: Int {
        let last = input.rank - 1
        return axis != last && input.shape[last] > 1 && input.strides[axis].magnitude > input.strides[last].magnitude
            && !writesInPlace ? Self.groupSize : 1
    }

    /// Whether `run` on `threads` threads would ever call a lanes kernel of `count` lines (so whether one is
    /// worth compiling): some thread's part has `count` lines, and lines read in groups come `count` or more
    /// to a group (a group holds at most the last axis's length).
    public func lanesCanRun(count: Int, threads: Int) -> Bool {
        guard count >= 1, input.shape[axis] > 0, !input.isEmpty,
              (RowThreads.chunks(lineCount, threads: threads).map(\.count).max() ?? 0) >= count else { return false }
        let group = linesPerGroup
        return group == 1 || min(group, input.shape[input.rank - 1]) >= count
    }

    /// Runs `kernel(line, extendedLength, out, n)` on every line, in C order of the other axes, lines
    /// split across `threads`: `line` is the extended input line, `out` is zeroed before the call and
    /// stored with casting after it. `kernel` returns false when it failed; the result is then the
    /// first failing line's first element (flat C index) with `reason()` as evaluated on the failing
    /// thread right after the failure.
    ///
    /// `zeroesOutput: false` is for a kernel that stores every `out[i]` before anything can read it
    /// (`Codegen.lineKernelStoresEveryOutputFirst`): `out` is not zeroed before the call (on a 2048 x
    /// 2048 float64 image, zeroing each output line in place was a quarter of the run: it read the line
    /// from memory before the kernel overwrote it). The kernel must be deterministic: when it fails, the
    /// failing line is zeroed and the kernel called again, so the output holds what it held when the
    /// driver always zeroed (the elements stored before the failure, zeros after).
    ///
    /// `lanes`: a kernel over `lanes.count` lines at once (`LineLanesKernel`), called wherever a thread's
    /// part has that many lines left (a group of strided lines holds up to 8; `lanesCanRun` says whether it
    /// is ever called); the lines left over, the lines of a call that fails and every later line of that
    /// thread's part run through `kernel` one at a time, so results and failures are line by line's.
    public func run(threads: Int, zeroesOutput: Bool = true, reason: () -> String,
                    lanes: LineLanesKernel? = nil,
                    _ kernel: (UnsafeMutablePointer<Double>, Int, UnsafeMutablePointer<Double>, Int) -> Bool)
        -> (element: Int, reason: String)?
    {
        let rank = input.rank, n = input.shape[axis], extendedLength = map.count
        guard n > 0, !input.isEmpty else { return nil }
        let otherAxes = (0..<rank).filter { $0 != axis }
        // C-order flat strides, to name a failing line by its first element as SciPy's driver does.
        var flatStrides = Array(repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { flatStrides[d] = flatStrides[d + 1] * input.shape[d + 1] }
        let parts = RowThreads.chunks(lineCount, threads: threads)
        let failures = FirstFailure<(element: Int, reason: String)>()
        let inType = input.elementType, outType = output.elementType
        let inLineStride = input.strides[axis], outLineStride = output.strides[axis]
        let inBase = UnsafeRawPointer(input.firstElementPointer), outBase = output.firstElementPointer
        // A line written in place is the kernel's `out` itself (zeroed first): no buffer and no copy back.
        let writesInPlace = self.writesInPlace
        let last = rank - 1
        let inStep = input.strides[last], outStep = output.strides[last]
        let groupSize = linesPerGroup
        let laneCount = lanes?.count ?? 1
        // A line's extended positions outside it, through the mode (or cval), from the line starting at `start`.
        func fillEnds(_ line: UnsafeMutablePointer<Double>, _ start: UnsafeRawPointer) {
            for j in 0..<before { line[j] = map[j].map { inType.loadDouble(from: start + $0) } ?? cval }
            for j in (before + n)..<extendedLength { line[j] = map[j].map { inType.loadDouble(from: start + $0) } ?? cval }
        }
        withoutActuallyEscaping(kernel) { kernel in
            withoutActuallyEscaping(reason) { reason in
                RowThreads.forEach(parts.count) { chunk in
                    let bufferLines = max(groupSize, laneCount)
                    let lines = UnsafeMutablePointer<Double>.allocate(capacity: bufferLines * max(extendedLength, 1))
                    let outs = UnsafeMutablePointer<Double>.allocate(capacity: bufferLines * max(n, 1))
                    let laneOutOffsets = UnsafeMutablePointer<Int>.allocate(capacity: laneCount)
                    defer { lines.deallocate(); outs.deallocate(); laneOutOffsets.deallocate() }
                    var index = [Int](repeating: 0, count: rank)
                    var lineNumber = parts[chunk].lowerBound
                    let end = parts[chunk].upperBound
                    // Lanes until a lanes call fails: its lines then run one at a time, as does the rest of this
                    // part (a call that fails where its lines do not, through a select's branch that a line
                    // would not take, would fail again).
                    var lanesOn = lanes != nil
                    /// Where line `number` starts in the input and the output, and its first element's flat index
                    /// (`index` holds its position along the other axes).
                    func locate(_ number: Int) -> (input: Int, output: Int, flat: Int) {
                        var rest = number
                        for d in otherAxes.reversed() {
                            index[d] = rest % input.shape[d]
                            rest /= input.shape[d]
                        }
                        var inOffset = 0, outOffset = 0, flat = 0
                        for d in otherAxes {
                            inOffset += index[d] * input.strides[d]
                            outOffset += index[d] * output.strides[d]
                            flat += index[d] * flatStrides[d]
                        }
                        return (inOffset, outOffset, flat)
                    }
                    while lineNumber < end {
                        if let lanes, lanesOn, groupSize == 1, end - lineNumber >= laneCount {
                            // `laneCount` lines one after another in the buffers, one call for all of them.
                            for b in 0..<laneCount {
                                let offsets = locate(lineNumber + b), line = lines + b * extendedLength
                                Self.load(inType, from: inBase + offsets.input, stride: inLineStride, count: n, into: line + before)
                                fillEnds(line, inBase + offsets.input)
                                laneOutOffsets[b] = offsets.output
                            }
                            if zeroesOutput { outs.update(repeating: 0, count: laneCount * n) }
                            if lanes.kernel(lines, extendedLength, outs, n) {
                                for b in 0..<laneCount {
                                    Self.store(outs + b * n, count: n, as: outType, to: outBase + laneOutOffsets[b], stride: outLineStride)
                                }
                                lineNumber += laneCount
                                continue
                            }
                            // A failing call: its lines again one at a time, which fail (or not) exactly as line by line.
                            lanesOn = false
                        }
                        let (inOffset, outOffset, flat) = locate(lineNumber)
                        let start = inBase + inOffset
                        let count = groupSize == 1 ? 1 : min(groupSize, end - lineNumber, input.shape[last] - index[last])
                        if count > 1 {
                            Self.gather(inType, from: start, lineStride: inLineStride, step: inStep, count: n, lines: count,
                                        into: lines + before, pitch: extendedLength)
                            for b in 0..<count { fillEnds(lines + b * extendedLength, start + b * inStep) }
                            var b = 0
                            while b < count {
                                let line = lines + b * extendedLength, target = outs + b * n
                                if let lanes, lanesOn, count - b >= laneCount {
                                    if zeroesOutput { target.update(repeating: 0, count: laneCount * n) }
                                    if lanes.kernel(line, extendedLength, target, n) {
                                        b += laneCount
                                        continue
                                    }
                                    lanesOn = false  // as above: these lines and the rest one at a time
                                }
                                if zeroesOutput { target.update(repeating: 0, count: n) }
                                guard kernel(line, extendedLength, target, n) else {
                                    // As line by line into lines not written in place: the lines before the
                                    // failing one are stored, it is not.
                                    Self.scatter(outType, outs, pitch: n, lines: b, count: n, to: outBase + outOffset,
                                                 lineStride: outLineStride, step: outStep)
                                    failures.record(chunk: chunk, (flat + b * flatStrides[last], reason()))
                                    return
                                }
                                b += 1
                            }
                            Self.scatter(outType, outs, pitch: n, lines: count, count: n, to: outBase + outOffset,
                                         lineStride: outLineStride, step: outStep)
                            lineNumber += count
                            continue
                        }
                        let line = lines, out = outs
                        // The line itself, converted in one loop; the ends through the mode.
                        Self.load(inType, from: start, stride: inLineStride, count: n, into: line + before)
                        fillEnds(line, start)
                        let target = writesInPlace ? (outBase + outOffset).assumingMemoryBound(to: Double.self) : out
                        if zeroesOutput { target.update(repeating: 0, count: n) }
                        guard kernel(line, extendedLength, target, n) else {
                            if !zeroesOutput {
                                target.update(repeating: 0, count: n)
                                _ = kernel(line, extendedLength, target, n)
                            }
                            failures.record(chunk: chunk, (flat, reason()))
                            return
                        }
                        // generic_filter1d stores with a plain C cast; on x86-64 that equals generic_filter's rule.
                        if !writesInPlace { Self.store(out, count: n, as: outType, to: outBase + outOffset, stride: outLineStride) }
                        lineNumber += 1
                    }
                }
            }
        }
        return failures.first
    }

    /// Runs a SciPy line callback (a fused kernel or a user's function) with `userData` on every line;
    /// `lanes`, when given, on `lanes.count` lines at once where a thread has that many left (`LineLanesCallback`,
    /// as the closures' `run` says).
    public func run(threads: Int, callback: LineFilterCallback, lanes: LineLanesCallback? = nil,
                    userData: UnsafeMutableRawPointer?, zeroesOutput: Bool = true,
                    reason: () -> String) -> (element: Int, reason: String)? {
        let lanesKernel = lanes.map { lanes in
            LineLanesKernel(count: lanes.count) { line, extendedLength, out, n in
                lanes.callback(line, extendedLength, out, n, userData) != 0
            }
        }
        return run(threads: threads, zeroesOutput: zeroesOutput, reason: reason, lanes: lanesKernel) { line, extendedLength, out, n in
            callback(line, extendedLength, out, n, userData) != 0
        }
    }

    /// How many lines along an axis other than the last are read and written side by side (8 doubles:
    /// one 64-byte line of a float64 row).
    static let groupSize = 8

    /// Position j of `lines` neighbouring lines (byte `step` apart; each line's elements `lineStride`
    /// apart from `source`) into destination[b * pitch + j], converted to Double: `loadDouble`'s values, in
    /// loops of the element's own type (`loadDouble` switches on the type per element: 64x64 float32
    /// `uniform_filter1d` along axis 0 took about twice float64's time).
    private static func gather(_ type: ElementType, from source: UnsafeRawPointer, lineStride: Int, step: Int,
                               count: Int, lines: Int, into destination: UnsafeMutablePointer<Double>, pitch: Int) {
        // Eight float lines side by side: 4x4 transposes in AVX2 registers (include/line_groups.h).
        if lines == 8 && step == type.itemSize {
            if type == .float64, filterjit_line_gather8_f64(source, lineStride, count, destination, pitch) != 0 { return }
            if type == .float32, filterjit_line_gather8_f32(source, lineStride, count, destination, pitch) != 0 { return }
        }
        struct Widen: TypedElementLoop {
            let source: UnsafeRawPointer, lineStride: Int, step: Int, count: Int, lines: Int
            let destination: UnsafeMutablePointer<Double>, pitch: Int
            func run<T: DoubleStorable>(_: T.Type) {
                for j in 0..<count {
                    let row = source + j &* lineStride
                    for b in 0..<lines {
                        destination[b &* pitch &+ j] = row.loadUnaligned(fromByteOffset: b &* step, as: T.self).doubleValue
                    }
                }
            }
        }
        type.run(Widen(source: source, lineStride: lineStride, step: step, count: count, lines: lines,
                       destination: destination, pitch: pitch))
    }

    /// The inverse of `gather` for `lines` output lines: values[b * pitch + j] stored with generic_filter1d's
    /// casting at position j of line b (`storeDouble`'s, `DoubleStorable`, in loops of the element's own type).
    private static func scatter(_ type: ElementType, _ values: UnsafeMutablePointer<Double>, pitch: Int, lines: Int,
                                count: Int, to destination: UnsafeMutableRawPointer, lineStride: Int, step: Int) {
        guard lines > 0 else { return }
        if lines == 8 && step == type.itemSize {
            if type == .float64, filterjit_line_scatter8_f64(values, pitch, count, destination, lineStride) != 0 { return }
            if type == .float32, filterjit_line_scatter8_f32(values, pitch, count, destination, lineStride) != 0 { return }
        }
        struct Narrow: TypedElementLoop {
            let values: UnsafeMutablePointer<Double>, pitch: Int, lines: Int, count: Int
            let destination: UnsafeMutableRawPointer, lineStride: Int, step: Int
            func run<T: DoubleStorable>(_: T.Type) {
                for j in 0..<count {
                    let row = destination + j &* lineStride
                    for b in 0..<lines {
                        row.storeBytes(of: T(castingDouble: values[b &* pitch &+ j]), toByteOffset: b &* step, as: T.self)
                    }
                }
            }
        }
        type.run(Narrow(values: values, pitch: pitch, lines: lines, count: count, destination: destination,
                        lineStride: lineStride, step: step))
    }

    /// `count` elements of `type` from `source` (byte stride `stride`) as doubles into `destination`.
    private static func load(_ type: ElementType, from source: UnsafeRawPointer, stride: Int, count: Int,
                             into destination: UnsafeMutablePointer<Double>) {
        if type == .float64 && stride == 8 {
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 8)
            return
        }
        // Other lines in a loop of their own type (`loadDouble` switches on the type per element: 256x256
        // float32 `uniform_filter1d` along the last axis 300 us against float64's 123, one thread).
        struct Widen: TypedElementLoop {
            let source: UnsafeRawPointer, stride: Int, count: Int, destination: UnsafeMutablePointer<Double>
            func run<T: DoubleStorable>(_: T.Type) {
                if stride == MemoryLayout<T>.stride {
                    // Contiguous: a constant stride, so the loop vectorises (with the run-time stride it did not:
                    // 256x256 float32 `uniform_filter1d` along the last axis 77 -> 52 us, the stores below too).
                    for k in 0..<count { destination[k] = source.loadUnaligned(fromByteOffset: k &* MemoryLayout<T>.stride, as: T.self).doubleValue }
                    return
                }
                for k in 0..<count { destination[k] = source.loadUnaligned(fromByteOffset: k &* stride, as: T.self).doubleValue }
            }
        }
        type.run(Widen(source: source, stride: stride, count: count, destination: destination))
    }

    /// Stores `count` doubles into elements of `type` at `destination` (byte stride `stride`).
    private static func store(_ values: UnsafeMutablePointer<Double>, count: Int, as type: ElementType,
                              to destination: UnsafeMutableRawPointer, stride: Int) {
        if type == .float64 && stride == 8 {
            destination.copyMemory(from: values, byteCount: count * 8)
            return
        }
        // Other lines: `storeDouble`'s cast (`DoubleStorable`), in a loop of the type's own (`storeDouble` switches
        // on the type per element).
        struct Narrow: TypedElementLoop {
            let values: UnsafeMutablePointer<Double>, count: Int, destination: UnsafeMutableRawPointer, stride: Int
            func run<T: DoubleStorable>(_: T.Type) {
                if stride == MemoryLayout<T>.stride {  // contiguous: a constant stride, so the loop vectorises
                    for k in 0..<count { destination.storeBytes(of: T(castingDouble: values[k]), toByteOffset: k &* MemoryLayout<T>.stride, as: T.self) }
                    return
                }
                for k in 0..<count { destination.storeBytes(of: T(castingDouble: values[k]), toByteOffset: k &* stride, as: T.self) }
            }
        }
        type.run(Narrow(values: values, count: count, destination: destination, stride: stride))
    }
}
