// The AVX-512 passes of the separable box min/max (`Sources/RankKernelsC/box_minmax.c`), for the element
// types they serve here (float32, uint16, int16; docs/window-strategies.md, "min/max, rows first"), and the
// single-pass small boxes of 8- and 16-bit integers (`box_minmax_fused.c`, "min/max, one pass in registers"). Each
// call returns nil when the C side has no kernel (no AVX-512 F/BW/DQ, or FILTERJIT_NO_AVX512=1), and
// the caller then runs its Swift passes.
import RankKernelsC

enum BoxKernels {
    /// Whether this process runs the AVX-512 box kernels.
    static let available = filterjit_box_kernels_avx512() != 0

    /// Whether the short-box passes take output rows in pairs on this CPU (`filterjit_box_row_pairs`:
    /// pairs on AMD, where they measured faster, single rows elsewhere; FILTERJIT_ROW_PAIRS overrides).
    static var rowPairs: Bool { filterjit_box_row_pairs() != 0 }

    /// Whether `T` has AVX-512 box kernels in use on this CPU.
    @inline(__always)
    static func serve<T>(_: T.Type) -> Bool {
        available && (T.self == Float.self || T.self == UInt16.self || T.self == Int16.self)
    }

    /// `d[x] = op(s[x ..< x + length])` for x in 0..<count; true when s[0 ..< count + length - 1] holds
    /// NaN or -0.0 (float data); nil without a kernel.
    @inline(__always)
    static func row<T>(_ s: UnsafePointer<T>, _ length: Int, _ d: UnsafeMutablePointer<T>, _ count: Int,
                       maximum: Bool) -> Bool? {
        let raw = UnsafeRawPointer(s), out = UnsafeMutableRawPointer(d), m: Int32 = maximum ? 1 : 0
        let result: Int32
        if T.self == Float.self {
            result = filterjit_box_row_f32(raw.assumingMemoryBound(to: Float.self), length,
                                           out.assumingMemoryBound(to: Float.self), count, m)
        } else if T.self == UInt16.self {
            result = filterjit_box_row_u16(raw.assumingMemoryBound(to: UInt16.self), length,
                                           out.assumingMemoryBound(to: UInt16.self), count, m)
        } else if T.self == Int16.self {
            result = filterjit_box_row_i16(raw.assumingMemoryBound(to: Int16.self), length,
                                           out.assumingMemoryBound(to: Int16.self), count, m)
        } else {
            return nil
        }
        return result < 0 ? nil : result != 0
    }

    /// The fused rows-first step (see `filterjit_box_step_f32`): `ring` holds k + 1 row pointers, the
    /// last two of which enter from `s0` and `s1` (`n0`, `n1`: the next step's, prefetched); true when those hold NaN or -0.0; nil without a kernel.
    @inline(__always)
    static func step<T>(_ s0: UnsafePointer<T>, _ s1: UnsafePointer<T>, next n0: UnsafePointer<T>?, _ n1: UnsafePointer<T>?,
                        _ length: Int,
                        _ ring: UnsafePointer<UnsafeMutablePointer<T>>, _ k: Int,
                        _ d0: UnsafeMutablePointer<T>, _ d1: UnsafeMutablePointer<T>, _ count: Int,
                        maximum: Bool) -> Bool? {
        let m: Int32 = maximum ? 1 : 0
        let rings = UnsafeRawPointer(ring)
        func run<E>(_: E.Type, _ f: (UnsafePointer<E>?, UnsafePointer<E>?, UnsafePointer<E>?, UnsafePointer<E>?, Int,
                                     UnsafePointer<UnsafeMutablePointer<E>?>?, Int,
                                     UnsafeMutablePointer<E>?, UnsafeMutablePointer<E>?, Int, Int32) -> Int32) -> Int32 {
            f(UnsafeRawPointer(s0).assumingMemoryBound(to: E.self), UnsafeRawPointer(s1).assumingMemoryBound(to: E.self),
              n0.map { UnsafeRawPointer($0).assumingMemoryBound(to: E.self) },
              n1.map { UnsafeRawPointer($0).assumingMemoryBound(to: E.self) },
              length, rings.assumingMemoryBound(to: UnsafeMutablePointer<E>?.self), k,
              UnsafeMutableRawPointer(d0).assumingMemoryBound(to: E.self),
              UnsafeMutableRawPointer(d1).assumingMemoryBound(to: E.self), count, m)
        }
        let result: Int32
        if T.self == Float.self {
            result = run(Float.self, filterjit_box_step_f32)
        } else if T.self == UInt16.self {
            result = run(UInt16.self, filterjit_box_step_u16)
        } else if T.self == Int16.self {
            result = run(Int16.self, filterjit_box_step_i16)
        } else {
            return nil
        }
        return result < 0 ? nil : result != 0
    }

    /// `d0 = op(rows[0 ..< k])`, `d1 = op(rows[1 ... k])` element-wise over `count`; false without a kernel.
    @inline(__always)
    static func pair<T>(_ rows: UnsafePointer<UnsafePointer<T>>, _ k: Int, _ d0: UnsafeMutablePointer<T>,
                        _ d1: UnsafeMutablePointer<T>, _ count: Int, maximum: Bool) -> Bool {
        let m: Int32 = maximum ? 1 : 0
        let raw = UnsafeRawPointer(rows)
        func run<E>(_: E.Type, _ f: (UnsafePointer<UnsafePointer<E>?>?, Int, UnsafeMutablePointer<E>?, UnsafeMutablePointer<E>?,
                                     Int, Int32) -> Int32) -> Bool {
            f(raw.assumingMemoryBound(to: UnsafePointer<E>?.self), k, UnsafeMutableRawPointer(d0).assumingMemoryBound(to: E.self),
              UnsafeMutableRawPointer(d1).assumingMemoryBound(to: E.self), count, m) >= 0
        }
        if T.self == Float.self { return run(Float.self, filterjit_box_pair_f32) }
        if T.self == UInt16.self { return run(UInt16.self, filterjit_box_pair_u16) }
        if T.self == Int16.self { return run(Int16.self, filterjit_box_pair_i16) }
        return false
    }

    /// Whether the single-pass fused box kernels (`filterjit_fused_box_u8`, 8- and 16-bit integers; float32 with
    /// the AVX2 kernel where AVX-512 is off) run for `T` on this CPU.
    static func fusedServe<T>(_: T.Type) -> Bool {
        if T.self == UInt8.self || T.self == Int8.self { return fused8 }
        if T.self == UInt16.self || T.self == Int16.self { return fused16 }
        if T.self == Float.self { return fusedFloat }
        return false
    }
    private static let fused8 = filterjit_fused_box_available(1) != 0
    private static let fused16 = filterjit_fused_box_available(2) != 0
    // (With AVX-512, float32 boxes take the rows-first AVX-512 passes.)
    private static let fusedFloat = !available && filterjit_fused_box_avx2() != 0

    /// What a fused call did: nothing (no kernel, or sizes beyond it), the rows, or a float element NaN or -0.0.
    enum FusedResult { case notRun, written, hazard }

    /// Output rows 0 ..< count of a k x length box in one pass each pair (see `filterjit_fused_box_u8`):
    /// `outputs[y]` from `inputs[y ..< y + k]`; `.notRun` (nothing written) without a kernel or for sizes
    /// beyond it, `.hazard` when float data (or cval) holds NaN or -0.0 (outputs partly written).
    static func fused<T>(_ inputs: UnsafePointer<UnsafePointer<T>>, _ outputs: UnsafePointer<UnsafeMutablePointer<T>>,
                         count: Int, k: Int, start: Int, length: Int, columns: UnsafePointer<Int>, centre: Int,
                         extended: Int, cval: T, n: Int, maximum: Bool) -> FusedResult {
        let m: Int32 = maximum ? 1 : 0
        let rawInputs = UnsafeRawPointer(inputs), rawOutputs = UnsafeRawPointer(outputs)
        func run<E>(_: E.Type, _ f: (UnsafePointer<UnsafePointer<E>?>?, UnsafePointer<UnsafeMutablePointer<E>?>?, Int, Int,
                                     Int, Int, UnsafePointer<Int>?, Int, Int, E, Int, Int32) -> Int32) -> FusedResult {
            let result = f(rawInputs.assumingMemoryBound(to: UnsafePointer<E>?.self),
                           rawOutputs.assumingMemoryBound(to: UnsafeMutablePointer<E>?.self), count, k, start, length, columns,
                           centre, extended, unsafeBitCast(cval, to: E.self), n, m)
            return result == 0 ? .written : result == 1 ? .hazard : .notRun
        }
        if T.self == UInt8.self { return run(UInt8.self, filterjit_fused_box_u8) }
        if T.self == Int8.self { return run(Int8.self, filterjit_fused_box_i8) }
        if T.self == UInt16.self { return run(UInt16.self, filterjit_fused_box_u16) }
        if T.self == Int16.self { return run(Int16.self, filterjit_fused_box_i16) }
        if T.self == Float.self { return run(Float.self, filterjit_fused_box_f32) }
        return .notRun
    }
}
