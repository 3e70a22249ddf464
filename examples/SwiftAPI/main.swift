// A complete Swift program using FilterJIT's API:
//   swift run filterjit-api-example examples/fmin.filter x.npy y.npy
// compiles a filter file, applies it to an array read from .npy with a cross footprint, and writes
// the result to .npy.
import FilterJIT
import Foundation
import NDImage

let arguments = CommandLine.arguments
guard arguments.count == 4 else {
    FileHandle.standardError.write(Data("usage: filterjit-api-example FILTER IN.npy OUT.npy\n".utf8))
    exit(64)
}

do {
    let engine = try Engine()
    let kernel = try engine.compile(contentsOf: URL(fileURLWithPath: arguments[1]))
    let image = try NPYFile.read(path: arguments[2])
    let options = FilterOptions(footprint: try .cross(rank: image.rank), mode: .reflect)
    let result = try kernel.genericFilter(image, options: options)
    try NPYFile.write(result, path: arguments[3])
    print("\(kernel.name): compiled in \(String(format: "%.1f", kernel.timings.total)) ms, wrote \(arguments[3])")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
