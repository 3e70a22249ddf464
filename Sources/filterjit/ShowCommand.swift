import ArgumentParser
import FilterJIT
import Foundation
import NDImage

/// `filterjit show SOURCE --ir | --optimized-ir | --asm`: the code a kernel compiles to.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a kernel's LLVM IR, optimised IR or machine code.",
        discussion: """
            Shows the SciPy-ABI callback kernel (the fused whole-image kernel is not built yet,
            so --shape and --dtype are accepted and checked but do not change the output).

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

    @Option(help: ArgumentHelp("Image shape the kernel is specialised for.", valueName: "S"))
    var shape: String = "2048x2048"
    @Option(help: ArgumentHelp("Image element type the kernel is specialised for.", valueName: "T"))
    var dtype: String = "float64"

    @OptionGroup var filter: FilterOptionArguments

    func validate() throws {
        if [ir, optimizedIR, asm].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --ir, --optimized-ir and --asm")
        }
    }

    func run() throws {
        try runReportingErrors {
            _ = try OptionParsing.shape(shape)
            _ = try ElementType.parse(dtype)
            let file = try source.load()
            let kernel = try Engine().compile(file.text, function: source.function, fileName: file.name)
            let text: String
            if asm {
                text = try kernel.assembly
            } else if optimizedIR {
                text = kernel.optimizedIR
            } else {
                text = kernel.ir
            }
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        }
    }
}
