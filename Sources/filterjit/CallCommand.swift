import ArgumentParser
import FilterJIT
import FilterLang
import Foundation
import NDImage

/// `filterjit call FILE --arg ... [--write PATH] [--output PATH]`: runs an array function (issue 15) once.
struct CallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call an array function (@jit / @array_function) on .npy arrays and numbers.",
        discussion: """
            Each --arg is one argument, in order: a .npy file (an array the
            function may read and write), an int, a float, or true/false. The
            function is compiled for the arguments' dtypes and ranks. Arrays
            named by --write are written back (atomically) after the call; a
            returned array goes to --output, a returned number is printed.
            --const NAME=VALUE gives a module constant the function reads (a
            number, or a .npy file of a 1-D int or float array), as
            filterjit.jit freezes module globals. docs/array-functions.md.

            Examples:
              filterjit call examples/addarr.py --arg x.npy --arg y.npy \\
                  --output sum.npy
              filterjit call graph.py --arg labels.npy --arg steps.npy \\
                  --arg row.npy --arg col.npy --write row.npy --write col.npy \\
                  --const steps=steps.npy
            """
    )

    @Argument(help: "The Python/filter file holding the function.")
    var path: String

    @Option(help: "The def to call (default: the last one).")
    var function: String?

    @Option(name: .customLong("arg"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("One argument: a .npy file, an int, a float, or true/false (repeat, in order).", valueName: "VALUE"))
    var arguments: [String] = []

    @Option(name: .customLong("write"), help: ArgumentHelp("Write this --arg array back to its file after the call (repeatable).", valueName: "PATH"))
    var writes: [String] = []

    @Option(help: ArgumentHelp("Where to write a returned array (.npy, .png, .tif or .tiff).", valueName: "OUT"))
    var output: String?

    @Option(name: .customLong("const"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("A module constant: NAME=NUMBER or NAME=FILE.npy (a 1-D int or float array; repeatable).", valueName: "NAME=VALUE"))
    var constants: [String] = []

    @Option(help: "jit (machine code, the default) or interpreter (the reference interpreter).")
    var engine: String = "jit"

    @Flag(help: "Drop the index checks from the machine code (Numba's boundscheck=False; an index out of bounds is then undefined behaviour).")
    var unchecked = false

    func validate() throws {
        guard ArrayFunctionEngine(rawValue: engine) != nil else { throw ValidationError("--engine must be jit or interpreter") }
        for path in writes where !arguments.contains(path) {
            throw ValidationError("--write \(path): it is not one of the --arg arrays")
        }
        if unchecked && engine == "interpreter" { throw ValidationError("--unchecked applies to the jit engine only") }
    }

    func run() throws {
        exitOnInterrupt()
        try runReportingErrors {
            if let output { try checkOutputPath(output) }
            let file = try loadSourceFile(path)
            var text = file.text
            if !text.hasSuffix("\n") { text += "\n" }
            for constant in constants { text += try Self.constantLine(constant) + "\n" }
            let engine = try Engine()
            let callable = try engine.compileFunction(text, function: function, fileName: file.name, boundsChecked: !unchecked)
            // A file given twice is one array, as f(x, x) is in Python: writes through either argument land in
            // it, and --write saves it once.
            var values: [ArrayFunctionArgument] = []
            var loaded: [String: ArrayFunctionArgument] = [:]
            for argument in arguments {
                let value = try loaded[argument] ?? Self.argument(argument)
                if case .array = value { loaded[argument] = value }
                values.append(value)
            }
            let result: ArrayFunctionResult
            do {
                result = try callable.call(values, engine: ArrayFunctionEngine(rawValue: self.engine) ?? .jit)
            } catch let error as KernelRuntimeError {
                throw UserError("\(callable.name): \(callable.describe(error))")
            }
            for path in writes {
                guard let index = arguments.firstIndex(of: path), case .array(let array) = values[index] else { continue }
                try writeAtomically(array, to: path)
            }
            switch result {
            case .none: break
            case .int(let x): print(x)
            case .uint64(let x): print(x)
            case .float(let x): print(x)
            case .bool(let x): print(x ? "True" : "False")
            case .array(let array):
                guard let output else { throw UserError("'\(callable.name)' returned an array: give --output PATH to write it") }
                try writeAtomically(array, to: output)
            }
        }
    }

    /// One `--arg`: a .npy file, an int, a float, or a bool.
    static func argument(_ text: String) throws -> ArrayFunctionArgument {
        if text.lowercased().hasSuffix(".npy") {
            do { return .array(try NPYFile.read(path: text)) } catch { throw UserError("cannot read '\(text)': \(error)") }
        }
        switch text {
        case "true", "True": return .bool(true)
        case "false", "False": return .bool(false)
        default: break
        }
        if let value = Int64(text) { return .int(value) }
        if let value = Double(text) { return .float(value) }
        throw UserError("--arg \(text): not a .npy file, an int, a float or true/false")
    }

    /// `NAME = value` source text for `--const NAME=VALUE` (VALUE a number or a .npy file of a 1-D int/float array).
    static func constantLine(_ text: String) throws -> String {
        guard let equals = text.firstIndex(of: "="), !text[..<equals].isEmpty else {
            throw UserError("--const \(text): expected NAME=VALUE")
        }
        let name = String(text[..<equals]), value = String(text[text.index(after: equals)...])
        guard name.first.map({ $0.isLetter || $0 == "_" }) == true, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw UserError("--const \(text): '\(name)' is not a name")
        }
        if value.lowercased().hasSuffix(".npy") {
            let array: NDArray
            do { array = try NPYFile.read(path: value) } catch { throw UserError("cannot read '\(value)': \(error)") }
            guard array.rank == 1, array.elementType != .bool, array.count <= 65_536 else {
                throw UserError("--const \(name): '\(value)' must hold a 1-D int or float array of at most 65,536 elements")
            }
            let isFloat = array.elementType == .float32 || array.elementType == .float64
            let items = array.doubleValues().map { x -> String in
                if !isFloat { return String(Int64(x)) }
                if x.isNaN { return "float('nan')" }
                if x.isInfinite { return x > 0 ? "float('inf')" : "float('-inf')" }
                return "\(x)"
            }
            if !isFloat, array.elementType == .int64 || array.elementType == .uint64 {
                // Doubles hold ints exactly only up to 2^53: read such arrays' bits instead.
                let bits = array.int64Bits().map(String.init)
                return "\(name) = np.array([\(bits.joined(separator: ", "))], dtype=int)"
            }
            return "\(name) = np.array([\(items.joined(separator: ", "))], dtype=\(isFloat ? "float" : "int"))"
        }
        if Int64(value) != nil || Double(value) != nil || ["True", "False"].contains(value) { return "\(name) = \(value)" }
        throw UserError("--const \(text): the value must be a number or a .npy file")
    }
}
