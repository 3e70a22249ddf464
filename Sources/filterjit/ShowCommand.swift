import ArgumentParser
import FilterLang
import Foundation

/// `filterjit show SOURCE --ir | --optimized-ir | --asm`: the code a kernel compiles to.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a kernel's LLVM IR, optimised IR or machine code.",
        discussion: """
            Examples:
              filterjit show examples/fmin.filter --optimized-ir
              filterjit show -e 'min(values)' --asm
            """
    )

    @OptionGroup var source: SourceArguments

    @Flag(help: "LLVM IR before optimisation (the default).")
    var ir = false
    @Flag(name: .customLong("optimized-ir"), help: "LLVM IR after optimisation.")
    var optimizedIR = false
    @Flag(help: "Machine code for this CPU.")
    var asm = false

    func run() throws {
        try runReportingErrors {
            _ = try source.load()
            throw UserError("show: code generation is not available in this build yet")
        }
    }
}
