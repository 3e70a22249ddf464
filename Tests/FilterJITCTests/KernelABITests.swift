import Foundation
import Testing
import KernelABI
import NDImage

/// The C API header and the Python package repeat KernelABI's element-type and mode codes for their
/// callers; these tests read both files and check every code against filterjit_abi.h.
@Suite struct KernelABITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `NAME = value` pairs of the C header's enums.
    func headerConstants() throws -> [String: UInt32] {
        let text = try String(contentsOf: Self.root.appendingPathComponent("include/filterjit.h"), encoding: .utf8)
        var constants: [String: UInt32] = [:]
        let pattern = try NSRegularExpression(pattern: #"(FILTERJIT_[A-Z0-9_]+)\s*=\s*([0-9]+)"#)
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = String(text[Range(match.range(at: 1), in: text)!])
            constants[name] = UInt32(text[Range(match.range(at: 2), in: text)!])
        }
        return constants
    }

    /// The names of a Python tuple assigned at the top of `_lib.py`, in order.
    func pythonTuple(_ name: String) throws -> [String] {
        let text = try String(contentsOf: Self.root.appendingPathComponent("python/filterjit/_lib.py"), encoding: .utf8)
        guard let start = text.range(of: "\n\(name) = (") else { return [] }
        let rest = text[start.upperBound...]
        let body = rest[..<rest.firstIndex(of: ")")!]
        return body.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            .filter { !$0.isEmpty }
    }

    @Test func theHeadersElementTypeCodesAreKernelABIs() throws {
        let constants = try headerConstants()
        for type in ElementType.allCases {
            let name = "FILTERJIT_" + type.rawValue.uppercased()
            #expect(constants[name] == type.abiCode.rawValue, "\(name)")
            #expect(ElementType(abiCode: type.abiCode) == type)
        }
    }

    @Test func theHeadersModeCodesAreKernelABIs() throws {
        let constants = try headerConstants()
        for mode in BoundaryMode.allCases {
            let name = "FILTERJIT_MODE_" + mode.rawValue.uppercased().replacingOccurrences(of: "-", with: "_")
            #expect(constants[name] == mode.abiCode.rawValue, "\(name)")
            #expect(BoundaryMode(abiCode: mode.abiCode) == mode)
        }
    }

    @Test func pythonsTablesAreInKernelABIOrder() throws {
        let dtypes = try pythonTuple("DTYPES"), modes = try pythonTuple("MODES")
        #expect(dtypes.count == ElementType.allCases.count && modes.count == BoundaryMode.allCases.count, "\(dtypes) \(modes)")
        for (code, name) in dtypes.enumerated() {
            #expect(ElementType(rawValue: name)?.abiCode.rawValue == UInt32(code), "\(name)")
        }
        for (code, name) in modes.enumerated() {
            #expect(BoundaryMode(rawValue: name)?.abiCode.rawValue == UInt32(code), "\(name)")
        }
    }

    @Test func theRowArgumentBlockHasTheLayoutTheCodeGeneratorAssumes() {
        // FilterCodegen reads the fields at these offsets (RowKernelABI); pointers and int64 are 8 bytes.
        #expect(MemoryLayout<fj_row_arguments>.offset(of: \.taps) == 0)
        #expect(MemoryLayout<fj_row_arguments>.offset(of: \.output) == 8)
        #expect(MemoryLayout<fj_row_arguments>.offset(of: \.count) == 16)
        #expect(MemoryLayout<fj_row_arguments>.offset(of: \.parameters) == 24)
        #expect(MemoryLayout<fj_row_arguments>.offset(of: \.scratch) == 32)
        #expect(FJ_ROW_GROUP >= 8)
    }
}
