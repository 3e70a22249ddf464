// The exported C functions of filterjit.h for engines and kernels (the filter drivers are in
// Drivers.swift). Handles are retained Swift objects passed as opaque pointers.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import FilterJIT
import FilterLang
import NDImage

/// The C API's version text.
private let versionText: StaticString = "0.1.0"

/// `const char *filterjit_version(void)`.
@_cdecl("filterjit_version")
public func filterjit_version() -> UnsafePointer<CChar> {
    UnsafeRawPointer(versionText.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// `void filterjit_string_free(char *)`: frees a string the library handed out.
@_cdecl("filterjit_string_free")
public func filterjit_string_free(_ text: UnsafeMutablePointer<CChar>?) {
    free(text)
}

/// `int filterjit_has_nan_or_negative_zero(const void *, int, intptr_t)`: 1 when `count` contiguous elements
/// of `dtype` hold NaN or -0.0, 0 when not (integer types: never), -1 for an unknown dtype, a negative count
/// or NULL data with a positive count.
@_cdecl("filterjit_has_nan_or_negative_zero")
public func filterjit_has_nan_or_negative_zero(_ data: UnsafeRawPointer?, _ dtype: Int32, _ count: Int) -> Int32 {
    guard let type = try? elementType(code: dtype), count >= 0, data != nil || count == 0 else { return -1 }
    guard let data, count > 0 else { return 0 }
    return holdsNaNOrNegativeZero(data, elementType: type, count: count) ? 1 : 0
}

// MARK: Engines

/// `filterjit_engine *filterjit_engine_create(char **error)`.
@_cdecl("filterjit_engine_create")
public func filterjit_engine_create(_ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> OpaquePointer? {
    errorText?.pointee = nil
    do {
        let box = EngineBox(try Engine())
        return OpaquePointer(Unmanaged.passRetained(box).toOpaque())
    } catch {
        report("cannot start the FilterJIT engine: \(error)", to: errorText)
        return nil
    }
}

/// `filterjit_engine *filterjit_engine_create_with_disk_cache(const char *directory, char **error)`:
/// an engine that also reads and writes compiled kernels in an on-disk cache (NULL: the default directory).
@_cdecl("filterjit_engine_create_with_disk_cache")
public func filterjit_engine_create_with_disk_cache(_ directory: UnsafePointer<CChar>?,
                                                    _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> OpaquePointer? {
    errorText?.pointee = nil
    let location = directory.map { URL(fileURLWithPath: String(cString: $0), isDirectory: true) }
        ?? DiskKernelCache.defaultDirectory
    do {
        let box = EngineBox(try Engine(diskCache: DiskKernelCache(directory: location)))
        return OpaquePointer(Unmanaged.passRetained(box).toOpaque())
    } catch {
        report("cannot start the FilterJIT engine: \(error)", to: errorText)
        return nil
    }
}

/// `void filterjit_engine_free(filterjit_engine *)`.
@_cdecl("filterjit_engine_free")
public func filterjit_engine_free(_ engine: OpaquePointer?) {
    guard let engine else { return }
    Unmanaged<EngineBox>.fromOpaque(UnsafeRawPointer(engine)).release()
}

/// `void filterjit_engine_cancel(filterjit_engine *)`.
@_cdecl("filterjit_engine_cancel")
public func filterjit_engine_cancel(_ engine: OpaquePointer?) {
    engineBox(engine)?.engine.cancel()
}

/// `void filterjit_engine_reset_cancellation(filterjit_engine *)`.
@_cdecl("filterjit_engine_reset_cancellation")
public func filterjit_engine_reset_cancellation(_ engine: OpaquePointer?) {
    engineBox(engine)?.engine.resetCancellation()
}

// MARK: Compiling

/// `filterjit_kernel *filterjit_compile(engine, source, function, file_name, line_offset, status, error)`.
@_cdecl("filterjit_compile")
public func filterjit_compile(_ engine: OpaquePointer?, _ source: UnsafePointer<CChar>?,
                              _ function: UnsafePointer<CChar>?, _ fileName: UnsafePointer<CChar>?,
                              _ lineOffset: Int, _ status: UnsafeMutablePointer<Int32>?,
                              _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> OpaquePointer? {
    filterjit_compile_as(engine, source, function, fileName, lineOffset, 0, status, errorText)
}

/// `filterjit_kernel *filterjit_compile_as(engine, source, function, file_name, line_offset, kind, status, error)`:
/// `filterjit_compile` where an undecorated kernel def is of `kind` (FILTERJIT_KIND_FILTER, _LINE_FILTER or
/// _TRANSFORM), as generic_filter1d and geometric_transform take a plain Python function.
@_cdecl("filterjit_compile_as")
public func filterjit_compile_as(_ engine: OpaquePointer?, _ source: UnsafePointer<CChar>?,
                                 _ function: UnsafePointer<CChar>?, _ fileName: UnsafePointer<CChar>?,
                                 _ lineOffset: Int, _ kind: Int32, _ status: UnsafeMutablePointer<Int32>?,
                                 _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> OpaquePointer? {
    var result: OpaquePointer?
    let code = withStatus(errorText) {
        guard let box = engineBox(engine) else { throw APIFailure(.argument, "engine is NULL") }
        guard let source else { throw APIFailure(.argument, "source is NULL") }
        let undecoratedKind: KernelKind
        switch kind {
        case 0: undecoratedKind = .filter
        case 1: undecoratedKind = .lineFilter
        case 2: undecoratedKind = .transform
        default: throw APIFailure(.argument, "invalid kernel kind \(kind) (expected 0, 1 or 2: FILTERJIT_KIND_*)")
        }
        let text = String(cString: source)
        let name = fileName.map { String(cString: $0) } ?? "<expr>"
        let functionName = function.map { String(cString: $0) }
        do {
            let kernel = try box.engine.compile(text, function: functionName, fileName: name, undecoratedKind: undecoratedKind)
            result = OpaquePointer(Unmanaged.passRetained(KernelBox(kernel)).toOpaque())
        } catch let compileError as CompileError {
            // Render again with the line offset, so locations point into the file the text came from.
            let file = SourceFile(name: name, text: text, lineOffset: max(0, lineOffset))
            throw APIFailure(.compile, DiagnosticRenderer.render(compileError.diagnostics, in: file))
        }
    }
    status?.pointee = code
    return result
}

/// `void filterjit_kernel_free(filterjit_kernel *)`.
@_cdecl("filterjit_kernel_free")
public func filterjit_kernel_free(_ kernel: OpaquePointer?) {
    guard let kernel else { return }
    Unmanaged<KernelBox>.fromOpaque(UnsafeRawPointer(kernel)).release()
}

// MARK: Kernel interface

/// `int filterjit_kernel_kind(const filterjit_kernel *)`; -1 for NULL.
@_cdecl("filterjit_kernel_kind")
public func filterjit_kernel_kind(_ kernel: OpaquePointer?) -> Int32 {
    guard let box = kernelBox(kernel) else { return -1 }
    return kindCode(box.kernel.kind)
}

/// `const char *filterjit_kernel_name(const filterjit_kernel *)`.
@_cdecl("filterjit_kernel_name")
public func filterjit_kernel_name(_ kernel: OpaquePointer?) -> UnsafePointer<CChar>? {
    kernelBox(kernel)?.name.map { UnsafePointer($0) }
}

/// `void *filterjit_kernel_address(const filterjit_kernel *)`: compiles the callback's machine code on
/// first use; NULL if LLVM cannot (the drivers report such an error when they run).
@_cdecl("filterjit_kernel_address")
public func filterjit_kernel_address(_ kernel: OpaquePointer?) -> UnsafeMutableRawPointer? {
    guard let box = kernelBox(kernel), let address = try? box.kernel.address else { return nil }
    return UnsafeMutableRawPointer(bitPattern: address)
}

/// `intptr_t filterjit_kernel_parameter_count(const filterjit_kernel *)`.
@_cdecl("filterjit_kernel_parameter_count")
public func filterjit_kernel_parameter_count(_ kernel: OpaquePointer?) -> Int {
    kernelBox(kernel)?.kernel.parameters.count ?? 0
}

/// `const char *filterjit_kernel_parameter_name(const filterjit_kernel *, intptr_t)`.
@_cdecl("filterjit_kernel_parameter_name")
public func filterjit_kernel_parameter_name(_ kernel: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    guard let box = kernelBox(kernel), index >= 0, index < box.parameterNames.count else { return nil }
    return box.parameterNames[index].map { UnsafePointer($0) }
}

/// `int filterjit_kernel_parameter_type(const filterjit_kernel *, intptr_t)`: 0 float, 1 int, -1 none.
@_cdecl("filterjit_kernel_parameter_type")
public func filterjit_kernel_parameter_type(_ kernel: OpaquePointer?, _ index: Int) -> Int32 {
    guard let box = kernelBox(kernel), index >= 0, index < box.kernel.parameters.count else { return -1 }
    return box.kernel.parameters[index].type == .float ? 0 : 1
}

/// `double filterjit_kernel_parameter_default(const filterjit_kernel *, intptr_t)`.
@_cdecl("filterjit_kernel_parameter_default")
public func filterjit_kernel_parameter_default(_ kernel: OpaquePointer?, _ index: Int) -> Double {
    guard let box = kernelBox(kernel), index >= 0, index < box.kernel.parameters.count else { return .nan }
    return box.kernel.parameters[index].defaultValue
}

/// `int filterjit_kernel_parameter_required(const filterjit_kernel *, intptr_t)`: 1 when the parameter
/// was declared without a default (every call must give its value), 0 otherwise, -1 for a bad index.
@_cdecl("filterjit_kernel_parameter_required")
public func filterjit_kernel_parameter_required(_ kernel: OpaquePointer?, _ index: Int) -> Int32 {
    guard let box = kernelBox(kernel), index >= 0, index < box.kernel.parameters.count else { return -1 }
    return box.kernel.parameters[index].isRequired ? 1 : 0
}

/// `int filterjit_kernel_loaded_from_disk_cache(const filterjit_kernel *)`: 1 when its machine code came
/// from the on-disk cache rather than a compile, 0 otherwise (or for NULL).
@_cdecl("filterjit_kernel_loaded_from_disk_cache")
public func filterjit_kernel_loaded_from_disk_cache(_ kernel: OpaquePointer?) -> Int32 {
    kernelBox(kernel)?.kernel.loadedFromDiskCache == true ? 1 : 0
}
