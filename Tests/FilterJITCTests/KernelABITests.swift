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

    @Test func theFastMathFlagAgreesInTheHeaderAndPython() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("python/filterjit/_lib.py"), encoding: .utf8)
        #expect(try headerConstants()["FILTERJIT_FLAG_FAST_MATH"] == 1)
        #expect(text.contains("\nFLAG_FAST_MATH = 1\n"))
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

    /// `A, B, C = range(n)` at the top of `_lib.py`: the names in order.
    func pythonRange(startingWith first: String) throws -> [String] {
        let text = try String(contentsOf: Self.root.appendingPathComponent("python/filterjit/_lib.py"), encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(first + ",") && $0.contains("= range(") }) else { return [] }
        return line.split(separator: "=")[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    @Test func arrayFunctionArgumentAndResultCodesAgreeInTheHeaderAndPython() throws {
        let constants = try headerConstants()
        let arguments = try pythonRange(startingWith: "ARGUMENT_ARRAY"), results = try pythonRange(startingWith: "RESULT_NONE")
        #expect(arguments == ["ARGUMENT_ARRAY", "ARGUMENT_INT", "ARGUMENT_FLOAT", "ARGUMENT_BOOL"])
        #expect(results == ["RESULT_NONE", "RESULT_INT", "RESULT_FLOAT", "RESULT_BOOL", "RESULT_ARRAY", "RESULT_UINT64"])
        for (code, name) in (arguments + results).enumerated() {
            let value = code < arguments.count ? code : code - arguments.count
            #expect(constants["FILTERJIT_" + name] == UInt32(value), "\(name)")
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
