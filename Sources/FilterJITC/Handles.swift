// The C API's opaque handles, status codes and error plumbing. Every exported function converts
// Swift errors into a status code plus a malloc'ed message, and never traps on caller data.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FilterJIT
import FilterLang
import KernelABI
import NDImage

/// The status codes of `filterjit.h`.
enum Status: Int32 {
    case ok = 0
    case argument = 1
    case kernel = 2
    case size = 3
    case compile = 4
    case `internal` = 5
}

/// A failed C API call: the status it returns and the text it hands out.
struct APIFailure: Error {
    var status: Status
    var message: String

    init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The failure an error stands for (kernel failures are translated by the callers).
    init(_ error: any Error) {
        if let failure = error as? APIFailure {
            self = failure
            return
        }
        guard let error = error as? NDImageError else {
            self.init(.internal, "\(error)")
            return
        }
        switch error {
        case .sizeTooLarge: self.init(.size, error.description)
        case .invalidArgument, .unsupportedDtype: self.init(.argument, error.description)
        case .callbackFailed, .callbackThrew: self.init(.kernel, error.description)
        default: self.init(.internal, error.description)
        }
    }
}

/// What an engine handle points to.
final class EngineBox {
    let engine: Engine
    init(_ engine: Engine) { self.engine = engine }
}

/// What a kernel handle points to: the kernel plus C copies of its strings, freed with it.
final class KernelBox {
    let kernel: Kernel
    let name: UnsafeMutablePointer<CChar>?
    let parameterNames: [UnsafeMutablePointer<CChar>?]

    init(_ kernel: Kernel) {
        self.kernel = kernel
        name = copyCString(kernel.name)
        parameterNames = kernel.parameters.map { copyCString($0.name) }
    }

    deinit {
        free(name)
        parameterNames.forEach { free($0) }
    }
}

/// A malloc'ed NUL-terminated copy of `text` (nil only when malloc fails; an interior NUL ends it early).
func copyCString(_ text: String) -> UnsafeMutablePointer<CChar>? {
    text.withCString { strdup($0) }
}

/// Stores a copy of `message` in `*error` when the caller asked for it.
func report(_ message: String, to error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
    error?.pointee = copyCString(message)
}

/// Runs `body`, turning a thrown failure into its status code and message.
func withStatus(_ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ body: () throws -> Void) -> Int32 {
    errorText?.pointee = nil
    do {
        try body()
        return Status.ok.rawValue
    } catch let failure as APIFailure {
        report(failure.message, to: errorText)
        return failure.status.rawValue
    } catch let failure as NDImageError {
        let translated = APIFailure(failure)
        report(translated.message, to: errorText)
        return translated.status.rawValue
    } catch {
        report("\(error)", to: errorText)
        return Status.internal.rawValue
    }
}

/// The engine behind a handle, or nil for NULL.
func engineBox(_ handle: OpaquePointer?) -> EngineBox? {
    guard let handle else { return nil }
    return Unmanaged<EngineBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// The kernel behind a handle, or nil for NULL.
func kernelBox(_ handle: OpaquePointer?) -> KernelBox? {
    guard let handle else { return nil }
    return Unmanaged<KernelBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// The C code of a kernel kind.
func kindCode(_ kind: KernelKind) -> Int32 {
    switch kind {
    case .filter: return 0
    case .lineFilter: return 1
    case .transform: return 2
    case .arrayFunction: return 3  // never a kernel handle's kind (array functions have their own handle)
    }
}

/// The element type of a `FILTERJIT_*` dtype code (KernelABI's `fj_element_code`; a test checks the header).
func elementType(code: Int32) throws -> ElementType {
    guard code >= 0, let type = ElementType(abiCode: fj_element_code(rawValue: UInt32(code))) else {
        throw APIFailure(.argument, "unknown element type code \(code)")
    }
    return type
}

/// The boundary mode of a `FILTERJIT_MODE_*` code (KernelABI's `fj_mode_code`; a test checks the header).
func boundaryMode(code: Int32) throws -> BoundaryMode {
    guard code >= 0, let mode = BoundaryMode(abiCode: fj_mode_code(rawValue: UInt32(code))) else {
        throw APIFailure(.argument, "boundary mode not supported (code \(code))")
    }
    return mode
}
