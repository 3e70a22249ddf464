// swift-tools-version:6.0
import Foundation
import PackageDescription

// MARK: - LLVM, found through llvm-config when the manifest is evaluated

/// Runs the program at `path` with `arguments`; its trimmed standard output, or nil when it fails.
func capture(_ path: String, _ arguments: [String]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// The `llvm-config` to build against: `$LLVM_CONFIG`, else the newest versioned Debian install
/// whose C headers are present (an `llvm-N-dev`), else `llvm-config` on the PATH.
let chosenLLVMConfig: String? = {
    var candidates: [String] = []
    if let explicit = ProcessInfo.processInfo.environment["LLVM_CONFIG"], !explicit.isEmpty {
        candidates.append(explicit)
    }
    for version in (14...22).reversed() {
        candidates.append("/usr/lib/llvm-\(version)/bin/llvm-config")
    }
    candidates.append("/usr/bin/llvm-config")
    return candidates.first { path in
        guard FileManager.default.isExecutableFile(atPath: path),
              let include = capture(path, ["--includedir"]) else { return false }
        return FileManager.default.fileExists(atPath: include + "/llvm-c/Core.h")
    }
}()

/// Runs the chosen `llvm-config` with `arguments`.
func llvmConfig(_ arguments: [String]) -> String? {
    chosenLLVMConfig.flatMap { capture($0, arguments) }
}

let llvmIncludeDir = llvmConfig(["--includedir"]) ?? "/usr/lib/llvm-14/include"
let llvmLibDir = llvmConfig(["--libdir"]) ?? "/usr/lib/llvm-14/lib"
let llvmLibrary = llvmConfig(["--link-shared", "--libs"])?
    .split(separator: " ")
    .first { $0.hasPrefix("-lLLVM") }
    .map { String($0.dropFirst(2)) } ?? "LLVM-14"
let llvmVersion = llvmConfig(["--version"]) ?? "14"

/// Swift targets that import CLLVM (directly or via @testable import) need the header path.
let importsLLVM: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-I\(llvmIncludeDir)"]),
    .define("FILTERJIT_LLVM_\(llvmVersion.split(separator: ".").first ?? "14")"),
]
/// LLVM's static libraries for the components FilterJIT uses, when `llvm-config` finds them (Debian's
/// `llvm-N-dev` ships them) and `FILTERJIT_SHARED_LLVM=1` is not set: starting a process that links
/// the shared libLLVM costs about 14 ms here (the dynamic loader binding its symbols), a statically
/// linked one about 1 ms. Only what the C API calls reach is linked in.
let staticLLVMLibraries: [String]? = {
    guard ProcessInfo.processInfo.environment["FILTERJIT_SHARED_LLVM"] != "1",
          let libraries = llvmConfig(["--link-static", "--libs", "orcjit", "native", "passes"]),
          let system = llvmConfig(["--link-static", "--system-libs"]) else { return nil }
    // LLVM is C++: its archives need the C++ library that libLLVM would have brought. llvm-config lists
    // libz3 and libxml2 for components FilterJIT does not link (the Z3 solver, Windows manifests);
    // loading libz3 alone would cost more start-up time than static linking saves.
    let needed = system.split(separator: " ").filter { !$0.contains("z3") && !$0.contains("xml2") }
    return (libraries.split(separator: " ") + needed + ["-lstdc++"]).map(String.init)
}()
let linksLLVM: [LinkerSetting] = staticLLVMLibraries.map { libraries in
    [.unsafeFlags(["-L\(llvmLibDir)"])] + libraries.map { library in
        library.hasPrefix("-l") ? .linkedLibrary(String(library.dropFirst(2))) : .unsafeFlags([library])
    }
} ?? [
    .linkedLibrary(llvmLibrary),
    .unsafeFlags(["-L\(llvmLibDir)", "-Xlinker", "-rpath", "-Xlinker", llvmLibDir]),
]

// MARK: - The CPU level of the precompiled window strategies

/// NDImage's window strategies (min/max/sum passes over rows) are precompiled Swift, not JIT code:
/// on an x86-64 build machine with AVX2 they are compiled for Haswell-level x86-64 (AVX2, 32 bytes per
/// instruction) instead of the SSE2 baseline. The package is built from source where it runs
/// (`swift build`, `pip install`), so the build machine is the machine that runs it.
/// FILTERJIT_PORTABLE=1 keeps the baseline (for binaries copied to other machines).
let hostHasAVX2: Bool = {
    #if arch(x86_64)
    guard ProcessInfo.processInfo.environment["FILTERJIT_PORTABLE"] != "1",
          let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
    return cpuinfo.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains("avx2") }
    #else
    return false
    #endif
}()
let strategyCPU: [SwiftSetting] = hostHasAVX2
    ? [.unsafeFlags(["-Xfrontend", "-target-cpu", "-Xfrontend", "haswell"])] : []

let package = Package(
    name: "FilterJIT",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "FilterJIT", targets: ["FilterJIT"]),
        .library(name: "NDImage", targets: ["NDImage"]),
        .executable(name: "filterjit", targets: ["filterjit"]),
        // The C API (include/filterjit.h) as a shared library, for Python (ctypes) and C callers.
        .library(name: "FilterJITC", type: .dynamic, targets: ["FilterJITC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The language model shared by every stage: source text, diagnostics, AST, typed IR.
        .target(name: "FilterLang"),
        // Text to AST: lexer, parser, AST printer.
        .target(name: "FilterParser", dependencies: ["FilterLang"]),
        // AST to typed IR: names, types, kernel kinds, checks.
        .target(name: "FilterSema", dependencies: ["FilterLang", "FilterParser"]),
        // The reference semantics: a tree-walking interpreter over the typed IR, and the numeric routines.
        .target(name: "FilterInterpreter", dependencies: ["FilterLang"]),
        // The LLVM C API.
        .systemLibrary(name: "CLLVM"),
        // The binary interfaces between drivers and generated code (one C header both sides import).
        .target(name: "KernelABI"),
        // Typed IR to LLVM IR; owning wrappers over LLVM handles.
        .target(name: "FilterCodegen", dependencies: ["FilterLang", "FilterInterpreter", "KernelABI", "CLLVM"],
                swiftSettings: importsLLVM, linkerSettings: linksLLVM),
        // Engine.compile, ORC LLJIT, kernel cache.
        .target(name: "FilterJIT", dependencies: ["FilterLang", "FilterParser", "FilterSema", "FilterInterpreter", "FilterCodegen", "NDImage", "KernelABI", "CLLVM"],
                swiftSettings: importsLLVM, linkerSettings: linksLLVM),
        // Arrays, .npy and .png files, boundary modes, footprints, the ndimage driver.
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        // libtiff, for grey TIFF images and stacks.
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
        // Order-statistic kernels with explicit AVX-512 vectors, chosen at run time by the CPU.
        .target(name: "RankKernelsC"),
        .target(name: "NDImage", dependencies: ["CPNG", "CTIFF", "KernelABI", "RankKernelsC"], swiftSettings: strategyCPU),
        // libedit, for the REPL's line editing and history.
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        // The command line.
        .executableTarget(name: "filterjit", dependencies: [
            "CEditLine",
            "FilterLang", "FilterParser", "FilterSema", "FilterInterpreter", "FilterJIT", "NDImage",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: importsLLVM),

        // The C API: @_cdecl functions over Engine, Kernel and the NDImage driver (include/filterjit.h).
        // LLVM linked statically stays private to the library (--exclude-libs), so that another LLVM in the
        // same process (Numba's llvmlite, say) cannot bind to it or it to that one.
        .target(name: "FilterJITC", dependencies: ["FilterLang", "FilterJIT", "NDImage"],
                swiftSettings: importsLLVM,
                linkerSettings: linksLLVM + (staticLLVMLibraries == nil ? [] : [.unsafeFlags(["-Xlinker", "--exclude-libs=ALL"])])),

        // The compile benchmark: `swift run -c release filterjit-compile-bench`.
        .executableTarget(name: "filterjit-compile-bench", dependencies: ["FilterLang", "FilterCodegen", "FilterJIT"]),

        // The Swift API example of the README (built and run by the CLI tests).
        .executableTarget(name: "filterjit-api-example", dependencies: ["FilterJIT", "NDImage"],
                          path: "examples/SwiftAPI"),

        .testTarget(name: "FilterParserTests", dependencies: ["FilterLang", "FilterParser"]),
        .testTarget(name: "FilterSemaTests", dependencies: ["FilterLang", "FilterParser", "FilterSema"]),
        .testTarget(name: "FilterInterpreterTests", dependencies: ["FilterLang", "FilterParser", "FilterSema", "FilterInterpreter"]),
        .testTarget(name: "FilterJITTests", dependencies: ["FilterLang", "FilterParser", "FilterSema", "FilterInterpreter", "FilterCodegen", "FilterJIT"],
                    swiftSettings: importsLLVM),
        .testTarget(name: "NDImageTests", dependencies: ["NDImage"]),
        .testTarget(name: "CLITests", dependencies: ["filterjit", "filterjit-api-example", "NDImage"]),
        .testTarget(name: "FilterJITCTests", dependencies: ["FilterJITC", "FilterJIT", "NDImage", "KernelABI"], swiftSettings: importsLLVM),
    ]
)

// MARK: - Fuzz targets (only when FILTERJIT_FUZZ=1, so the normal build is untouched)
// scripts/fuzz.sh builds them with `-sanitize=fuzzer,address` in .build-fuzz; each is a libFuzzer
// `LLVMFuzzerTestOneInput` in Fuzz/<name>/main.swift.
if ProcessInfo.processInfo.environment["FILTERJIT_FUZZ"] == "1" {
    package.targets += [
        .executableTarget(name: "FuzzFrontEnd", dependencies: ["FilterLang", "FilterSema"], path: "Fuzz/FuzzFrontEnd"),
        .executableTarget(name: "FuzzDifferential",
                          dependencies: ["FilterLang", "FilterSema", "FilterInterpreter", "FilterCodegen", "FilterJIT"],
                          path: "Fuzz/FuzzDifferential", swiftSettings: importsLLVM),
        .executableTarget(name: "FuzzReaders", dependencies: ["NDImage"], path: "Fuzz/FuzzReaders"),
        .executableTarget(name: "FuzzOptions", dependencies: ["NDImage"], path: "Fuzz/FuzzOptions"),
    ]
}
