import ArgumentParser
import FilterJIT
import Foundation
import NDImage

/// `filterjit run SOURCE --input IN --output OUT [filter options]`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Apply a @filter, @line_filter or @transform kernel to an image (.npy or .png) and write the result.",
        discussion: """
            The output is written to a temporary file and renamed, so a failed run leaves none.

            Examples:
              filterjit run examples/fmin.filter --input x.npy --footprint cross --output y.npy
              filterjit run -e 'np.mean(values)' --input in.png --size 5 --mode nearest --output out.png
              filterjit run examples/threshold.filter --input x.npy --param t=0.7 --output mask.npy
              filterjit run examples/smooth1d.filter --input x.npy --line-size 3 --axis -1 --output y.npy
              filterjit run examples/shift.filter --input x.npy --output y.npy --order 3 \\
                  --output-shape 1024x1024 --mode nearest --param dx=0.5

            A @transform kernel runs as scipy.ndimage.geometric_transform: --order (0-5, default 3),
            --output-shape, --mode (default constant), --cval, --prefilter/--no-prefilter.
            """
    )

    @OptionGroup var source: SourceArguments

    @Option(help: ArgumentHelp("The input image (.npy or .png).", valueName: "IN"))
    var input: String

    @Option(help: ArgumentHelp("Where to write the result (.npy or .png).", valueName: "OUT"))
    var output: String

    @OptionGroup var filter: FilterOptionArguments

    func run() throws {
        exitOnInterrupt()
        try runReportingErrors {
            try checkOutputPath(output)
            let file = try source.load()
            let engine = try makeEngine(filter)
            let kernel = try engine.compile(file.text, function: source.function, fileName: file.name)
            let image = try ImageFile.read(path: input)
            let result = try applyKernel(kernel, to: image, arguments: filter)
            try writeAtomically(result, to: output)
        }
    }
}
