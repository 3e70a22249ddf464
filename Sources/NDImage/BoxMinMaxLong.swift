// 8-bit 2-D boxes of more than 8 rows or columns, one min or max: the AVX-512 VBMI kernel
// (`Sources/RankKernelsC/box_minmax_long.c`; docs/window-strategies.md, "min/max"): rows first, each input
// row reduced along the row once in registers, then van Herk / Gil-Werman down the columns over a ring of
// k rows, one pass per output row (or columns first, where the call allows). Without AVX-512 VBMI the AVX2
// kernel (`box_minmax_long_avx2.c`: columns first, windows up to 63 columns) takes its place. Without either
// (FILTERJIT_NO_AVX512=1 and FILTERJIT_NO_AVX2=1 on such CPUs, `BoxLongKernel.enabled` off) or for a shape it
// does not take, `runSeparable` keeps its Swift passes. The same for float32, float64, uint16 and int16 boxes of
// 9 or more rows (`runSeparableLongWide`): the AVX-512 wide-lane kernel (`box_minmax_long_body.h`), else the
// AVX2 one (`box_minmax_long_wide_avx2.c`).
import RankKernelsC

public enum BoxLongKernel {
    /// Whether the long-box kernel may run (tests switch it off to compare with the Swift passes).
    nonisolated(unsafe) public static var enabled = true
    /// Whether this CPU (and this process's FILTERJIT_NO_AVX512 / FILTERJIT_NO_AVX2) has the 8-bit kernel.
    public static let available = filterjit_box_long_available() != 0
    /// Whether this CPU (and FILTERJIT_NO_AVX512) has the wide-lane kernel (float32, float64, uint16, int16).
    public static let wideAvailable = filterjit_box_long_wide_available() != 0
    /// Whether this CPU (and FILTERJIT_NO_AVX2) has the AVX2 kernel that takes the wide-lane kernel's boxes where
    /// it does not run (`box_minmax_long_wide_avx2.c`; its switch is read per call).
    public static var wideAVX2: Bool { filterjit_box_long_wide_avx2() != 0 }
    /// How many calls have run the 8-bit / the wide-lane / the AVX2 wide-lane kernel in this process (tests).
    public static var runs: UInt64 { filterjit_box_long_runs() }
    public static var wideRuns: UInt64 { filterjit_box_long_wide_runs() }
    public static var wideAVX2Runs: UInt64 { filterjit_box_long_wide_avx2_runs() }

    /// Whether a 2-D box of `T` with one reduction may take the wide-lane kernel (AVX-512, else AVX2).
    static func wideServes<T>(_: T.Type) -> Bool {
        guard T.self == Float.self || T.self == Double.self || T.self == UInt16.self || T.self == Int16.self else { return false }
        return wideAvailable || wideAVX2
    }
}

extension WindowReductionJob {
    /// The long-box kernels' row tables for output rows `rows`: the input rows they read (`count + k - 1`,
    /// nil: a row of cval) and their output rows, given to `run`; nil (nothing run) when some output row is
    /// not contiguous (`destination` nil). Built from the plan's maps (`firstOuterOffsets`).
    private func withLongBoxRows<T, R>(_: T.Type, box: SeparableBox, rows: Range<Int>,
                                       destination: (Int) -> UnsafeMutablePointer<T>?,
                                       _ run: (UnsafePointer<UnsafePointer<T>?>, UnsafePointer<UnsafeMutablePointer<T>?>) throws -> R)
        rethrows -> R? {
        let k = box.rows, count = rows.count
        let base = UnsafeMutablePointer<T>(OpaquePointer(input.firstElementPointer))
        let top = rows.lowerBound + box.first
        let inputs = UnsafeMutablePointer<UnsafePointer<T>?>.allocate(capacity: count + k - 1)
        let outputs = UnsafeMutablePointer<UnsafeMutablePointer<T>?>.allocate(capacity: count)
        defer { inputs.deallocate(); outputs.deallocate() }
        // (Through a buffer pointer: this loop runs per call over every row.)
        firstOuterOffsets.withUnsafeBufferPointer { offsets in
            for i in 0..<(count + k - 1) {
                let offset = offsets[top + i]
                inputs[i] = offset == Int.min ? nil : UnsafePointer(base + offset)
            }
        }
        for (t, y) in rows.enumerated() {
            guard let out = destination(y) else { return nil }
            outputs[t] = out
        }
        return try run(inputs, outputs)
    }

    /// Output rows `rows` of a 2-D box of one min or max over uint8 or int8 data, written straight into
    /// the contiguous output rows `destination(y)` by the C kernel (then `body(y, 0, row)` per row);
    /// false (nothing written) when the kernel does not run here.
    func runSeparableLong<T: ReducibleElement>(_: T.Type, box: SeparableBox, rows: Range<Int>,
                                               destination: (Int) -> UnsafeMutablePointer<T>?,
                                               body: (Int, Int, UnsafeMutablePointer<T>) throws -> Void) throws -> Bool {
        guard BoxLongKernel.enabled, BoxLongKernel.available, T.self == UInt8.self || T.self == Int8.self,
              input.rank == 2, reductions.count == 1, !rows.isEmpty else { return false }
        let n = rowLength, k = box.rows, count = rows.count
        let cval = T(exactlyOrdered: geometry.cval) ?? T(exactlyOrdered: 0)!
        let cvalBits = unsafeBitCast(cval, to: UInt8.self)
        let maximum: Int32 = reductions[0] == .maximum ? 1 : 0
        let centre = geometry.centre[1], e = lastMap.count, start = box.start, length = box.length
        // Non-temporal stores only for outputs bigger than the last-level cache (`NonTemporalStores`).
        let stream: Int32 = NonTemporalStores.stream(outputBytes: rowCount * n) ? 1 : 0
        let ran = try withLongBoxRows(T.self, box: box, rows: rows, destination: destination) { inputs, outputs -> Bool in
            let result: Int32
            if T.self == UInt8.self {
                result = inputs.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: count + k - 1) { i in
                    outputs.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: count) { o in
                        filterjit_box_long_u8(i, k, o, count, n, lastColumns, e, centre, start, length, cvalBits, maximum, stream)
                    }
                }
            } else {
                result = inputs.withMemoryRebound(to: UnsafePointer<Int8>?.self, capacity: count + k - 1) { i in
                    outputs.withMemoryRebound(to: UnsafeMutablePointer<Int8>?.self, capacity: count) { o in
                        filterjit_box_long_i8(i, k, o, count, n, lastColumns, e, centre, start, length, Int8(bitPattern: cvalBits),
                                              maximum, stream)
                    }
                }
            }
            guard result == 0 else { return false }
            for (t, y) in rows.enumerated() { try body(y, 0, outputs[t]!) }
            return true
        }
        return ran == true
    }

    /// The same for float32, float64, uint16 and int16 (the wide-lane kernel: 16, 8 and 32 lanes; without AVX-512
    /// the AVX2 one: 8, 4 and 16). Float rows holding NaN or -0.0 make it decline (WindowStrategyDeclined; the
    /// outputs it wrote are rewritten by the exact path).
    func runSeparableLongWide<T: ReducibleElement>(_: T.Type, box: SeparableBox, rows: Range<Int>,
                                                   destination: (Int) -> UnsafeMutablePointer<T>?,
                                                   body: (Int, Int, UnsafeMutablePointer<T>) throws -> Void) throws -> Bool {
        guard BoxLongKernel.enabled, BoxLongKernel.wideServes(T.self), input.rank == 2, reductions.count == 1, !rows.isEmpty else { return false }
        let n = rowLength, k = box.rows, count = rows.count
        let cval = T(exactlyOrdered: geometry.cval) ?? T(exactlyOrdered: 0)!
        let maximum: Int32 = reductions[0] == .maximum ? 1 : 0
        let centre = geometry.centre[1], e = lastMap.count, start = box.start, length = box.length
        let columns = lastColumns
        let ran = try withLongBoxRows(T.self, box: box, rows: rows, destination: destination) { inputs, outputs -> Bool in
            func call<U>(_: U.Type, _ run: (UnsafePointer<UnsafePointer<U>?>, UnsafePointer<UnsafeMutablePointer<U>?>, U) -> Int32) -> Int32 {
                inputs.withMemoryRebound(to: UnsafePointer<U>?.self, capacity: count + k - 1) { i in
                    outputs.withMemoryRebound(to: UnsafeMutablePointer<U>?.self, capacity: count) { o in
                        run(i, o, unsafeBitCast(cval, to: U.self))
                    }
                }
            }
            let result: Int32
            if T.self == Float.self {
                result = call(Float.self) { filterjit_box_long_f32($0, k, $1, count, n, columns, e, centre, start, length, $2, maximum) }
            } else if T.self == Double.self {
                result = call(Double.self) { filterjit_box_long_f64($0, k, $1, count, n, columns, e, centre, start, length, $2, maximum) }
            } else if T.self == UInt16.self {
                result = call(UInt16.self) { filterjit_box_long_u16($0, k, $1, count, n, columns, e, centre, start, length, $2, maximum) }
            } else {
                result = call(Int16.self) { filterjit_box_long_i16($0, k, $1, count, n, columns, e, centre, start, length, $2, maximum) }
            }
            if result == 1 { throw WindowStrategyDeclined(reason: "the data holds NaN or -0.0") }
            guard result == 0 else { return false }
            for (t, y) in rows.enumerated() { try body(y, 0, outputs[t]!) }
            return true
        }
        return ran == true
    }
}
