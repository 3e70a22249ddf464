import CTIFF
import Foundation

/// Reading and writing grey TIFF images and multi-page stacks through libtiff.
///
/// Reading gives a rank-2 array for a one-page file and a rank-3 array (pages, height, width) for a
/// stack whose pages share a shape and type, as `tifffile.imread` does. Pages must have one sample
/// per pixel: 8/16/32/64-bit unsigned or signed integers, or 32/64-bit floats; any compression
/// libtiff decodes, strips or tiles. Samples are taken as stored (no MinIsWhite inversion, as tifffile).
///
/// Writing takes rank-2 arrays (one page) and rank-3 arrays (one page per index of the first axis),
/// uncompressed, in strips; bool is written as uint8 0/1. `TIFFFile.Tags` carries the tags worth
/// keeping from an input to a filtered output: the image description and the resolution.
///
/// Every libtiff call happens in the CTIFF shim, with errors collected by a per-file handler, and
/// files are decoded from memory, so a malformed file gives an `NDImageError.tiff` naming the problem.
public enum TIFFFile {
    /// The tags FilterJIT keeps from an input TIFF when it writes the filtered result.
    public struct Tags: Equatable, Sendable {
        /// ImageDescription (ImageJ and OME-TIFF keep their metadata there).
        public var description: String?
        /// XResolution and YResolution, in pixels per `resolutionUnit`.
        public var resolution: (x: Float, y: Float)?
        /// ResolutionUnit: 1 none, 2 inch, 3 centimetre.
        public var resolutionUnit: UInt16

        /// No tags.
        public init(description: String? = nil, resolution: (x: Float, y: Float)? = nil, resolutionUnit: UInt16 = 2) {
            self.description = description
            self.resolution = resolution
            self.resolutionUnit = resolutionUnit
        }

        public static func == (a: Tags, b: Tags) -> Bool {
            a.description == b.description && a.resolution?.x == b.resolution?.x && a.resolution?.y == b.resolution?.y
                && a.resolutionUnit == b.resolutionUnit
        }
    }

    /// The most pages read from one file.
    public static let maximumPages = 1 << 20
    /// The largest decoded size read (bytes), and the largest single allocation libtiff may make.
    public static let maximumBytes = 1 << 34
    static let maximumLibtiffAllocation: Int64 = 1 << 31

    /// Decodes a TIFF file held in memory.
    public static func read(_ bytes: [UInt8]) throws(NDImageError) -> NDArray { try readWithTags(bytes).array }

    /// Decodes a TIFF file held in memory, with the tags of its first page.
    public static func readWithTags(_ bytes: [UInt8]) throws(NDImageError) -> (array: NDArray, tags: Tags) {
        return try bytes.withUnsafeBufferPointer { file throws(NDImageError) -> (array: NDArray, tags: Tags) in
            // On the heap: libtiff keeps this address for the whole decode.
            let buffer = UnsafeMutablePointer<filterjit_tiff_buffer>.allocate(capacity: 1)
            buffer.initialize(to: filterjit_tiff_buffer())
            defer { buffer.deallocate() }
            // Only read through (writable = 0): the C struct's pointer is mutable for the writer's sake.
            buffer.pointee.data = UnsafeMutablePointer(mutating: file.baseAddress)
            buffer.pointee.size = file.count
            return try decode(buffer)
        }
    }

    /// Decodes the TIFF file at `path` as `readWithTags(_:)` decodes its bytes (the same checks and
    /// messages), reading the file with pread(2) as libtiff asks for its parts: an uncompressed strip
    /// goes from the file straight into the array, with no copy of the whole file in memory first.
    public static func readWithTags(path: String) throws(NDImageError) -> (array: NDArray, tags: Tags) {
        if let problem = FileBytes.unreadableReason(path) { throw .io("cannot read '\(path)': \(problem)") }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io("cannot read '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io("cannot read '\(path)': \(String(cString: strerror(errno)))") }
        let buffer = UnsafeMutablePointer<filterjit_tiff_buffer>.allocate(capacity: 1)
        buffer.initialize(to: filterjit_tiff_buffer())
        defer { buffer.deallocate() }
        buffer.pointee.fromFile = 1
        buffer.pointee.descriptor = descriptor
        buffer.pointee.size = Int(info.st_size)
        return try decode(buffer)
    }

    /// Decodes the file `buffer` reads from (bytes in memory or a file).
    private static func decode(_ buffer: UnsafeMutablePointer<filterjit_tiff_buffer>) throws(NDImageError) -> (array: NDArray, tags: Tags) {
        let fileSize = buffer.pointee.size
        guard let tif = filterjit_tiff_open(buffer, "r", maximumLibtiffAllocation) else {
            throw .tiff("cannot read the file: \(message(of: &buffer.pointee))")
        }
        defer { filterjit_tiff_close(tif) }
        // First pass: the layout of every page, which must agree.
        var first = filterjit_tiff_page()
        var tags = Tags()
        var elementType = ElementType.uint8
        var pages = 0
        // Uncompressed pages store every decoded byte, so together they cannot need more than the file holds.
        var uncompressedBytes = 0
        repeat {
            var page = filterjit_tiff_page()
            guard filterjit_tiff_page_info(tif, &page) != 0 else {
                throw .tiff("page \(pages + 1): \(message(of: &buffer.pointee, or: "no image width or height"))")
            }
            let type = try pageElementType(page, index: pages)
            if pages == 0 {
                first = page
                elementType = type
                if let description = page.description { tags.description = String(cString: description) }
                if page.hasResolution != 0 { tags.resolution = (page.xResolution, page.yResolution) }
                tags.resolutionUnit = page.resolutionUnit
            } else if page.width != first.width || page.height != first.height || type != elementType {
                throw .tiff("page \(pages + 1) is \(page.width)x\(page.height) \(type.rawValue) but page 1 is "
                    + "\(first.width)x\(first.height) \(elementType.rawValue); FilterJIT reads stacks of equal pages")
            }
            if page.compression == 1 {
                let (bytes, overflow) = (Int(page.width) * Int(page.height)).multipliedReportingOverflow(by: type.itemSize)
                uncompressedBytes = overflow ? Int.max : uncompressedBytes.addingReportingOverflow(bytes).overflow
                    ? Int.max : uncompressedBytes + bytes
            }
            pages += 1
            guard pages <= maximumPages else { throw .sizeTooLarge("more than \(maximumPages) pages") }
        } while filterjit_tiff_next_page(tif) != 0
        if buffer.pointee.message.0 != 0 { throw .tiff("page \(pages + 1): \(message(of: &buffer.pointee))") }
        // Refused before allocating: a 224-byte file claiming 4.7 GB of uncompressed pixels (found by FuzzReaders).
        guard uncompressedBytes <= fileSize else {
            throw .tiff("the uncompressed pages need \(uncompressedBytes) bytes of pixel data but the file has only \(fileSize) bytes")
        }
        let width = Int(first.width), height = Int(first.height)
        guard width > 0, height > 0 else { throw .tiff("an empty \(width)x\(height) page") }
        let shape = pages == 1 ? [height, width] : [pages, height, width]
        let count = try NDArray.checkedElementCount(shape: shape, itemSize: elementType.itemSize)
        guard count * elementType.itemSize <= maximumBytes else {
            throw .sizeTooLarge("a \(shape) \(elementType.rawValue) TIFF is too large (limit \(maximumBytes >> 30) GiB decoded)")
        }
        // Zeroed first: libtiff can report a corrupt deflate strip as read in full without writing all of it
        // (found by tiffReadByPathEqualsReadingItsBytes, TIFF_FUZZ_SEED=4105673102: the unwritten bytes were
        // whatever the heap held, different by path and by bytes).
        let result = try zeroedArray(shape: shape, elementType: elementType, count: count)
        // Second pass: decode each page into its slice.
        let rowBytes = width * elementType.itemSize
        let pageBytes = rowBytes * height
        for index in 0..<pages {
            guard TIFFSetDirectory(tif, tdir_t(index)) != 0 else { throw .tiff("page \(index + 1): \(message(of: &buffer.pointee))") }
            let pixels = result.storage.baseAddress.assumingMemoryBound(to: UInt8.self) + index * pageBytes
            guard filterjit_tiff_read_page(tif, buffer, pixels, first.width, first.height, rowBytes) != 0 else {
                throw .tiff("page \(index + 1): \(message(of: &buffer.pointee))")
            }
        }
        return (result, tags)
    }

    /// A C-ordered array of zeros (calloc: fresh pages cost nothing to zero).
    static func zeroedArray(shape: [Int], elementType: ElementType, count: Int) throws(NDImageError) -> NDArray {
        let byteCount = count * elementType.itemSize
        try MemoryLimit.check(byteCount, for: "an array")
        guard let block = MallocBlock(byteCount: byteCount) else { throw .sizeTooLarge("cannot allocate \(byteCount) bytes") }
        let storage = try NDArrayStorage(borrowing: block.pointer, byteCount: byteCount, owner: block)
        return try NDArray(storage: storage, elementType: elementType, shape: shape,
                           strides: NDArray.contiguousStrides(shape: shape, itemSize: elementType.itemSize, order: .c), byteOffset: 0)
    }

    /// The element type of a page, or an error saying what is not supported.
    static func pageElementType(_ page: filterjit_tiff_page, index: Int) throws(NDImageError) -> ElementType {
        let where_ = "page \(index + 1)"
        guard page.samplesPerPixel == 1 else {
            throw .tiff("\(where_) has \(page.samplesPerPixel) samples per pixel; FilterJIT reads grey TIFFs (1 sample per pixel)")
        }
        guard page.photometric == 0 || page.photometric == 1 else {
            throw .tiff("\(where_) has photometric interpretation \(page.photometric); FilterJIT reads grey TIFFs (MinIsBlack or MinIsWhite)")
        }
        switch (page.sampleFormat, page.bitsPerSample) {
        case (1, 8): return .uint8
        case (1, 16): return .uint16
        case (1, 32): return .uint32
        case (1, 64): return .uint64
        case (2, 8): return .int8
        case (2, 16): return .int16
        case (2, 32): return .int32
        case (2, 64): return .int64
        case (3, 32): return .float32
        case (3, 64): return .float64
        default:
            let kind = [1: "unsigned integer", 2: "signed integer", 3: "float"][Int(page.sampleFormat)] ?? "sample format \(page.sampleFormat)"
            throw .tiff("\(where_) has \(page.bitsPerSample)-bit \(kind) samples; FilterJIT reads 8/16/32/64-bit integers and 32/64-bit floats")
        }
    }

    /// Encodes a rank-2 array (one page) or rank-3 array (a stack of pages) as an uncompressed TIFF.
    public static func encode(_ array: NDArray, tags: Tags = Tags()) throws(NDImageError) -> [UInt8] {
        try withEncoded(array, tags: tags) { (raw) throws(NDImageError) in Array(raw) }
    }

    /// Encodes `array` as `encode` does and hands the file's bytes to `body` without copying them into an
    /// array (they live in libtiff's output buffer until `body` returns).
    public static func withEncoded<R>(_ array: NDArray, tags: Tags = Tags(),
                                      _ body: (UnsafeRawBufferPointer) throws(NDImageError) -> R) throws(NDImageError) -> R {
        guard array.rank == 2 || array.rank == 3 else {
            throw .tiff("only rank-2 arrays (an image) and rank-3 arrays (a stack of pages) can be written as TIFF (this one has shape \(array.shape))")
        }
        guard !array.isEmpty else { throw .tiff("cannot write an empty array (shape \(array.shape)) as TIFF") }
        let source = array.elementType == .bool ? try array.converted(to: .uint8)
            : array.isCContiguous ? array : try array.cContiguousCopy()
        let (format, bits): (UInt16, UInt16) = switch source.elementType {
        case .uint8, .uint16, .uint32, .uint64: (1, UInt16(8 * source.elementType.itemSize))
        case .int8, .int16, .int32, .int64: (2, UInt16(8 * source.elementType.itemSize))
        case .float32, .float64: (3, UInt16(8 * source.elementType.itemSize))
        case .bool: (1, 8)
        }
        let pages = array.rank == 3 ? array.shape[0] : 1
        let height = array.shape[array.rank - 2], width = array.shape[array.rank - 1]
        guard width <= Int(UInt32.max), height <= Int(UInt32.max), pages <= Int(UInt16.max) else {
            throw .tiff("shape \(array.shape) is too large for a TIFF")
        }
        let rowBytes = width * source.elementType.itemSize
        let total = rowBytes * height * pages
        var buffer = filterjit_tiff_buffer()
        buffer.writable = 1
        // Room for the pixels and the directories up front, so the file is not copied as it grows.
        let capacity = total + 4096 * (pages + 1)
        if let memory = malloc(capacity) {
            buffer.data = memory.assumingMemoryBound(to: UInt8.self)
            buffer.capacity = capacity
        }
        defer { filterjit_tiff_buffer_free(&buffer) }
        // BigTIFF once the pixels alone approach classic TIFF's 4 GiB offsets.
        guard let tif = filterjit_tiff_open(&buffer, total > (1 << 31) ? "w8" : "w", maximumLibtiffAllocation) else {
            throw .tiff("cannot start writing: \(message(of: &buffer))")
        }
        var closed = false
        defer { if !closed { filterjit_tiff_close(tif) } }
        let base = UnsafeRawPointer(source.firstElementPointer).assumingMemoryBound(to: UInt8.self)
        for page in 0..<pages {
            let written: Int32
            if let description = tags.description {
                written = description.withCString { text in
                    filterjit_tiff_write_page(tif, &buffer, base + page * rowBytes * height, UInt32(width), UInt32(height),
                                              rowBytes, bits, format, Int32(page), Int32(pages), text,
                                              tags.resolution == nil ? 0 : 1, tags.resolution?.x ?? 0, tags.resolution?.y ?? 0,
                                              tags.resolutionUnit)
                }
            } else {
                written = filterjit_tiff_write_page(tif, &buffer, base + page * rowBytes * height, UInt32(width), UInt32(height),
                                                    rowBytes, bits, format, Int32(page), Int32(pages), nil,
                                                    tags.resolution == nil ? 0 : 1, tags.resolution?.x ?? 0, tags.resolution?.y ?? 0,
                                                    tags.resolutionUnit)
            }
            guard written != 0 else { throw .tiff("cannot write page \(page + 1): \(message(of: &buffer))") }
        }
        filterjit_tiff_close(tif)  // flushes the last directory
        closed = true
        guard buffer.message.0 == 0, let data = buffer.data else {
            throw .tiff("cannot finish the file: \(message(of: &buffer, or: "no bytes written"))")
        }
        return try body(UnsafeRawBufferPointer(start: data, count: buffer.size))
    }

    private static func message(of buffer: inout filterjit_tiff_buffer, or fallback: String = "unknown libtiff error") -> String {
        withUnsafeBytes(of: &buffer.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            let text = bytes.isEmpty ? fallback : String(decoding: bytes, as: UTF8.self)
            // libtiff starts some messages with the name given to TIFFClientOpenExt.
            return text.hasPrefix("memory: ") ? String(text.dropFirst(8)) : text
        }
    }
}

/// Memory from malloc, freed with its owner (an array's storage borrows it).
final class MallocBlock: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    /// Zeroed memory; nil when the memory is not there.
    init?(byteCount: Int) {
        guard let memory = calloc(max(byteCount, 1), 1) else { return nil }
        pointer = memory
    }

    deinit { free(pointer) }
}
