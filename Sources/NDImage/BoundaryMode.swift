/// How generic_filter extends the input beyond its edges (spec/ndimage-semantics.md section 2.1).
///
/// For the filter functions the grid-* names are aliases: `grid-mirror` = `reflect`,
/// `grid-wrap` = `wrap`, `grid-constant` = `constant`. The mapping is periodic at any distance,
/// so windows far larger than the array are handled (FilterJIT deliberately does not reproduce
/// SciPy's out-of-bounds read for very wide reflect windows, section 2.4).

import KernelABI
public enum BoundaryMode: String, CaseIterable, Sendable, Hashable {
    case reflect
    case constant
    case nearest
    case mirror
    case wrap
    case gridMirror = "grid-mirror"
    case gridConstant = "grid-constant"
    case gridWrap = "grid-wrap"

    /// Parses one of SciPy's eight mode names, with SciPy's message for anything else.
    public static func parse(_ text: String) throws(NDImageError) -> BoundaryMode {
        guard let mode = BoundaryMode(rawValue: text.trimmingCharactersInWhitespace()) else {
            let names = BoundaryMode.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidArgument("boundary mode not supported: '\(text)' (expected one of: \(names))")
        }
        return mode
    }

    /// Whether out-of-range taps take the constant value `cval`.
    public var usesConstant: Bool { self == .constant || self == .gridConstant }

    /// Maps the wanted index `index` on an axis of `length` (> 0) elements to an index in
    /// `0..<length`, or nil when the tap takes `cval`.
    @inline(__always)
    public func mapIndex(_ index: Int, length: Int) -> Int? {
        if index >= 0 && index < length { return index }
        switch self {
        case .constant, .gridConstant:
            return nil
        case .nearest:
            return index < 0 ? 0 : length - 1
        case .wrap, .gridWrap:
            return positiveModulo(index, length)
        case .reflect, .gridMirror:
            if length == 1 { return 0 }
            let period = 2 * length
            let r = positiveModulo(index, period)
            return r < length ? r : period - 1 - r
        case .mirror:
            if length == 1 { return 0 }
            let period = 2 * length - 2
            let r = positiveModulo(index, period)
            return r < length ? r : period - r
        }
    }
}

/// The mathematical (non-negative) remainder of `value` divided by `modulus` (> 0).
@inline(__always)
func positiveModulo(_ value: Int, _ modulus: Int) -> Int {
    let r = value % modulus
    return r < 0 ? r + modulus : r
}

extension BoundaryMode {
    /// The mode with the filter aliases resolved (grid-mirror = reflect, grid-wrap = wrap,
    /// grid-constant = constant): filters treat each pair alike.
    public var canonicalForFilters: BoundaryMode {
        switch self {
        case .gridMirror: return .reflect
        case .gridWrap: return .wrap
        case .gridConstant: return .constant
        default: return self
        }
    }
}

extension BoundaryMode {
    /// The mode's code in KernelABI (`fj_mode_code`), which the C API and Python repeat.
    public var abiCode: fj_mode_code {
        switch self {
        case .reflect: return FJ_MODE_REFLECT
        case .constant: return FJ_MODE_CONSTANT
        case .nearest: return FJ_MODE_NEAREST
        case .mirror: return FJ_MODE_MIRROR
        case .wrap: return FJ_MODE_WRAP
        case .gridMirror: return FJ_MODE_GRID_MIRROR
        case .gridConstant: return FJ_MODE_GRID_CONSTANT
        case .gridWrap: return FJ_MODE_GRID_WRAP
        }
    }

    /// The mode of a KernelABI code; nil for a code that names none.
    public init?(abiCode: fj_mode_code) {
        guard let mode = BoundaryMode.allCases.first(where: { $0.abiCode == abiCode }) else { return nil }
        self = mode
    }
}
