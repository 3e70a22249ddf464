import FilterLang

extension Builtin {
    /// How the language spells this built-in (`min`, `np.min`, `var`, `round`), for run-time messages:
    /// the raw case names (`pyMin`, `variance`, `roundToInt`) are not names a user ever wrote.
    public var sourceSpelling: String {
        switch self {
        case .pyMin, .pyMinOf: return "min"
        case .pyMax, .pyMaxOf: return "max"
        case .pySum: return "sum"
        case .npMin: return "np.min"
        case .npMax: return "np.max"
        case .npSum: return "np.sum"
        case .variance: return "var"
        case .percentile: return "np.percentile"
        case .quantile: return "np.quantile"
        case .nanmin, .nanmax, .nansum, .nanmean, .nanmedian, .zeros, .ones, .empty,
             .minimum, .maximum, .fmin, .fmax:
            return "np." + rawValue
        case .sorted: return "sorted"
        case .sortInPlace: return "sort"
        case .floorToInt: return "floor"
        case .ceilToInt: return "ceil"
        case .truncToInt: return "trunc"
        case .roundToInt: return "round"
        case .toInt: return "int"
        case .npFloor: return "np.floor"
        case .npCeil: return "np.ceil"
        case .npTrunc: return "np.trunc"
        case .npRound: return "np.round"
        case .npHypot: return "np.hypot"
        case .average: return "np.average"
        case .dot: return "np.dot"
        case .cumsum: return "np.cumsum"
        case .bincount: return "np.bincount"
        case .unique, .uniqueCounts: return "np.unique"
        case .histogram, .histogramEdges: return "np.histogram"
        default: return rawValue
        }
    }
}
