/// The arguments of `generic_filter` that describe the window and the edges.
public struct FilterOptions: Sendable, Equatable {
    /// Window size per filtered axis (one value: every filtered axis); ignored when `footprint` is set.
    public var size: [Int]?
    /// The window mask; wins over `size`.
    public var footprint: Footprint?
    /// How the input is extended beyond its edges.
    public var mode: BoundaryMode
    /// The value outside the input for constant modes; used as a double, not cast to the input type.
    public var cval: Double
    /// Window shift per filtered axis (empty: 0; one value: every axis); positive moves the window to lower indices.
    public var origin: [Int]
    /// The axes that size, footprint and origin describe, in that order (nil: all axes); negative counts from the end.
    public var axes: [Int]?

    /// Options with SciPy's defaults (`mode='reflect'`, `cval=0`, `origin=0`, all axes).
    public init(size: [Int]? = nil, footprint: Footprint? = nil, mode: BoundaryMode = .reflect,
                cval: Double = 0, origin: [Int] = [], axes: [Int]? = nil) {
        self.size = size
        self.footprint = footprint
        self.mode = mode
        self.cval = cval
        self.origin = origin
        self.axes = axes
    }

    /// SciPy's warning when both a size and a footprint are given (the footprint wins), else nil.
    public var ignoredSizeWarning: String? {
        size != nil && footprint != nil ? "ignoring size because footprint is set" : nil
    }
}

/// Parsers for the command line's list, shape and number syntax, with clear errors.
public enum OptionParsing {
    /// Parses a comma-separated list of integers (`"3,5"`, `"-1,0"`).
    public static func integerList(_ text: String, name: String = "value") throws(NDImageError) -> [Int] {
        try split(text, separator: ",", name: name)
    }

    /// Parses a shape written with `x` (`"2048x2048"`, `"128x128x128"`); lengths must be >= 0.
    public static func shape(_ text: String) throws(NDImageError) -> [Int] {
        let values = try split(text.lowercased(), separator: "x", name: "shape")
        if let bad = values.first(where: { $0 < 0 }) {
            throw .invalidArgument("invalid shape '\(text)': length \(bad) is negative")
        }
        _ = try NDArray.checkedElementCount(shape: values, itemSize: 8)
        return values
    }

    /// Parses a floating-point value, also `nan`, `inf`, `-inf`.
    public static func double(_ text: String, name: String = "value") throws(NDImageError) -> Double {
        let trimmed = text.trimmingCharactersInWhitespace()
        // Swift's Double(_:) also takes hex floats ("0x10") and NaN payloads ("nan(0x1)"), which
        // Python's float() rejects; a value the user meant as decimal must not silently become 16.
        let swiftOnly = trimmed.contains { $0 == "x" || $0 == "X" || $0 == "(" || $0 == "p" || $0 == "P" }
        guard !swiftOnly, let value = Double(trimmed) else {
            throw .invalidArgument("invalid \(name) '\(text)': expected a number (or nan, inf, -inf)")
        }
        return value
    }

    private static func split(_ text: String, separator: Character, name: String) throws(NDImageError) -> [Int] {
        let trimmed = text.trimmingCharactersInWhitespace()
        guard !trimmed.isEmpty else { throw .invalidArgument("invalid \(name) '\(text)': empty") }
        var values: [Int] = []
        for part in trimmed.split(separator: separator, omittingEmptySubsequences: false) {
            let item = String(part).trimmingCharactersInWhitespace()
            guard let value = Int(item) else {
                throw .invalidArgument("invalid \(name) '\(text)': '\(item)' is not an integer")
            }
            values.append(value)
        }
        return values
    }
}
