import FilterLang
import FilterSema
import Foundation
import Testing

@Test func scratchDumpExamples() throws {
    let directory = repositoryRoot.appendingPathComponent("examples")
    for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where name.hasSuffix(".filter") {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        let (program, errors) = compile(text)
        print("== \(name)")
        if let program {
            for function in program.functions {
                print(function.name, function.locals.map { "\($0.name):\($0.type.rawValue)\($0.isWritable ? "!" : "")" }, function.returnType?.rawValue ?? "-")
                print(dump(function.body))
            }
            print(program.kind, program.parameters)
        } else {
            print(errors)
        }
    }
}
