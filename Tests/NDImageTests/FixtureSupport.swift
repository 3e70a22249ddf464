import Foundation
import Testing
@testable import NDImage

/// The folder of the committed fixtures made by scripts/make_ndimage_fixtures.py.
let fixtureRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/ndimage")

/// An array as the fixture script encodes it: dtype, shape, C-ordered values as exact strings.
struct EncodedArray: Decodable {
    let dtype: String
    let shape: [Int]
    let data: [String]

    var elementType: ElementType { get throws { try ElementType.parse(dtype) } }
    var doubles: [Double] { data.map { Double($0) ?? .nan } }

    /// A C-ordered NDArray with these values.
    func makeArray() throws -> NDArray {
        let type = try elementType
        if type.isFloatingPoint { return try NDArray.make(shape: shape, elementType: type, values: doubles) }
        // Integers exactly, through their bits.
        let array = try NDArray(shape: shape, elementType: type)
        for (i, text) in data.enumerated() {
            let bits = Int64(text) ?? Int64(bitPattern: UInt64(text) ?? 0)
            type.storeInt64Bits(bits, to: array.storage.baseAddress + i * type.itemSize)
        }
        return array
    }
}

/// Loads a JSON fixture file.
func loadFixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let data = try Data(contentsOf: fixtureRoot.appendingPathComponent(name))
    return try JSONDecoder().decode(T.self, from: data)
}

/// Describes the first difference between `array` and `expected`, or nil when they are bit-identical
/// (NaN equals NaN; integers compared exactly; bool compared as its raw byte).
func difference(_ array: NDArray, _ expected: EncodedArray) throws -> String? {
    let type = try expected.elementType
    guard array.elementType == type else { return "dtype \(array.elementType) != \(type)" }
    guard array.shape == expected.shape else { return "shape \(array.shape) != \(expected.shape)" }
    if type.isFloatingPoint {
        let got = array.doubleValues()
        for (i, text) in expected.data.enumerated() {
            guard let want = Double(text) else { return "bad expected value \(text)" }
            let wantValue = type == .float32 ? Double(Float(want)) : want
            if got[i].isNaN && wantValue.isNaN { continue }
            if got[i].bitPattern != wantValue.bitPattern { return "element \(i): \(got[i]) != \(text)" }
        }
    } else {
        let got = array.int64Bits()
        for (i, text) in expected.data.enumerated() {
            let want = Int64(text) ?? Int64(bitPattern: UInt64(text) ?? 0)
            if got[i] != want { return "element \(i): \(got[i]) != \(text)" }
        }
    }
    return nil
}

/// Rebuilds `array` in another memory layout with the same logical values.
func relayout(_ array: NDArray, _ layout: String) throws -> NDArray {
    switch layout {
    case "F":
        let copy = try NDArray(shape: array.shape, elementType: array.elementType, order: .fortran)
        copyLogically(from: array, to: copy)
        return copy
    case "reversed":
        // Storage holds axis 0 flipped; the view flips it back, so its strides are negative.
        let flipped = try NDArray(shape: array.shape, elementType: array.elementType)
        let view = try flipped.reversed(axis: 0)
        copyLogically(from: array, to: view)
        return view
    default:
        return array
    }
}

/// Copies element bits in logical C order between arrays of one type and shape.
func copyLogically(from source: NDArray, to destination: NDArray) {
    var offsets: [Int] = []
    destination.forEachElementOffset { offsets.append($0) }
    var k = 0
    let size = source.elementType.itemSize
    source.forEachElementOffset {
        (destination.firstElementPointer + offsets[k]).copyMemory(from: source.firstElementPointer + $0, byteCount: size)
        k += 1
    }
}

// MARK: - Reducers whose arithmetic matches the NumPy functions used by the fixture script

/// NumPy's float64 `np.sum` (pairwise with 8 accumulators; spec section 7).
func numpySum(_ a: UnsafeBufferPointer<Double>) -> Double {
    let n = a.count
    if n < 8 {
        var s = 0.0
        for v in a { s += v }
        return s
    }
    if n <= 128 {
        var r = Array(a[0..<8])
        var i = 8
        while i < n - n % 8 {
            for j in 0..<8 { r[j] += a[i + j] }
            i += 8
        }
        var s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n { s += a[i]; i += 1 }
        return s
    }
    let h = (n / 2) / 8 * 8
    return numpySum(UnsafeBufferPointer(rebasing: a[0..<h])) + numpySum(UnsafeBufferPointer(rebasing: a[h...]))
}

/// The weight of buffer position j in the "wsum" reducer.
func weight(_ j: Int) -> Double { 1.0 + 0.25 * Double(j) }

/// The reducer named by a fixture, on one window.
func reduce(_ name: String, _ b: UnsafeBufferPointer<Double>) -> Double {
    switch name {
    case "min": return b.contains { $0.isNaN } ? .nan : b.min() ?? .nan
    case "max": return b.contains { $0.isNaN } ? .nan : b.max() ?? .nan
    case "median":
        if b.isEmpty || b.contains(where: { $0.isNaN }) { return .nan }
        let sorted = b.sorted()
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : ((0.0 + sorted[n / 2 - 1]) + sorted[n / 2]) / 2
    case "seqsum":
        var s = 0.0
        for v in b { s += v }
        return s
    case "wsum":
        var s = 0.0
        for (j, v) in b.enumerated() { s += v * weight(j) }
        return s
    case "npsum": return numpySum(b)
    default: return .nan
    }
}
