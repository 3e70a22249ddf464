import ArgumentParser
import FilterJIT
import Foundation
import NDImage

/// `filterjit run SOURCE --input IN --output OUT [filter options]`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Apply a @filter, @line_filter or @transform kernel to an image (.npy, .png, .tif or .tiff) and write the result.",
        discussion: """
            The output is written to a temporary file and renamed, so a failed run leaves none.

            Batch: with --output-dir DIR, --input is a directory or a quoted glob pattern; the kernel is \
            compiled once (while the other threads read the first files), the files are filtered in \
            parallel within --threads, each result is written to DIR under its input's name, a failing \
            file is reported without stopping the others (exit status 1 when any failed), and a summary \
            line (files, pixels, time with the compile) ends the run. A progress bar over files is shown \
            on a terminal, none when piped.

            Examples:
              filterjit run examples/fmin.filter --input x.npy --footprint cross --output y.npy
              filterjit run -e 'np.mean(values)' --input in.png --size 5 --mode nearest --output out.png
              filterjit run examples/threshold.filter --input x.npy --param t=0.7 --output mask.npy
              filterjit run examples/smooth1d.filter --input x.npy --line-size 3 --axis -1 --output y.npy
              filterjit run -e 'median(values)' --size 3 --input 'data/*.tif' --output-dir out/
              filterjit run examples/shift.filter --input x.npy --output y.npy --order 3 \\
                  --output-shape 1024x1024 --mode nearest --param dx=0.5

            A @transform kernel runs as scipy.ndimage.geometric_transform: --order (0-5, default 3),
            --output-shape, --mode (default constant), --cval, --prefilter/--no-prefilter.
            """
    )

    @OptionGroup var source: SourceArguments

    @Option(help: ArgumentHelp("The input image (.npy, .png, .tif or .tiff); with --output-dir, a directory or a quoted glob pattern ('data/*.tif').", valueName: "IN"))
    var input: String

    @Option(help: ArgumentHelp("Where to write the result (.npy, .png, .tif or .tiff).", valueName: "OUT"))
    var output: String?

    @Option(name: .customLong("output-dir"), help: ArgumentHelp("Batch run: filter every file --input names into this directory, under the same names.", valueName: "DIR"))
    var outputDirectory: String?

    @OptionGroup var filter: FilterOptionArguments

    @Option(help: ArgumentHelp("Stop the kernel after this many seconds of running (an error, exit 1; single-file runs).",
                               valueName: "SECONDS"))
    var timeout: Double?

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout.isFinite) {
            throw ValidationError("--timeout must be a positive number of seconds, not \(timeout)")
        }
        guard (output == nil) != (outputDirectory == nil) else {
            throw ValidationError("give exactly one of --output (one file) and --output-dir (a batch)")
        }
    }

    func run() throws {
        exitOnInterrupt()
        if let outputDirectory {
            var failed = 0
            try runReportingErrors {
                let batch = BatchRun(inputs: try BatchRun.expandInputs(input), outputDirectory: outputDirectory)
                try batch.checkOutputs()
                let file = try source.load()
                failed = try batch.run(arguments: filter) {
                    let engine = try makeEngine(filter)
                    return (engine, try engine.compile(file.text, function: source.function, fileName: file.name,
                                              undecoratedKind: try filter.undecoratedKind()))
                }
            }
            if failed > 0 { throw ExitCode(1) }
            return
        }
        let output = output ?? ""
        try runReportingErrors {
            try checkOutputPath(output)
            let file = try source.load()
            let engine = try makeEngine(filter)
            let kernel = try engine.compile(file.text, function: source.function, fileName: file.name,
                                              undecoratedKind: try filter.undecoratedKind())
            // A TIFF output keeps the description and resolution of a TIFF input.
            let (image, tiffTags) = try ImageFile.readWithTags(path: input)
            let result = try withTimeout(timeout, cancelling: engine) {
                try applyKernel(kernel, to: image, arguments: filter)
            }
            try writeAtomically(result, to: output, tiffTags: tiffTags)
        }
    }
}
