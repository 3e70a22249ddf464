import CPNG

/// Reading and writing grey PNG images through libpng.
///
/// Reading (libpng's classic API inside one C function of the CPNG shim, so its longjmp never
/// crosses Swift frames) gives a rank-2 array: uint8 for files of 1 to 8 bits per sample, uint16
/// for 16-bit files. Samples are taken as stored, with no gamma or colour-space conversion (as
/// Pillow). Palettes and 1/2/4-bit greys are expanded (scaled to 0...255); alpha and tRNS are
/// dropped, not composited, as Pillow's `convert('L')`; colour becomes grey with Pillow's integer
/// Rec.601 rule `(R*19595 + G*38470 + B*7471 + 0x8000) >> 16`, also applied to 16-bit samples.
///
/// Writing uses libpng's simplified API (which reports errors without longjmp).
///
/// Writing takes rank-2 arrays: uint8 and uint16 as they are, bool as 0/255, float32/float64
/// clipped to [0, 1] and scaled like scikit-image's `img_as_ubyte` (`rint(x * 255)`, ties to
/// even, NaN as 0); other types are rejected with a hint to use `--output-dtype`.
public enum PNGFile {
    // libpng's format bits (png.h), spelled out because composite macros do not import reliably.
    static let flagAlpha: UInt32 = 0x01
    static let flagColor: UInt32 = 0x02
    static let flagLinear: UInt32 = 0x04
    static let flagColormap: UInt32 = 0x08

    /// The largest width or height read (libpng's own default limit is 1,000,000).
    public static let maximumSide: UInt32 = 1 << 20

    /// Decodes a PNG file held in memory (no colour-space or gamma conversion, like Pillow).
    public static func read(_ bytes: [UInt8]) throws(NDImageError) -> NDArray {
        var reader = filterjit_png_reader()
        var width: UInt32 = 0, height: UInt32 = 0
        var channels: Int32 = 0, sampleBytes: Int32 = 0
        return try bytes.withUnsafeBufferPointer { file throws(NDImageError) -> NDArray in
            reader.data = file.baseAddress
            reader.size = file.count
            guard filterjit_png_decode(&reader, nil, 0, &width, &height, &channels, &sampleBytes, maximumSide) != 0 else {
                throw .png("cannot read the file: \(message(of: &reader))")
            }
            let w = Int(width), h = Int(height), c = Int(channels), size = Int(sampleBytes)
            guard (1...4).contains(c), size == 1 || size == 2 else { throw .png("unexpected decoded layout") }
            let total = try checkedProduct([w, h, c, size], "a \(w)x\(h) PNG image with \(c) channel(s) of \(8 * size) bits")
            let result = try NDArray(shape: [h, w], elementType: size == 2 ? .uint16 : .uint8)
            var pixels = [UInt8](repeating: 0, count: max(total, 1))
            let decoded = pixels.withUnsafeMutableBufferPointer { out in
                filterjit_png_decode(&reader, out.baseAddress, total, &width, &height, &channels, &sampleBytes, maximumSide)
            }
            guard decoded != 0 else { throw .png("cannot decode the image: \(message(of: &reader))") }
            let colour = c >= 3
            pixels.withUnsafeBytes { raw in
                for p in 0..<(w * h) {
                    let s = p * c
                    if size == 2 {
                        let samples = raw.bindMemory(to: UInt16.self)
                        let grey = colour ? greyFromRGB(Int(samples[s]), Int(samples[s + 1]), Int(samples[s + 2])) : Int(samples[s])
                        result.storage.baseAddress.storeBytes(of: UInt16(grey), toByteOffset: 2 * p, as: UInt16.self)
                    } else {
                        let grey = colour ? greyFromRGB(Int(raw[s]), Int(raw[s + 1]), Int(raw[s + 2])) : Int(raw[s])
                        result.storage.baseAddress.storeBytes(of: UInt8(grey), toByteOffset: p, as: UInt8.self)
                    }
                }
            }
            return result
        }
    }

    private static func message(of reader: inout filterjit_png_reader) -> String {
        withUnsafeBytes(of: &reader.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "unknown libpng error" : String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Pillow's `convert('L')` rule on 8- or 16-bit samples.
    @inline(__always)
    static func greyFromRGB(_ r: Int, _ g: Int, _ b: Int) -> Int {
        (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16
    }

    /// Encodes a rank-2 array as a grey PNG (8-bit, or 16-bit for uint16).
    public static func encode(_ array: NDArray) throws(NDImageError) -> [UInt8] {
        guard array.rank == 2 else {
            if array.rank == 3, let last = array.shape.last, last == 3 || last == 4 {
                throw .png("colour images (shape \(array.shape)) cannot be written; FilterJIT writes grey PNGs from rank-2 arrays")
            }
            throw .png("only rank-2 arrays can be written as PNG (this one has shape \(array.shape))")
        }
        let height = array.shape[0], width = array.shape[1]
        guard width > 0, height > 0, width <= 0x7FFF_FFFF / 2, height <= 0x7FFF_FFFF else {
            throw .png("a PNG must be at least 1x1 and at most 2^30 wide (shape \(array.shape))")
        }
        let sixteenBit = array.elementType == .uint16
        var samples8: [UInt8] = []
        var samples16: [UInt16] = []
        let base = UnsafeRawPointer(array.firstElementPointer)
        switch array.elementType {
        case .uint8:
            array.forEachElementOffset { samples8.append(base.load(fromByteOffset: $0, as: UInt8.self)) }
        case .bool:
            array.forEachElementOffset { samples8.append(base.load(fromByteOffset: $0, as: UInt8.self) != 0 ? 255 : 0) }
        case .uint16:
            array.forEachElementOffset { samples16.append((base + $0).loadUnaligned(as: UInt16.self)) }
        case .float32:
            array.forEachElementOffset { samples8.append(unitFloatToByte(Double((base + $0).loadUnaligned(as: Float.self)), single: true)) }
        case .float64:
            array.forEachElementOffset { samples8.append(unitFloatToByte((base + $0).loadUnaligned(as: Double.self), single: false)) }
        default:
            throw .png("cannot write \(array.elementType.rawValue) as PNG: use uint8, uint16, bool, float32 or float64 (try --output-dtype uint8)")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = sixteenBit ? flagLinear : 0
        var size = 0
        // First call measures, second writes.
        let measured = withSamples(samples8, samples16, sixteenBit) { pointer in
            png_image_write_to_memory(&image, nil, &size, 0, pointer, 0, nil)
        }
        guard measured != 0, size > 0 else { throw .png("cannot encode the image: \(message(of: &image))") }
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBytes { raw in
            withSamples(samples8, samples16, sixteenBit) { pointer in
                png_image_write_to_memory(&image, raw.baseAddress, &size, 0, pointer, 0, nil)
            }
        }
        guard written != 0 else { throw .png("cannot encode the image: \(message(of: &image))") }
        return Array(bytes.prefix(size))
    }

    /// scikit-image's float-to-uint8 rule on [0, 1] after clipping: `rint(x * 255)` computed in the
    /// input's precision, ties to even; NaN gives 0.
    static func unitFloatToByte(_ value: Double, single: Bool) -> UInt8 {
        if value.isNaN { return 0 }
        let clipped = min(max(value, 0), 1)
        let scaled = single ? Double(Float(clipped) * 255) : clipped * 255
        return UInt8(scaled.rounded(.toNearestOrEven))
    }

    private static func withSamples<R>(_ samples8: [UInt8], _ samples16: [UInt16], _ sixteenBit: Bool,
                                       _ body: (UnsafeRawPointer?) -> R) -> R {
        sixteenBit ? samples16.withUnsafeBytes { body($0.baseAddress) } : samples8.withUnsafeBytes { body($0.baseAddress) }
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "unknown libpng error" : String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func checkedProduct(_ factors: [Int], _ what: String) throws(NDImageError) -> Int {
        var product = 1
        for factor in factors {
            let (next, overflow) = product.multipliedReportingOverflow(by: factor)
            guard !overflow, next < Int(Int32.max) else { throw .sizeTooLarge("\(what) is too large (limit 2 GB decoded)") }
            product = next
        }
        return product
    }
}
