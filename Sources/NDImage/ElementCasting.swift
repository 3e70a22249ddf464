// Loading elements as Double and storing Doubles into elements, with SciPy's casting rules
// (spec/ndimage-semantics.md section 1.4) computed without undefined behaviour.

/// x86-64 `cvttsd2si` with a 32-bit destination: truncation toward zero, or `Int32.min`
/// (the "integer indefinite" value) for NaN and values outside the range.
@inline(__always)
func truncatingToInt32LikeX86(_ value: Double) -> Int32 {
    // NaN fails both comparisons.
    if value > -2147483649.0 && value < 2147483648.0 { return Int32(value) }
    return Int32.min
}

/// x86-64 `cvttsd2si` with a 64-bit destination: truncation, or `Int64.min` for NaN and out of range.
@inline(__always)
func truncatingToInt64LikeX86(_ value: Double) -> Int64 {
    if value >= -9223372036854775808.0 && value < 9223372036854775808.0 { return Int64(value) }
    return Int64.min
}

/// The C cast `(uint64_t)value` as GCC compiles it on x86-64, except that NaN gives 0 (documented).
@inline(__always)
func truncatingToUInt64LikeX86(_ value: Double) -> UInt64 {
    if value.isNaN { return 0 }
    if value < 9223372036854775808.0 { return UInt64(bitPattern: truncatingToInt64LikeX86(value)) }
    if value < 18446744073709551616.0 { return UInt64(value) }
    // GCC subtracts 2^63, converts (giving the indefinite value) and flips the top bit: 0.
    return 0
}

/// An element type read as a Double: `doubleValue` is generic_filter's value of an element (`loadDouble`).
protocol DoubleLoadable {
    var doubleValue: Double { get }
}

/// An element type written from a Double: `init(castingDouble:)` is generic_filter's cast (section 1.4): floats by C
/// cast, signed integers by truncation, unsigned integers and bool (a raw byte) by `value > -1 ? (T)value :
/// -(T)(-value)`. Out-of-range values and NaN give what SciPy gives on x86-64 (8/16-bit: low bits of a 32-bit
/// conversion; int32/int64: the minimum; uint32: low bits of a 64-bit conversion; uint64: GCC's conversion, NaN -> 0),
/// computed without traps. The one definition of those casts: `storeDouble` and the line driver's typed loops use it.
protocol DoubleStorable: DoubleLoadable {
    init(castingDouble value: Double)
}

extension Double: DoubleStorable {
    var doubleValue: Double { self }
    init(castingDouble value: Double) { self = value }
}

extension Float: DoubleStorable {
    var doubleValue: Double { Double(self) }
    init(castingDouble value: Double) { self = Float(value) }
}

extension Int8: DoubleStorable {
    var doubleValue: Double { Double(self) }
    init(castingDouble value: Double) { self = Int8(truncatingIfNeeded: truncatingToInt32LikeX86(value)) }
}

extension Int16: DoubleStorable {
    var doubleValue: Double { Double(self) }
    init(castingDouble value: Double) { self = Int16(truncatingIfNeeded: truncatingToInt32LikeX86(value)) }
}

extension Int32: DoubleStorable {
    var doubleValue: Double { Double(self) }
    init(castingDouble value: Double) { self = truncatingToInt32LikeX86(value) }
}

extension Int64: DoubleStorable {
    var doubleValue: Double { Double(self) }
    init(castingDouble value: Double) { self = truncatingToInt64LikeX86(value) }
}

extension UInt8: DoubleStorable {
    var doubleValue: Double { Double(self) }
    init(castingDouble value: Double) {
        self = value > -1 ? UInt8(truncatingIfNeeded: truncatingToInt32LikeX86(value))
            : 0 &- UInt8(truncatingIfNeeded: truncatingToInt32LikeX86(-value))
    }
}

extension UInt16: DoubleStorable {
    var doubleValue: Double { Double(self) }
    init(castingDouble value: Double) {
        self = value > -1 ? UInt16(truncatingIfNeeded: truncatingToInt32LikeX86(value))
            : 0 &- UInt16(truncatingIfNeeded: truncatingToInt32LikeX86(-value))
    }
}

extension UInt32: DoubleStorable {
    var doubleValue: Double { Double(self) }
    init(castingDouble value: Double) {
        self = value > -1 ? UInt32(truncatingIfNeeded: truncatingToInt64LikeX86(value))
            : 0 &- UInt32(truncatingIfNeeded: truncatingToInt64LikeX86(-value))
    }
}

extension UInt64: DoubleStorable {
    var doubleValue: Double { Double(self) }
    init(castingDouble value: Double) {
        self = value > -1 ? truncatingToUInt64LikeX86(value) : 0 &- truncatingToUInt64LikeX86(-value)
    }
}

/// A loop to run in an element type's own Swift type (`ElementType.run`): written once, generic over the type.
protocol TypedElementLoop {
    /// The loop for elements of `T`.
    func run<T: DoubleStorable>(_: T.Type)
}

extension ElementType {
    /// Runs `loop` in this element type's Swift type (bool as its raw byte, UInt8): the one switch from element
    /// type to Swift type for the loops that convert whole lines (`loadDouble` switches per element).
    @inline(__always)
    func run<Loop: TypedElementLoop>(_ loop: Loop) {
        switch self {
        case .float64: loop.run(Double.self)
        case .float32: loop.run(Float.self)
        case .bool, .uint8: loop.run(UInt8.self)
        case .int8: loop.run(Int8.self)
        case .uint16: loop.run(UInt16.self)
        case .int16: loop.run(Int16.self)
        case .int32: loop.run(Int32.self)
        case .uint32: loop.run(UInt32.self)
        case .int64: loop.run(Int64.self)
        case .uint64: loop.run(UInt64.self)
        }
    }

    /// Reads the element at `pointer` (any alignment, native byte order) as a Double.
    @inline(__always)
    public func loadDouble(from pointer: UnsafeRawPointer) -> Double {
        switch self {
        case .bool, .uint8: return pointer.load(as: UInt8.self).doubleValue
        case .int8: return pointer.load(as: Int8.self).doubleValue
        case .int16: return pointer.loadUnaligned(as: Int16.self).doubleValue
        case .uint16: return pointer.loadUnaligned(as: UInt16.self).doubleValue
        case .int32: return pointer.loadUnaligned(as: Int32.self).doubleValue
        case .uint32: return pointer.loadUnaligned(as: UInt32.self).doubleValue
        case .int64: return pointer.loadUnaligned(as: Int64.self).doubleValue
        case .uint64: return pointer.loadUnaligned(as: UInt64.self).doubleValue
        case .float32: return pointer.loadUnaligned(as: Float.self).doubleValue
        case .float64: return pointer.loadUnaligned(as: Double.self)
        }
    }

    /// Stores `value` at `pointer` as generic_filter does (section 1.4; `DoubleStorable` has the casts).
    @inline(__always)
    public func storeDouble(_ value: Double, to pointer: UnsafeMutableRawPointer) {
        switch self {
        case .float64: pointer.storeBytes(of: value, as: Double.self)
        case .float32: pointer.storeBytes(of: Float(castingDouble: value), as: Float.self)
        case .int8: pointer.storeBytes(of: Int8(castingDouble: value), as: Int8.self)
        case .int16: pointer.storeBytes(of: Int16(castingDouble: value), as: Int16.self)
        case .int32: pointer.storeBytes(of: Int32(castingDouble: value), as: Int32.self)
        case .int64: pointer.storeBytes(of: Int64(castingDouble: value), as: Int64.self)
        case .bool, .uint8: pointer.storeBytes(of: UInt8(castingDouble: value), as: UInt8.self)
        case .uint16: pointer.storeBytes(of: UInt16(castingDouble: value), as: UInt16.self)
        case .uint32: pointer.storeBytes(of: UInt32(castingDouble: value), as: UInt32.self)
        case .uint64: pointer.storeBytes(of: UInt64(castingDouble: value), as: UInt64.self)
        }
    }

    /// Reads an integer element exactly as its two's-complement bits widened to 64 (floats truncated).
    @inline(__always)
    public func loadInt64Bits(from pointer: UnsafeRawPointer) -> Int64 {
        switch self {
        case .bool, .uint8: return Int64(pointer.load(as: UInt8.self))
        case .int8: return Int64(pointer.load(as: Int8.self))
        case .int16: return Int64(pointer.loadUnaligned(as: Int16.self))
        case .uint16: return Int64(pointer.loadUnaligned(as: UInt16.self))
        case .int32: return Int64(pointer.loadUnaligned(as: Int32.self))
        case .uint32: return Int64(pointer.loadUnaligned(as: UInt32.self))
        case .int64: return pointer.loadUnaligned(as: Int64.self)
        case .uint64: return Int64(bitPattern: pointer.loadUnaligned(as: UInt64.self))
        case .float32, .float64: return truncatingToInt64LikeX86(loadDouble(from: pointer))
        }
    }

    /// Stores the low bits of `bits` (NumPy's integer-to-integer `astype`, which wraps).
    @inline(__always)
    public func storeInt64Bits(_ bits: Int64, to pointer: UnsafeMutableRawPointer) {
        switch self {
        case .bool: pointer.storeBytes(of: bits != 0 ? 1 : 0, as: UInt8.self)
        case .int8, .uint8: pointer.storeBytes(of: UInt8(truncatingIfNeeded: bits), as: UInt8.self)
        case .int16, .uint16: pointer.storeBytes(of: UInt16(truncatingIfNeeded: bits), as: UInt16.self)
        case .int32, .uint32: pointer.storeBytes(of: UInt32(truncatingIfNeeded: bits), as: UInt32.self)
        case .int64, .uint64: pointer.storeBytes(of: bits, as: Int64.self)
        case .float32, .float64: storeDouble(Double(bits), to: pointer)
        }
    }
}
