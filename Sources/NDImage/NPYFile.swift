/// Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
public enum NPYFile {
    /// The largest header accepted; NumPy itself refuses headers over 10,000 bytes by default.
    public static let maximumHeaderLength = 1 << 20

    /// Decodes a whole `.npy` file. Big-endian data is byte-swapped; Fortran-ordered data keeps its
    /// layout (the array gets Fortran strides).
    public static func read(_ bytes: [UInt8]) throws(NDImageError) -> NDArray {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
        guard bytes.count >= 8, Array(bytes[0..<6]) == magic else {
            throw .malformedNPY("bad magic: the file does not start with \\x93NUMPY")
        }
        let major = bytes[6], minor = bytes[7]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            guard bytes.count >= 10 else { throw .malformedNPY("truncated header length") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw .malformedNPY("truncated header length") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw .malformedNPY("unsupported format version \(major).\(minor) (expected 1.0, 2.0 or 3.0)")
        }
        guard minor == 0 else { throw .malformedNPY("unsupported format version \(major).\(minor)") }
        guard headerLength <= maximumHeaderLength else {
            throw .malformedNPY("header of \(headerLength) bytes is too large (limit \(maximumHeaderLength))")
        }
        guard bytes.count >= headerStart + headerLength else {
            throw .malformedNPY("truncated header: \(headerLength) bytes announced, \(bytes.count - headerStart) present")
        }
        // Version 3.0 allows UTF-8 in the header; 1.0 and 2.0 are latin-1, which is ASCII for valid dtypes.
        let headerText = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let header = try parseHeader(headerText)
        let count = try NDArray.checkedElementCount(shape: header.shape, itemSize: header.type.itemSize)
        let byteCount = count * header.type.itemSize
        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        guard available >= byteCount else {
            throw .malformedNPY("truncated data: shape \(header.shape) of \(header.type.rawValue) needs \(byteCount) bytes, the file has \(available)")
        }
        guard available == byteCount else {
            throw .malformedNPY("shape/data mismatch: shape \(header.shape) of \(header.type.rawValue) needs \(byteCount) bytes, the file has \(available)")
        }
        let storage = try NDArrayStorage(byteCount: byteCount)
        bytes.withUnsafeBytes { raw in
            if byteCount > 0 { storage.baseAddress.copyMemory(from: raw.baseAddress! + dataStart, byteCount: byteCount) }
        }
        if header.bigEndian && header.type.itemSize > 1 {
            let size = header.type.itemSize
            let base = storage.baseAddress.assumingMemoryBound(to: UInt8.self)
            for element in 0..<count {
                let p = base + element * size
                for k in 0..<(size / 2) { let t = p[k]; p[k] = p[size - 1 - k]; p[size - 1 - k] = t }
            }
        }
        // Bool bytes are kept as stored, as np.load does: generic_filter can store bytes other
        // than 0 and 1 into a bool output (section 1.4), and such files must round-trip.
        let strides = NDArray.contiguousStrides(shape: header.shape, itemSize: header.type.itemSize,
                                                order: header.fortranOrder ? .fortran : .c)
        return try NDArray(storage: storage, elementType: header.type, shape: header.shape, strides: strides, byteOffset: 0)
    }

    /// Encodes `array` as version 1.0 (2.0 when the header needs more than 65,535 bytes),
    /// little-endian, C order.
    public static func encode(_ array: NDArray) -> [UInt8] {
        let shapeText: String
        switch array.rank {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(array.shape[0]),)"
        default: shapeText = "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        }
        let order = array.elementType.itemSize == 1 ? "|" : "<"
        let dictionary = "{'descr': '\(order)\(array.elementType.npyTypeCode)', 'fortran_order': False, 'shape': \(shapeText), }"
        var version: UInt8 = 1
        var prefixLength = 10
        var padded = dictionary.utf8.count + 1  // with the final newline
        if (prefixLength + padded + 63) / 64 * 64 - prefixLength > 65535 {
            version = 2
            prefixLength = 12
        }
        padded = (prefixLength + padded + 63) / 64 * 64 - prefixLength
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        if version == 1 {
            bytes += [UInt8(padded & 0xFF), UInt8(padded >> 8)]
        } else {
            bytes += [UInt8(padded & 0xFF), UInt8((padded >> 8) & 0xFF), UInt8((padded >> 16) & 0xFF), UInt8(padded >> 24)]
        }
        bytes += Array(dictionary.utf8)
        bytes += Array(repeating: 0x20, count: padded - dictionary.utf8.count - 1)
        bytes.append(0x0A)
        let size = array.elementType.itemSize
        bytes.reserveCapacity(bytes.count + array.count * size)
        let base = UnsafeRawPointer(array.firstElementPointer)
        // Little-endian host: the element bytes are written as they are in memory.
        array.forEachElementOffset { offset in
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: base + offset, count: size))
        }
        return bytes
    }

    /// What the header dictionary says.
    struct Header {
        var type: ElementType
        var bigEndian: Bool
        var fortranOrder: Bool
        var shape: [Int]
    }

    /// Parses the Python dict literal of the header: `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
    static func parseHeader(_ text: String) throws(NDImageError) -> Header {
        var parser = HeaderParser(text: Array(text.utf8))
        let value = try parser.parseValue()
        parser.skipSpaces()
        guard parser.position == parser.text.count else { throw .malformedNPY("bad header: text after the dictionary") }
        guard case .dict(let entries) = value else { throw .malformedNPY("bad header: not a dictionary") }
        var descr: HeaderValue?, fortran: HeaderValue?, shape: HeaderValue?
        for (key, value) in entries {
            switch key {
            case "descr": descr = value
            case "fortran_order": fortran = value
            case "shape": shape = value
            default: throw .malformedNPY("bad header: unexpected key '\(key)'")
            }
        }
        guard let descr, let fortran, let shape else {
            throw .malformedNPY("bad header: it needs the keys 'descr', 'fortran_order' and 'shape'")
        }
        guard case .bool(let fortranOrder) = fortran else { throw .malformedNPY("bad header: fortran_order is not True or False") }
        guard case .tuple(let items) = shape else { throw .malformedNPY("bad header: shape is not a tuple") }
        var dims: [Int] = []
        for item in items {
            guard case .integer(let length) = item, length >= 0 else {
                throw .malformedNPY("bad header: shape entries must be non-negative integers")
            }
            dims.append(length)
        }
        guard case .string(let code) = descr else {
            throw .unsupportedDtype("structured dtypes are not supported (descr is not a simple type string)")
        }
        let (type, bigEndian) = try parseDescr(code)
        return Header(type: type, bigEndian: bigEndian, fortranOrder: fortranOrder, shape: dims)
    }

    /// Maps a descr string such as `<f8`, `>i2`, `|u1`, `|b1` to an element type and byte order.
    static func parseDescr(_ code: String) throws(NDImageError) -> (ElementType, Bool) {
        var body = Substring(code)
        var bigEndian = false
        if let first = body.first, "<>|=".contains(first) {
            bigEndian = first == ">"
            body = body.dropFirst()
        }
        switch body {
        case "b1", "?": return (.bool, false)
        case "i1": return (.int8, false)
        case "u1": return (.uint8, false)
        case "i2": return (.int16, bigEndian)
        case "u2": return (.uint16, bigEndian)
        case "i4": return (.int32, bigEndian)
        case "u4": return (.uint32, bigEndian)
        case "i8": return (.int64, bigEndian)
        case "u8": return (.uint64, bigEndian)
        case "f4": return (.float32, bigEndian)
        case "f8": return (.float64, bigEndian)
        default: break
        }
        let kind: String
        switch body.first {
        case "c": kind = "complex numbers are not supported"
        case "f": kind = body == "f2" ? "float16 is not supported" : "\(body) floats (long double) are not supported"
        case "O": kind = "object arrays are not supported"
        case "U", "S", "a": kind = "string arrays are not supported"
        case "V": kind = "structured/void arrays are not supported"
        case "M", "m": kind = "datetime arrays are not supported"
        default: kind = "unknown type"
        }
        throw .unsupportedDtype("'\(code)': \(kind)")
    }
}

/// A value of the header's tiny Python-literal language.
enum HeaderValue {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case tuple([HeaderValue])
    case list([HeaderValue])
    case dict([(String, HeaderValue)])
}

/// A recursive-descent parser for the literals that appear in `.npy` headers.
struct HeaderParser {
    let text: [UInt8]
    var position = 0
    var depth = 0

    mutating func skipSpaces() {
        while position < text.count, text[position] == 0x20 || text[position] == 0x0A || text[position] == 0x09 || text[position] == 0x0D {
            position += 1
        }
    }

    mutating func eat(_ byte: UInt8) -> Bool {
        skipSpaces()
        if position < text.count, text[position] == byte { position += 1; return true }
        return false
    }

    mutating func parseValue() throws(NDImageError) -> HeaderValue {
        skipSpaces()
        guard position < text.count else { throw .malformedNPY("bad header: it ends too early") }
        depth += 1
        defer { depth -= 1 }
        guard depth < 32 else { throw .malformedNPY("bad header: nested too deeply") }
        let byte = text[position]
        switch byte {
        case UInt8(ascii: "{"):
            position += 1
            var entries: [(String, HeaderValue)] = []
            while !eat(UInt8(ascii: "}")) {
                guard case .string(let key) = try parseValue() else { throw .malformedNPY("bad header: dictionary keys must be strings") }
                guard eat(UInt8(ascii: ":")) else { throw .malformedNPY("bad header: expected ':' after a key") }
                entries.append((key, try parseValue()))
                if !eat(UInt8(ascii: ",")) {
                    guard eat(UInt8(ascii: "}")) else { throw .malformedNPY("bad header: expected ',' or '}' in the dictionary") }
                    break
                }
            }
            return .dict(entries)
        case UInt8(ascii: "("), UInt8(ascii: "["):
            let close = byte == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "]")
            position += 1
            var items: [HeaderValue] = []
            while !eat(close) {
                items.append(try parseValue())
                if !eat(UInt8(ascii: ",")) {
                    guard eat(close) else { throw .malformedNPY("bad header: expected ',' or a closing bracket") }
                    break
                }
            }
            return byte == UInt8(ascii: "(") ? .tuple(items) : .list(items)
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            position += 1
            let start = position
            while position < text.count, text[position] != byte { position += 1 }
            guard position < text.count else { throw .malformedNPY("bad header: unterminated string") }
            let value = String(decoding: text[start..<position], as: UTF8.self)
            position += 1
            return .string(value)
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
            let start = position
            position += 1
            while position < text.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[position]) { position += 1 }
            // Python 2 era files may write long integers as "3L".
            let digits = String(decoding: text[start..<position], as: UTF8.self)
            if position < text.count, text[position] == UInt8(ascii: "L") { position += 1 }
            guard let value = Int(digits) else { throw .malformedNPY("bad header: integer '\(digits)' is out of range") }
            return .integer(value)
        default:
            for (word, value) in [("True", true), ("False", false)] {
                let bytes = Array(word.utf8)
                if position + bytes.count <= text.count, Array(text[position..<(position + bytes.count)]) == bytes {
                    position += bytes.count
                    return .bool(value)
                }
            }
            throw .malformedNPY("bad header: unexpected character '\(Character(Unicode.Scalar(byte)))'")
        }
    }
}
