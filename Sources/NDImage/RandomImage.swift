/// SplitMix64: a small, fast, seedable generator, so a seed names the same image everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension NDArray {
    /// A seeded random C-ordered image: floats uniform in [0, 1), integers uniform over their
    /// whole range, bools 0 or 1 (the `bench` and `repl` test image).
    public static func random(shape: [Int], elementType: ElementType, seed: UInt64 = 0) throws(NDImageError) -> NDArray {
        let array = try NDArray(shape: shape, elementType: elementType)
        var generator = SplitMix64(seed: seed)
        let base = array.storage.baseAddress
        for index in 0..<array.count {
            let bits = generator.next()
            let pointer = base + index * elementType.itemSize
            switch elementType {
            case .float64:
                pointer.storeBytes(of: Double(bits >> 11) * 0x1p-53, as: Double.self)
            case .float32:
                pointer.storeBytes(of: Float(bits >> 40) * 0x1p-24, as: Float.self)
            case .bool:
                pointer.storeBytes(of: UInt8(bits >> 63), as: UInt8.self)
            default:
                // The low bytes of a uniform 64-bit value are uniform over any integer type's range.
                withUnsafeBytes(of: bits.littleEndian) { bytes in
                    pointer.copyMemory(from: bytes.baseAddress!, byteCount: elementType.itemSize)
                }
            }
        }
        return array
    }
}
