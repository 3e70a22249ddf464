import FilterLang

/// What a built-in name means, before its arguments are checked.
enum BuiltinFunction: Hashable, Sendable {
    /// A `Builtin` case with the standard argument rules for its group.
    case simple(Builtin)
    /// `len(a)`.
    case length
    /// Bare `min`/`max`: one array (`pyMin`) or several numbers (`pyMinOf`).
    case pythonMin, pythonMax
    /// Bare `pow(a, b)`: the `**` operator.
    case pythonPow
    /// `float(x)`, `float('inf')`, `np.float64(x)`.
    case toFloat
    /// `int(x)`.
    case toInt
    /// `bool(x)`.
    case toBool
    /// `round(x)` (int result).
    case round
    /// `math.fabs(x)`, `np.fabs(x)`: float absolute value.
    case floatAbs
    /// `range(...)`: only in `for`.
    case range
}

/// The names of the language's built-in functions, constants and decorators.
enum BuiltinTables {
    /// Reductions whose argument is one float array.
    static let reductions: Set<Builtin> = [
        .pyMin, .pyMax, .pySum, .npMin, .npMax, .npSum, .prod, .mean, .median, .variance, .std, .any, .all,
        .argmin, .argmax, .nanmin, .nanmax, .nansum, .nanmean, .nanmedian,
    ]
    /// Float functions of one float.
    static let floatUnary: Set<Builtin> = [
        .sqrt, .exp, .log, .log2, .log10, .sin, .cos, .tan, .asin, .acos, .atan, .sinh, .cosh, .tanh,
        .npFloor, .npCeil, .npTrunc, .npRound, .isnan, .isinf, .isfinite,
    ]
    /// NumPy ufuncs that apply element by element to arrays (issue 13).
    static let elementwise: Set<Builtin> = floatUnary.union(floatBinary).union([.abs, .minimum, .maximum, .fmin, .fmax, .clip])
    /// Float functions of two floats.
    static let floatBinary: Set<Builtin> = [.atan2, .hypot, .npHypot, .copysign, .pow]
    /// Float-to-int rounding functions (the identity on ints).
    static let roundingToInt: Set<Builtin> = [.floorToInt, .ceilToInt, .truncToInt, .roundToInt]
    /// "num" functions and how many arguments they take.
    static let numArity: [Builtin: ClosedRange<Int>] = [
        .minimum: 2...2, .maximum: 2...2, .fmin: 2...2, .fmax: 2...2, .abs: 1...1, .clip: 3...3,
        .pyMinOf: 2...Int.max, .pyMaxOf: 2...Int.max,
    ]

    /// Names shared by bare, `np.` and `math.` spellings where those libraries have them.
    private static let scalarMath: [String: Builtin] = [
        "sqrt": .sqrt, "exp": .exp, "log": .log, "log2": .log2, "log10": .log10, "sin": .sin, "cos": .cos,
        "tan": .tan, "asin": .asin, "acos": .acos, "atan": .atan, "atan2": .atan2, "sinh": .sinh, "cosh": .cosh,
        "tanh": .tanh, "hypot": .hypot, "copysign": .copysign, "isnan": .isnan, "isinf": .isinf, "isfinite": .isfinite,
    ]
    private static let arrayStatistics: [String: Builtin] = [
        "prod": .prod, "mean": .mean, "median": .median, "var": .variance, "std": .std, "any": .any, "all": .all,
        "argmin": .argmin, "argmax": .argmax, "percentile": .percentile, "quantile": .quantile,
        "nanmin": .nanmin, "nanmax": .nanmax, "nansum": .nansum, "nanmean": .nanmean, "nanmedian": .nanmedian,
    ]

    /// Bare names (Python built-ins and the spec's bare spellings).
    static let bare: [String: BuiltinFunction] = {
        var table: [String: BuiltinFunction] = [
            "len": .length, "min": .pythonMin, "max": .pythonMax, "sum": .simple(.pySum), "abs": .simple(.abs),
            "pow": .pythonPow, "round": .round, "float": .toFloat, "int": .toInt, "bool": .toBool,
            "sorted": .simple(.sorted), "range": .range, "floor": .simple(.floorToInt), "ceil": .simple(.ceilToInt),
            "trunc": .simple(.truncToInt), "clip": .simple(.clip), "minimum": .simple(.minimum),
            "maximum": .simple(.maximum), "fmin": .simple(.fmin), "fmax": .simple(.fmax),
        ]
        for (name, builtin) in scalarMath { table[name] = .simple(builtin) }
        for (name, builtin) in arrayStatistics { table[name] = .simple(builtin) }
        return table
    }()

    /// `np.` / `numpy.` names.
    static let numpy: [String: BuiltinFunction] = {
        var table: [String: BuiltinFunction] = [
            "min": .simple(.npMin), "amin": .simple(.npMin), "max": .simple(.npMax), "amax": .simple(.npMax),
            "sum": .simple(.npSum), "zeros": .simple(.zeros), "ones": .simple(.ones), "empty": .simple(.empty),
            "sort": .simple(.sorted), "copy": .simple(.copy), "minimum": .simple(.minimum), "maximum": .simple(.maximum),
            "fmin": .simple(.fmin), "fmax": .simple(.fmax), "abs": .simple(.abs), "absolute": .simple(.abs),
            "fabs": .floatAbs, "clip": .simple(.clip), "arcsin": .simple(.asin), "arccos": .simple(.acos),
            "arctan": .simple(.atan), "arctan2": .simple(.atan2), "power": .simple(.pow), "pow": .simple(.pow),
            "floor": .simple(.npFloor), "ceil": .simple(.npCeil), "trunc": .simple(.npTrunc), "fix": .simple(.npTrunc),
            "round": .simple(.npRound), "around": .simple(.npRound), "rint": .simple(.npRound), "float64": .toFloat,
            "size": .length,
        ]
        for (name, builtin) in scalarMath { table[name] = .simple(builtin) }
        for (name, builtin) in arrayStatistics { table[name] = .simple(builtin) }
        table["hypot"] = .simple(.npHypot)  // NumPy's is libm's; math.hypot is CPython's own
        return table
    }()

    /// `math.` names.
    static let math: [String: BuiltinFunction] = {
        var table: [String: BuiltinFunction] = [
            "pow": .simple(.pow), "floor": .simple(.floorToInt), "ceil": .simple(.ceilToInt),
            "trunc": .simple(.truncToInt), "fabs": .floatAbs, "prod": .simple(.prod),
        ]
        for (name, builtin) in scalarMath { table[name] = .simple(builtin) }
        return table
    }()

    /// Constants of both modules, and the bare ones.
    static let moduleConstants: [String: Double] = ["inf": .infinity, "nan": .nan, "pi": .pi, "e": 2.718281828459045]
    static let bareConstants: [String: Double] = ["inf": .infinity, "nan": .nan, "pi": .pi]

    /// Array methods (`a.min()`).
    static let methods: [String: Builtin] = [
        "min": .npMin, "max": .npMax, "sum": .npSum, "mean": .mean, "std": .std, "var": .variance, "prod": .prod,
        "argmin": .argmin, "argmax": .argmax, "copy": .copy, "sort": .sortInPlace, "any": .any, "all": .all,
        "cumsum": .cumsum,
    ]

    /// Real NumPy names outside the language (named in the error rather than "unknown").
    static let unsupportedNumpy: Set<String> = [
        "convolve", "square", "dot", "cumsum", "cumprod", "diff", "where", "exp2", "expm1", "log1p", "cbrt", "sign",
        "mod", "remainder", "floor_divide", "divide", "true_divide", "multiply", "add", "subtract", "negative", "array",
        "asarray", "arange", "linspace", "reshape", "unique", "histogram", "average", "ptp", "degrees", "radians",
        "deg2rad", "rad2deg", "argsort", "partition", "count_nonzero", "nonzero", "cross", "outer", "einsum", "full",
        "zeros_like", "ones_like", "empty_like", "full_like", "concatenate", "stack", "take", "interp", "polyfit",
        "polyval", "fft", "random", "linalg", "newaxis", "nanstd", "nanvar", "nanprod", "nanargmin", "nanargmax",
        "nanpercentile", "nanquantile", "sinc", "real", "imag", "conj", "angle", "heaviside", "gcd", "lcm",
        "logaddexp", "isclose", "allclose", "array_equal", "signbit", "float32", "int64", "int32", "uint8", "sqrt_",
        "reciprocal", "fmod", "modf", "frexp", "ldexp", "nextafter", "spacing", "square", "cumulative_sum", "bincount",
        "searchsorted", "roll", "flip", "transpose", "ravel", "vectorize", "frompyfunc", "errstate", "seterr", "log2_",
    ]

    /// Real `math` names outside the language.
    static let unsupportedMath: Set<String> = [
        "factorial", "gcd", "lcm", "erf", "erfc", "gamma", "lgamma", "fsum", "isclose", "degrees", "radians", "exp2",
        "cbrt", "log1p", "expm1", "fmod", "frexp", "ldexp", "modf", "dist", "comb", "perm", "remainder", "ulp",
        "nextafter", "isqrt", "tau", "sumprod",
    ]

    /// Python built-ins outside the language.
    static let unsupportedBare: Set<String> = [
        "print", "enumerate", "zip", "list", "dict", "set", "tuple", "map", "filter", "str", "isinstance", "divmod",
        "open", "input", "reversed", "iter", "next", "type", "id", "hash", "hex", "oct", "bin", "chr", "ord", "repr",
        "format", "getattr", "setattr", "hasattr", "delattr", "callable", "super", "object", "complex", "bytes",
        "vars", "dir", "eval", "exec", "globals", "locals", "slice", "frozenset", "bytearray", "memoryview",
        "issubclass", "help", "exit", "quit", "None",
    ]

    /// Decorator names (without an `llc.`/`filterjit.` prefix) and their kernel kinds.
    static let decorators: [String: KernelKind] = [
        "filter": .filter, "jit_filter_function": .filter,
        "line_filter": .lineFilter, "jit_filter1d_function": .lineFilter,
        "transform": .transform, "jit_geometric_function": .transform,
        "array_function": .arrayFunction, "jit": .arrayFunction, "njit": .arrayFunction,
    ]

    /// Modules a file may import.
    static let importableModules: Set<String> = ["numpy", "math", "llc", "filterjit"]
}

/// The known name nearest to `name` by edit distance, if it is near enough to be a likely typo.
func nearestName(to name: String, in candidates: some Sequence<String>) -> String? {
    var best: (name: String, distance: Int)?
    // One-letter names are too short for a typo to be recognisable.
    let limit = name.count <= 1 ? 0 : max(1, min(3, name.count / 3 + 1))
    let length = name.unicodeScalars.count
    for candidate in candidates where candidate != name {
        // The distance is at least the difference in length: skip the hopeless ones cheaply.
        if abs(candidate.unicodeScalars.count - length) > limit { continue }
        let distance = editDistance(name, candidate)
        if distance <= limit, best.map({ distance < $0.distance || (distance == $0.distance && candidate < $0.name) }) ?? true {
            best = (candidate, distance)
        }
    }
    return best?.name
}

/// Levenshtein distance over Unicode scalars.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars)
    let b = Array(b.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
