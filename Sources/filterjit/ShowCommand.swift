import ArgumentParser
import FilterJIT
import Foundation
import NDImage

/// `filterjit show SOURCE --stage ast|typed|ir|opt|asm`: one compile stage's output.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print one compile stage's output: syntax tree, typed program, LLVM IR, optimised IR or machine code.",
        discussion: """
            --stage ast and --stage typed print the front end's output (the parsed syntax tree, the \
            checked program with every name resolved to a slot and every conversion explicit).

            For ir, opt and asm: the fused whole-image kernel compiled for --shape's rank, --dtype (and \
            --output-dtype) and the filter options (the default), or with --engine callback the \
            SciPy-ABI callback kernel. For @transform kernels the fused code is the row kernel \
            compiled for --shape's rank (the input) and --output-shape's (the output; default the \
            input's): the coordinate code in a loop over a row's points. For @filter \
            kernels the first line names the window strategy (--strategy) the run would use. For \
            @line_filter kernels whose control flow does not depend on the data, the lanes kernel \
            (4 lines per call, one per SIMD lane) follows the line kernel when --shape has 4 lines or more.

            Examples:
              filterjit show examples/fmin.filter --optimized-ir
              filterjit show -e 'min(values)' --asm
              filterjit show examples/fmin.filter --stage typed
            """
    )

    @OptionGroup var source: SourceArguments

    @Flag(help: "LLVM IR before optimisation (the default).")
    var ir = false
    @Flag(name: .customLong("optimized-ir"), help: "LLVM IR after optimisation.")
    var optimizedIR = false
    @Flag(help: "Machine code for this CPU.")
    var asm = false

    @Option(help: ArgumentHelp("The stage to print: ast, typed, ir (the default), opt or asm.", valueName: "STAGE"))
    var stage: String?

    @Option(help: ArgumentHelp("Image shape the kernel is specialised for.", valueName: "S"))
    var shape: String = "2048x2048"
    @Option(help: ArgumentHelp("Image element type the kernel is specialised for.", valueName: "T"))
    var dtype: String = "float64"

    @OptionGroup var filter: FilterOptionArguments

    func validate() throws {
        if [ir, optimizedIR, asm, stage != nil].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --stage, --ir, --optimized-ir and --asm")
        }
        if let stage, CompileStage(rawValue: stage) == nil {
            throw ValidationError("unknown stage '\(stage)': choose ast, typed, ir, opt or asm")
        }
    }

    func run() throws {
        try runReportingErrors {
            let imageShape = try OptionParsing.shape(shape)
            let elementType = try ElementType.parse(dtype)
            let file = try source.load()
            let chosen = stage.flatMap(CompileStage.init(rawValue:))
            if chosen == .ast || chosen == .typed {
                let text = try Engine.frontEndOutput(chosen!, file: file, function: source.function,
                                                      undecoratedKind: try filter.undecoratedKind())
                print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
                return
            }
            let asm = asm || chosen == .asm, optimizedIR = optimizedIR || chosen == .opt
            let kernel = try Engine().compile(file.text, function: source.function, fileName: file.name,
                                             undecoratedKind: try filter.undecoratedKind())
            let text: String
            if try filter.executionEngine() == .fused {
                var outputType: ElementType?
                if case .elementType(let type) = try filter.filterOutput() { outputType = type }
                let code: FusedCode
                switch kernel.kind {
                case .filter:
                    code = try kernel.fusedCode(shape: imageShape, elementType: elementType, outputType: outputType,
                                                options: try filter.filterOptions(rank: imageShape.count).options)
                case .lineFilter:
                    code = try kernel.fusedCode(shape: imageShape, elementType: elementType, outputType: outputType,
                                                lineOptions: try filter.lineFilterOptions())
                case .transform:
                    code = try kernel.fusedCode(shape: imageShape, elementType: elementType,
                                                outputRank: try filter.transformOutputShape()?.count)
                case .arrayFunction:
                    throw KernelCallError.wrongKind(expected: .filter, actual: kernel.kind)
                }
                func chosenText(_ code: FusedCode) -> String { asm ? code.assembly : (optimizedIR ? code.optimizedIR : code.ir) }
                var shown = chosenText(code)
                if kernel.kind == .lineFilter {
                    let comment = asm ? "#" : ";"
                    if let lanes = try kernel.fusedLanesCode(shape: imageShape, elementType: elementType, outputType: outputType,
                                                             lineOptions: try filter.lineFilterOptions()) {
                        print("\(comment) lines run 4 at a time in SIMD lanes: the line kernel, then the lanes kernel")
                        shown += "\n\(comment) the lanes kernel (4 lines per call)\n" + chosenText(lanes)
                    } else {
                        print("\(comment) lines run one at a time")
                    }
                }
                text = shown
                if kernel.kind == .filter {
                    let options = try filter.filterOptions(rank: imageShape.count).options
                    let report = try kernel.windowStrategy(shape: imageShape, elementType: elementType, options: options,
                                                           strategy: try filter.windowStrategy(), outputType: outputType)
                    // A comment in both LLVM IR and assembly syntax.
                    let comment = asm ? "#" : ";"
                    print("\(comment) window strategy: \(report)")
                    if report.isFastMath {
                        print("\(comment) (fast-math: results may differ from the literal kernel below in the last bits)")
                    } else if report.name != "literal" {
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
