/// Every error the NDImage module reports: bad files, bad arguments, failed callbacks.
public enum NDImageError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A shape, stride or size whose element or byte count overflows or cannot be allocated.
    case sizeTooLarge(String)
    /// An element type that NDImage does not handle (complex, float16, object, strings, ...).
    case unsupportedDtype(String)
    /// A malformed `.npy` file; the text names what is wrong.
    case malformedNPY(String)
    /// A PNG file that libpng could not read, or an array that cannot be written as PNG.
    case png(String)
    /// A TIFF file that libtiff could not read (or FilterJIT does not handle), or an array that cannot be written as TIFF.
    case tiff(String)
    /// An invalid argument, with the message SciPy would give (or a clearer one).
    case invalidArgument(String)
    /// A callback returned 0 (failure) for the output element at this C-order flat index.
    case callbackFailed(elementIndex: Int)
    /// A Swift closure callback threw for the output element at this C-order flat index.
    case callbackThrew(elementIndex: Int, message: String)
    /// A file could not be read or written.
    case io(String)

    /// A human-readable description of the error.
    public var description: String {
        switch self {
        case .sizeTooLarge(let text): return "size too large: \(text)"
        case .unsupportedDtype(let text): return "unsupported dtype: \(text)"
        case .malformedNPY(let text): return "malformed .npy file: \(text)"
        case .png(let text): return "PNG: \(text)"
        case .tiff(let text): return "TIFF: \(text)"
        case .invalidArgument(let text): return text
        case .callbackFailed(let index): return "filter function failed at element \(index)"
        case .callbackThrew(let index, let message): return "filter function failed at element \(index): \(message)"
        case .io(let text): return text
        }
    }
}
