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
