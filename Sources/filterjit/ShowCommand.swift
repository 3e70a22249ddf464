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
            Shows the fused whole-image kernel compiled for --shape's rank, --dtype (and
            --output-dtype) and the filter options (the default), or with --engine callback the
            SciPy-ABI callback kernel. @transform kernels always show the callback. For @filter
            kernels the first line names the window strategy (--strategy) the run would use.

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
            let imageShape = try OptionParsing.shape(shape)
            let elementType = try ElementType.parse(dtype)
            let file = try source.load()
            let kernel = try Engine().compile(file.text, function: source.function, fileName: file.name)
            let text: String
            if try filter.executionEngine() == .fused && kernel.kind != .transform {
                var outputType: ElementType?
                if case .elementType(let type) = try filter.filterOutput() { outputType = type }
                let code = kernel.kind == .filter
                    ? try kernel.fusedCode(shape: imageShape, elementType: elementType, outputType: outputType,
                                           options: try filter.filterOptions(rank: imageShape.count).options)
                    : try kernel.fusedCode(shape: imageShape, elementType: elementType, outputType: outputType,
                                           lineOptions: try filter.lineFilterOptions())
                text = asm ? code.assembly : (optimizedIR ? code.optimizedIR : code.ir)
                if kernel.kind == .filter {
                    let options = try filter.filterOptions(rank: imageShape.count).options
                    let report = try kernel.windowStrategy(shape: imageShape, elementType: elementType, options: options,
                                                           strategy: try filter.windowStrategy())
                    // A comment in both LLVM IR and assembly syntax.
                    let comment = asm ? "#" : ";"
                    print("\(comment) window strategy: \(report)")
                    if report.name != "literal" {
                        print("\(comment) (the literal kernel below runs when float data holds NaN or -0.0)")
                    }
                }
            } else if asm {
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
