import KernelABI

/// The element types NDImage handles, named as NumPy names them.
public enum ElementType: String, CaseIterable, Sendable, Hashable {
    case bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    /// Whether the type is float32 or float64.
    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// The NumPy type character and size, without byte order (`f8`, `u1`, `b1`).
    public var npyTypeCode: String {
        switch self {
        case .bool: return "b1"
        case .int8: return "i1"
        case .int16: return "i2"
        case .int32: return "i4"
        case .int64: return "i8"
        case .uint8: return "u1"
        case .uint16: return "u2"
        case .uint32: return "u4"
        case .uint64: return "u8"
        case .float32: return "f4"
        case .float64: return "f8"
        }
    }

    /// Parses a dtype name as the CLI accepts it (`float64`, `uint8`, ...; also `f8`, `<f8`, `double`).
    public static func parse(_ text: String) throws(NDImageError) -> ElementType {
        let name = text.trimmingCharactersInWhitespace().lowercased()
        if let type = ElementType(rawValue: name) { return type }
        switch name {
        case "float", "double", "f8", "<f8": return .float64
        case "single", "f4", "<f4": return .float32
        case "?", "b1", "|b1": return .bool
        case "i1", "|i1": return .int8
        case "u1", "|u1": return .uint8
        case "i2", "<i2": return .int16
        case "u2", "<u2": return .uint16
        case "i4", "<i4": return .int32
        case "u4", "<u4": return .uint32
        case "i8", "<i8": return .int64
        case "u8", "<u8": return .uint64
        default:
            let names = ElementType.allCases.map(\.rawValue).joined(separator: " ")
            throw .unsupportedDtype("'\(text)' is not a supported dtype (expected one of: \(names))")
        }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines (Foundation-free).
    func trimmingCharactersInWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension ElementType {
    /// The type's code in KernelABI (`fj_element_code`), which the C API and Python repeat.
    public var abiCode: fj_element_code {
        switch self {
        case .bool: return FJ_ELEMENT_BOOL
        case .int8: return FJ_ELEMENT_INT8
        case .int16: return FJ_ELEMENT_INT16
        case .int32: return FJ_ELEMENT_INT32
        case .int64: return FJ_ELEMENT_INT64
        case .uint8: return FJ_ELEMENT_UINT8
        case .uint16: return FJ_ELEMENT_UINT16
        case .uint32: return FJ_ELEMENT_UINT32
        case .uint64: return FJ_ELEMENT_UINT64
        case .float32: return FJ_ELEMENT_FLOAT32
        case .float64: return FJ_ELEMENT_FLOAT64
        }
    }

    /// The type of a KernelABI code; nil for a code that names none.
    public init?(abiCode: fj_element_code) {
        guard let type = ElementType.allCases.first(where: { $0.abiCode == abiCode }) else { return nil }
        self = type
    }
}
