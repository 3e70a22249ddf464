/// A boolean neighbourhood mask: its shape and its entries in C order.
public struct Footprint: Equatable, Sendable {
    /// The length of each axis.
    public let shape: [Int]
    /// The entries in C (row-major) order; true entries are the window's taps.
    public let mask: [Bool]

    /// The most entries a footprint may have (a 2048 x 2048 window). Every tap costs memory per
    /// thread and work per output element, so a larger window is an error before any work starts
    /// rather than an allocation that traps (`--size 99999999` would ask for 10^16 entries).
    public static let maximumEntryCount = 1 << 22

    /// The entry count of a footprint of `shape`, or an error when it is negative, overflows or is too large.
    public static func checkedEntryCount(shape: [Int]) throws(NDImageError) -> Int {
        let count = try NDArray.checkedElementCount(shape: shape, itemSize: 1)
        guard count <= maximumEntryCount else {
            throw .sizeTooLarge("a window of shape \(shape) has \(count) entries; at most \(maximumEntryCount) are supported")
        }
        return count
    }

    /// A footprint of `shape` with the given C-ordered entries.
    public init(shape: [Int], mask: [Bool]) throws(NDImageError) {
        let count = try Footprint.checkedEntryCount(shape: shape)
        guard count == mask.count else {
            throw .invalidArgument("footprint mask has \(mask.count) entries but shape \(shape) needs \(count)")
        }
        self.shape = shape
        self.mask = mask
    }

    /// An all-true box footprint of the given size per axis (SciPy's `size` argument).
    public init(size: [Int]) throws(NDImageError) {
        // Checked before the mask is allocated: Array(repeating:count:) traps when memory runs out.
        let count = try Footprint.checkedEntryCount(shape: size)
        try self.init(shape: size, mask: Array(repeating: true, count: count))
    }

    /// A footprint from an array of any element type; non-zero (and NaN) entries are true, as NumPy's `astype(bool)`.
    public init(array: NDArray) throws(NDImageError) {
        _ = try Footprint.checkedEntryCount(shape: array.shape)
        try self.init(shape: array.shape, mask: array.doubleValues().map { $0 != 0 })
    }

    /// SciPy's `generate_binary_structure(rank, 1)`: 3 per axis, the centre and its 2*rank face neighbours.
    public static func cross(rank: Int) throws(NDImageError) -> Footprint {
        let shape = Array(repeating: 3, count: max(rank, 0))
        let count = try Footprint.checkedEntryCount(shape: shape)
        var mask = Array(repeating: false, count: count)
        for flat in 0..<count {
            // Sum of |index - 1| over the axes must be at most 1.
            var rest = flat, distance = 0
            for _ in 0..<rank {
                distance += abs(rest % 3 - 1)
                rest /= 3
            }
            mask[flat] = distance <= 1
        }
        return try Footprint(shape: shape, mask: mask)
    }

    /// An all-true footprint of 3 per axis.
    public static func box(rank: Int) throws(NDImageError) -> Footprint {
        try Footprint(size: Array(repeating: 3, count: max(rank, 0)))
    }

    /// The number of true entries (SciPy's `filter_size`).
    public var trueCount: Int { mask.reduce(0) { $0 + ($1 ? 1 : 0) } }
    /// The number of axes.
    public var rank: Int { shape.count }
}
