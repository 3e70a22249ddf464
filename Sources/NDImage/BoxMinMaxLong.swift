// 8-bit 2-D boxes of more than 8 rows or columns, one min or max: the AVX-512 VBMI kernel
// (`Sources/RankKernelsC/box_minmax_long.c`; docs/window-strategies.md, "min/max"): rows first, each input
// row reduced along the row once in registers, then van Herk / Gil-Werman down the columns over a ring of
// k + 1 rows, one pass per output row. Without the kernel (no AVX-512 VBMI, FILTERJIT_NO_AVX512=1,
// `BoxLongKernel.enabled` off) or for a shape it does not take, `runSeparable` keeps its Swift passes.
import RankKernelsC

public enum BoxLongKernel {
    /// Whether the long-box kernel may run (tests switch it off to compare with the Swift passes).
    nonisolated(unsafe) public static var enabled = true
    /// Whether this CPU (and this process's FILTERJIT_NO_AVX512) has the kernel.
    public static let available = filterjit_box_long_available() != 0
}

extension WindowReductionJob {
    /// Output rows `rows` of a 2-D box of one min or max over uint8 or int8 data, written straight into
    /// the contiguous output rows `destination(y)` by the C kernel (then `body(y, 0, row)` per row);
    /// false (nothing written) when the kernel does not run here.
    func runSeparableLong<T: ReducibleElement>(_: T.Type, box: SeparableBox, rows: Range<Int>,
                                               destination: (Int) -> UnsafeMutablePointer<T>?,
                                               body: (Int, Int, UnsafeMutablePointer<T>) throws -> Void) throws -> Bool {
        guard BoxLongKernel.enabled, BoxLongKernel.available, T.self == UInt8.self || T.self == Int8.self,
              input.rank == 2, reductions.count == 1, !rows.isEmpty else { return false }
        let n = rowLength, k = box.rows, count = rows.count
        let base = UnsafeMutableRawPointer(input.firstElementPointer)
        let outerMap = outerMaps[0]
        let top = rows.lowerBound + box.first
        let inputs = UnsafeMutablePointer<UnsafePointer<UInt8>?>.allocate(capacity: count + k - 1)
        let outputs = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: count)
        let columns = UnsafeMutablePointer<Int>.allocate(capacity: max(1, lastMap.count))
        defer { inputs.deallocate(); outputs.deallocate(); columns.deallocate() }
        for i in 0..<(count + k - 1) {
            inputs[i] = outerMap[top + i].map { UnsafePointer((base + $0).assumingMemoryBound(to: UInt8.self)) }
        }
        for (t, y) in rows.enumerated() {
            guard let out = destination(y) else { return false }
            outputs[t] = UnsafeMutableRawPointer(out).assumingMemoryBound(to: UInt8.self)
        }
        for (j, column) in lastMap.enumerated() { columns[j] = column ?? -1 }
        let cval = T(exactlyOrdered: geometry.cval) ?? T(exactlyOrdered: 0)!
        let cvalBits = unsafeBitCast(cval, to: UInt8.self)
        let maximum: Int32 = reductions[0] == .maximum ? 1 : 0
        let centre = geometry.centre[1]
        let result: Int32
        if T.self == UInt8.self {
            result = filterjit_box_long_u8(inputs, k, outputs, count, n, columns, lastMap.count, centre, box.start, box.length,
                                           cvalBits, maximum)
        } else {
            result = UnsafeRawPointer(inputs).withMemoryRebound(to: UnsafePointer<Int8>?.self, capacity: count + k - 1) { signedInputs in
                UnsafeRawPointer(outputs).withMemoryRebound(to: UnsafeMutablePointer<Int8>?.self, capacity: count) { signedOutputs in
                    filterjit_box_long_i8(signedInputs, k, signedOutputs, count, n, columns, lastMap.count, centre, box.start,
                                          box.length, Int8(bitPattern: cvalBits), maximum)
                }
            }
        }
        guard result == 0 else { return false }
        for (t, y) in rows.enumerated() {
            try body(y, 0, UnsafeMutableRawPointer(outputs[t]!).assumingMemoryBound(to: T.self))
        }
        return true
    }
}
