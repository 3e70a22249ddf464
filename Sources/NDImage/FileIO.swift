import Foundation

/// Reading and writing whole files as bytes, with NDImage errors.
public enum FileBytes {
    /// The bytes of the file at `path`.
    public static func read(_ path: String) throws(NDImageError) -> [UInt8] {
        // Only regular files: a FIFO or a device (a link to /dev/zero named x.npy) could block or never end.
        if let problem = unreadableReason(path) { throw .io("cannot read '\(path)': \(problem)") }
        // read(2) rather than FileManager.contents, which leaked its 4 KiB buffer on some failures
        // (LeakSanitizer); the size is checked against MemoryLimit before the buffer is allocated.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io("cannot read '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io("cannot read '\(path)': \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        try MemoryLimit.check(size, for: "reading '\(path)'")
        var failure: Int32 = 0
        // Not zeroed first: read(2) fills the buffer, and only the bytes it filled are kept.
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { raw, initialized in
            var filled = 0
            while filled < raw.count {
                let count = Foundation.read(descriptor, raw.baseAddress! + filled, raw.count - filled)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if count == 0 { break }  // the file shrank while we read it
                filled += count
            }
            initialized = filled
        }
        guard failure == 0 else { throw .io("cannot read '\(path)': \(String(cString: strerror(failure)))") }
        return bytes
    }

    /// Why `path` cannot be read as a file (missing, a directory, not a regular file), or nil when it can be tried.
    public static func unreadableReason(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return String(cString: strerror(errno)) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "it is a directory"
        default: return "it is not a regular file"
        }
    }

    /// Writes `bytes` to `path`: replacing it atomically by default, or straight into `path` when
    /// `atomically` is false (for a caller that already writes to its own temporary file and renames it).
    public static func write(_ bytes: [UInt8], to path: String, atomically: Bool = true) throws(NDImageError) {
        try bytes.withUnsafeBufferPointer { buffer throws(NDImageError) in try write(UnsafeRawBufferPointer(buffer), to: path, atomically: atomically) }
    }

    /// Writes the bytes of `raw` to `path`, as `write(_:to:atomically:)` does (for bytes that are not in an array,
    /// such as an encoder's buffer, written without copying them first).
    public static func write(_ raw: UnsafeRawBufferPointer, to path: String, atomically: Bool = true) throws(NDImageError) {
        // Atomically: a registered temporary renamed into place, so an error or a signal keeps the
        // previous file and leaves no temporary (Foundation's `.atomic` left a ".dat.nosync..." file).
        // No fsync: the rename makes the replacement atomic for other processes and after a crash of
        // this one; surviving a power cut or kernel crash as well would cost a disk flush per file.
        guard !atomically else { return try TemporaryFiles.replace(path, with: raw) }
        try writeAll(raw, to: path, flags: O_TRUNC, reportedAs: path)
    }

    /// Opens `path` for writing with `O_CREAT` and `flags` (`O_TRUNC`, `O_EXCL`), writes all of `raw`
    /// (retrying short and interrupted writes) and closes it; errors name `shownPath`.
    static func writeAll(_ raw: UnsafeRawBufferPointer, to path: String, flags: Int32, reportedAs shownPath: String) throws(NDImageError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0o666)
        guard descriptor >= 0 else { throw .io("cannot write '\(shownPath)': \(String(cString: strerror(errno)))") }
        var failure: Int32 = 0
        if let base = raw.baseAddress {  // else nothing to write
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(descriptor, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                offset += written
            }
        }
        if close(descriptor) != 0, failure == 0 { failure = errno }
        guard failure == 0 else { throw .io("cannot write '\(shownPath)': \(String(cString: strerror(failure)))") }
    }
}

extension NPYFile {
    /// Reads the `.npy` file at `path`.
    public static func read(path: String) throws(NDImageError) -> NDArray { try read(FileBytes.read(path)) }
    /// Writes `array` as a `.npy` file at `path` (atomically unless `atomically` is false).
    public static func write(_ array: NDArray, path: String, atomically: Bool = true) throws(NDImageError) {
        try FileBytes.write(encode(array), to: path, atomically: atomically)
    }
}

extension PNGFile {
    /// Reads the PNG file at `path` as a grey uint8 or uint16 array.
    public static func read(path: String) throws(NDImageError) -> NDArray { try read(FileBytes.read(path)) }
    /// Writes `array` as a grey PNG file at `path` (atomically unless `atomically` is false).
    public static func write(_ array: NDArray, path: String, atomically: Bool = true) throws(NDImageError) {
        try FileBytes.write(encode(array), to: path, atomically: atomically)
    }
}

extension TIFFFile {
    /// Reads the TIFF file at `path` (a rank-3 array for a stack of pages).
    public static func read(path: String) throws(NDImageError) -> NDArray { try readWithTags(path: path).array }
    /// Writes `array` as a TIFF file at `path` (atomically unless `atomically` is false).
    public static func write(_ array: NDArray, path: String, tags: Tags = Tags(), atomically: Bool = true) throws(NDImageError) {
        try withEncoded(array, tags: tags) { (raw) throws(NDImageError) in try FileBytes.write(raw, to: path, atomically: atomically) }
    }
}

/// Image files chosen by extension: `.npy` (any supported dtype and rank), `.png` (grey, rank 2) or
/// `.tif`/`.tiff` (grey, rank 2, or rank 3 for a stack of pages).
public enum ImageFile {
    /// The extensions `read` and `write` accept, lower case.
    public static let extensions: Set<String> = ["npy", "png", "tif", "tiff"]
    /// How the formats are named in messages.
    public static let formatsHint = "use a .npy, .png, .tif or .tiff file"

    /// Reads `path` as `.npy`, `.png` or TIFF according to its extension.
    public static func read(path: String) throws(NDImageError) -> NDArray { try readWithTags(path: path).array }

    /// Reads `path` like `read`, with the TIFF tags worth carrying to an output (nil for other formats).
    public static func readWithTags(path: String) throws(NDImageError) -> (array: NDArray, tiffTags: TIFFFile.Tags?) {
        switch fileExtension(path) {
        case "npy": return (try NPYFile.read(path: path), nil)
        case "png": return (try PNGFile.read(path: path), nil)
        case "tif", "tiff":
            let (array, tags) = try TIFFFile.readWithTags(path: path)
            return (array, tags)
        default: throw .io("cannot tell the format of '\(path)': \(formatsHint)")
        }
    }

    /// Writes `array` to `path` as `.npy`, `.png` or TIFF according to its extension (atomically unless
    /// `atomically` is false); a TIFF gets `tiffTags` (from the input, say).
    public static func write(_ array: NDArray, path: String, atomically: Bool = true,
                             tiffTags: TIFFFile.Tags? = nil) throws(NDImageError) {
        switch fileExtension(path) {
        case "npy": try NPYFile.write(array, path: path, atomically: atomically)
        case "png": try PNGFile.write(array, path: path, atomically: atomically)
        case "tif", "tiff": try TIFFFile.write(array, path: path, tags: tiffTags ?? TIFFFile.Tags(), atomically: atomically)
        default: throw .io("cannot tell the format of '\(path)': \(formatsHint)")
        }
    }

    /// The lower-case extension of `path` ("" when it has none).
    public static func fileExtension(_ path: String) -> String {
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
