import ArgumentParser
import FilterJIT
import Foundation

/// `filterjit cache --list | --clear`: the on-disk kernel cache.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "List or clear the on-disk kernel cache.",
        discussion: """
            The cache lives in $FILTERJIT_CACHE_DIR when set, else $XDG_CACHE_HOME/filterjit,
            else ~/.cache/filterjit. Each line of --list: key, kernel, size, age.

            Examples:
              filterjit cache --list
              filterjit cache --clear
            """
    )

    @Flag(help: "One line per entry: key, kernel, size in bytes, age.")
    var list = false
    @Flag(help: "Remove every entry.")
    var clear = false

    func validate() throws {
        if list == clear { throw ValidationError("give exactly one of --list and --clear") }
    }

    func run() throws {
        try runReportingErrors {
            let cache = DiskKernelCache(directory: DiskKernelCache.defaultDirectory)
            if clear {
                try cache.clear()
                return
            }
            let now = Date()
            for entry in cache.entries().sorted(by: { $0.modified > $1.modified }) {
                print("\(entry.key)  \(entry.kernelName)  \(entry.size) B  \(age(now.timeIntervalSince(entry.modified)))")
            }
        }
    }

    private func age(_ seconds: TimeInterval) -> String {
        switch seconds {
        case ..<60: return "\(Int(max(seconds, 0)))s"
        case ..<3600: return "\(Int(seconds / 60))m"
        case ..<86400: return "\(Int(seconds / 3600))h"
        default: return "\(Int(seconds / 86400))d"
        }
    }
}

/// The engine a command runs with: with the on-disk cache unless `--no-disk-cache`.
func makeEngine(_ arguments: FilterOptionArguments) throws -> Engine {
    let engine = try Engine(diskCache: arguments.noDiskCache ? nil : DiskKernelCache(directory: DiskKernelCache.defaultDirectory))
    // The default handler writes with FileHandle.write, which traps on a closed stderr now that SIGPIPE is ignored.
    engine.warningHandler = { message in printError("warning: \(message)\n") }
    return engine
}
