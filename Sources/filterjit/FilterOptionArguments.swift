import ArgumentParser
import FilterLang
import NDImage

/// The filter options shared by `run`, `bench`, `show` and `repl` (spec/cli.md, "Filter options").
///
/// Values may start with `-` (`--origin -1,0`, `--cval -1.5`, `--axis -1`): they are parsed
/// `.unconditional`ly, so they are numbers, not flags.
struct FilterOptionArguments: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Box window: one size for every axis, or one per axis.", valueName: "N[,M...]"))
    var size: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("cross, box or FILE.npy (non-zero is True). Default: cross when neither --size nor --footprint is given.", valueName: "cross|box|FILE.npy"))
    var footprint: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("reflect, constant, nearest, mirror, wrap, grid-mirror, grid-constant, grid-wrap (default: reflect for filters, constant for @transform kernels, as in SciPy).", valueName: "M"))
    var mode: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Fill value for constant modes (also nan, inf, -inf).", valueName: "X"))
    var cval: String = "0"

    @Option(parsing: .unconditional, help: ArgumentHelp("Window shift per axis, SciPy's sign convention.", valueName: "K[,L...]"))
    var origin: String = "0"

    @Option(parsing: .unconditional, help: ArgumentHelp("The axes that size, footprint and origin describe.", valueName: "A,B..."))
    var axes: String?

    @Option(name: .customLong("param"), parsing: .unconditionalSingleValue, help: ArgumentHelp("A run-time parameter of the kernel; repeatable.", valueName: "NAME=VALUE"))
    var parameters: [String] = []

    @Option(name: .customLong("output-dtype"), parsing: .unconditional, help: ArgumentHelp("bool float64 float32 int8 int16 int32 int64 uint8 uint16 uint32 uint64 (default: the input's).", valueName: "T"))
    var outputDType: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Worker threads (default: all cores).", valueName: "N"))
    var threads: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("fused (default): a whole-image kernel compiled for the element types, footprint and mode (for a @transform: its coordinate code compiled into a loop over each output row); callback: per-element call through the SciPy ABI, as generic_filter and geometric_transform do.", valueName: "fused|callback"))
    var engine: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("auto (default): whole-window reductions (min, max, sum, mean, median, percentile, rank and point-wise combinations of them) run with the fastest exact algorithm for their size; literal: every tap of every window, as written; fast-math: as --fast-math.", valueName: "auto|literal|fast-math"))
    var strategy: String?

    @Flag(name: .customLong("fast-math"), help: "Allow results that may differ from the exact ones in the last bits: float np.sum/np.mean of 2-D and 3-D box windows run as O(1)-per-pixel box sums (error bound in docs/window-strategies.md). Off by default: results are then bit-exact (box sums still run in O(1) where the data make every window sum exact in doubles, e.g. float32 images).")
    var fastMath = false

    @Option(parsing: .unconditional, help: ArgumentHelp("The axis of a @line_filter.", valueName: "K"))
    var axis: Int = -1

    @Option(name: .customLong("line-size"), parsing: .unconditional, help: ArgumentHelp("filter_size of a @line_filter (required for line filters).", valueName: "N"))
    var lineSize: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("What an undecorated def is: filter (the default; line_filter when --line-size is given) or transform, as scipy.ndimage's generic_filter, generic_filter1d and geometric_transform take a plain function. A decorator decides by itself.", valueName: "filter|line_filter|transform"))
    var kind: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Spline order 0-5 of a @transform kernel's interpolation.", valueName: "N"))
    var order: Int = 3

    @Option(name: .customLong("output-shape"), parsing: .unconditional, help: ArgumentHelp("Output shape of a @transform kernel (default: the input's; another rank is allowed).", valueName: "AxB..."))
    var outputShape: String?

    @Flag(inversion: .prefixedNo, help: "Convert the input to spline coefficients first (order > 1), as SciPy's prefilter=True.")
    var prefilter = true

    @Flag(name: .customLong("no-disk-cache"), help: "Neither read nor write the on-disk kernel cache.")
    var noDiskCache = false

    /// The kind of an undecorated kernel def: `--kind`, else a line filter when `--line-size` is given.
    func undecoratedKind() throws -> KernelKind? {
        guard let kind else { return lineSize == nil ? nil : .lineFilter }
        guard let parsed = KernelKind(rawValue: kind), parsed != .arrayFunction else {
            throw UserError("invalid --kind '\(kind)': expected filter, line_filter or transform")
        }
        return parsed
    }

    /// The `--param` values by name; a malformed one is a user error.
    func parameterValues() throws -> [String: Double] {
        var values: [String: Double] = [:]
        for entry in parameters {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw UserError("--param expects NAME=VALUE, got '\(entry)'")
            }
            values[parts[0]] = try OptionParsing.double(parts[1], name: "--param \(parts[0])")
        }
        return values
    }
}

