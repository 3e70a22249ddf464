import Foundation

/// Reading and writing whole files as bytes, with NDImage errors.
public enum FileBytes {
    /// The bytes of the file at `path`.
    public static func read(_ path: String) throws(NDImageError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io("cannot read '\(path)': no such file or not readable")
        }
        return [UInt8](data)
    }

    /// Writes `bytes` to `path` (replacing it atomically).
    public static func write(_ bytes: [UInt8], to path: String) throws(NDImageError) {
        do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) }
        catch { throw .io("cannot write '\(path)': \(error.localizedDescription)") }
    }
}

extension NPYFile {
    /// Reads the `.npy` file at `path`.
    public static func read(path: String) throws(NDImageError) -> NDArray { try read(FileBytes.read(path)) }
    /// Writes `array` as a `.npy` file at `path`.
    public static func write(_ array: NDArray, path: String) throws(NDImageError) {
        try FileBytes.write(encode(array), to: path)
    }
}

extension PNGFile {
    /// Reads the PNG file at `path` as a grey uint8 or uint16 array.
    public static func read(path: String) throws(NDImageError) -> NDArray { try read(FileBytes.read(path)) }
    /// Writes `array` as a grey PNG file at `path`.
    public static func write(_ array: NDArray, path: String) throws(NDImageError) {
        try FileBytes.write(encode(array), to: path)
    }
}

/// Image files chosen by extension: `.npy` (any supported dtype and rank) or `.png` (grey, rank 2).
public enum ImageFile {
    /// Reads `path` as `.npy` or `.png` according to its extension.
    public static func read(path: String) throws(NDImageError) -> NDArray {
        switch fileExtension(path) {
        case "npy": return try NPYFile.read(path: path)
        case "png": return try PNGFile.read(path: path)
        default: throw .io("cannot tell the format of '\(path)': use a .npy or .png file")
        }
    }

    /// Writes `array` to `path` as `.npy` or `.png` according to its extension.
    public static func write(_ array: NDArray, path: String) throws(NDImageError) {
        switch fileExtension(path) {
        case "npy": try NPYFile.write(array, path: path)
        case "png": try PNGFile.write(array, path: path)
        default: throw .io("cannot tell the format of '\(path)': use a .npy or .png file")
        }
    }

    private static func fileExtension(_ path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return "" }
        return path[path.index(after: dot)...].lowercased()
    }
}

extension Footprint {
    /// The CLI's `--footprint` value: `cross` (connectivity 1), `box` (3 per axis) for `rank`,
    /// or a path to a `.npy` array whose non-zero entries are true.
    public static func named(_ text: String, rank: Int) throws(NDImageError) -> Footprint {
        switch text {
        case "cross": return try .cross(rank: rank)
        case "box": return try .box(rank: rank)
        default:
            guard text.lowercased().hasSuffix(".npy") else {
                throw .invalidArgument("invalid footprint '\(text)': expected cross, box or a .npy file")
            }
            return try Footprint(array: NPYFile.read(path: text))
        }
    }
}
