// Golden IR snapshots of small kernels (unoptimised, so independent of the host CPU).
// Re-record with FILTERJIT_RECORD_SNAPSHOTS=1 swift test --filter IRSnapshotTests; never silently.

import Testing
import Foundation
import FilterLang
import FilterCodegen

private let snapshotDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Snapshots/ir")

private func assertSnapshot(_ name: String, _ program: TypedProgram, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let module = try Codegen.lower(program, options: CodegenOptions(exportName: name), in: ThreadSafeContext())
    let text = module.text
    let url = snapshotDirectory.appendingPathComponent("\(name).ll")
    if ProcessInfo.processInfo.environment["FILTERJIT_RECORD_SNAPSHOTS"] == "1" {
        try FileManager.default.createDirectory(at: snapshotDirectory, withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    guard let recorded = try? String(contentsOf: url, encoding: .utf8) else {
        Issue.record("no snapshot \(url.path); record with FILTERJIT_RECORD_SNAPSHOTS=1", sourceLocation: sourceLocation)
        return
    }
    #expect(recorded == text, "IR of \(name) differs from \(url.path)", sourceLocation: sourceLocation)
}

@Suite struct IRSnapshotTests {
    @Test func minOfValuesIR() throws {
        try assertSnapshot("min_values", P.filter("expression", [S.ret(E.builtin(.pyMin, [E.local(0, .floatArray)], .float))]))
    }

    @Test func parameterisedFilterIR() throws {
        try assertSnapshot("weighted", ABITests.weighted)
    }

    @Test func lineFilterIR() throws {
        try assertSnapshot("line_sum", ABITests.lineSum)
    }

    @Test func transformIR() throws {
        try assertSnapshot("halve", ABITests.halve)
    }

    @Test func whileLoopWithCancellationCheckIR() throws {
        try assertSnapshot("spin", P.filter("spin", [S.loop(while: E.bool(true), []), S.ret(E.float(1))]))
    }
}
