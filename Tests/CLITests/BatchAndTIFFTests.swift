import Foundation
import NDImage
import Testing

/// `filterjit run` on TIFF files, and batch runs with `--output-dir`.
struct BatchAndTIFFTests {
    @Test func runReadsAndWritesTIFFKeepingTheInputsTags() throws {
        let scratch = try ScratchDirectory()
        let image = try randomImage(shape: [3, 6, 5], seed: 11).converted(to: .uint16)
        let tags = TIFFFile.Tags(description: "cells", resolution: (x: 2, y: 4), resolutionUnit: 3)
        try TIFFFile.write(image, path: scratch.path("stack.tif"), tags: tags)
        let result = try runCLI(["run", "-e", "values[0]", "--size", "1", "--input", scratch.path("stack.tif"),
                                 "--output", scratch.path("out.tiff")])
        #expect(result.status == 0, "\(result.stderr)")
        let (written, writtenTags) = try TIFFFile.readWithTags(FileBytes.read(scratch.path("out.tiff")))
        #expect(written.shape == [3, 6, 5] && written.elementType == .uint16)
        #expect(written.doubleValues() == image.doubleValues())
        #expect(writtenTags == tags)
    }

    @Test func malformedTIFFInputExitsOneNamingTheProblemAndWritesNothing() throws {
        let scratch = try ScratchDirectory()
        let good = try TIFFFile.encode(randomImage(shape: [20, 20], seed: 12).converted(to: .uint8))
        for (name, bytes) in [("truncated.tif", Array(good.prefix(good.count / 2))), ("garbage.tif", Array("II*\0nonsense".utf8)),
                              ("empty.tif", [])] {
            try FileBytes.write(bytes, to: scratch.path(name))
            let result = try runCLI(["run", "-e", "min(values)", "--input", scratch.path(name), "--output", scratch.path("out.tif")])
            #expect(result.status == 1, "\(name): \(result.status) \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: TIFF: "), "\(name): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: scratch.path("out.tif")))
        }
    }

    @Test func batchFiltersEveryFileReportsTheBrokenOneAndExitsOne() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("data"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path("out"), withIntermediateDirectories: true)
        var inputs: [NDArray] = []
        for index in 0..<5 {
            let image = try randomImage(shape: [7, 9], seed: UInt64(20 + index))
            inputs.append(image)
            try ImageFile.write(image, path: scratch.path("data/img\(index).\(index % 2 == 0 ? "tif" : "npy")"))
        }
        try FileBytes.write(Array("not an image".utf8), to: scratch.path("data/zz_broken.npy"))
        let result = try runCLI(["run", "-e", "min(values)", "--size", "3", "--input", scratch.path("data"),
                                 "--output-dir", scratch.path("out"), "--threads", "2"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("error: \(scratch.path("data/zz_broken.npy")): "), "\(result.stderr)")
        #expect(!result.stderr.contains("\r"), "no progress bar when stderr is not a terminal")
        #expect(result.stdout.hasPrefix("6 files, 1 failed, 315 pixels, "), "\(result.stdout)")
        let written = try FileManager.default.contentsOfDirectory(atPath: scratch.path("out")).sorted()
        #expect(written == ["img0.tif", "img1.npy", "img2.tif", "img3.npy", "img4.tif"], "no temporary files left")
        // Each output equals the same kernel run on that file alone.
        for index in 0..<5 {
            let name = "img\(index).\(index % 2 == 0 ? "tif" : "npy")"
            let single = try runCLI(["run", "-e", "min(values)", "--size", "3", "--input", scratch.path("data/\(name)"),
                                     "--output", scratch.path("single-\(name)")])
            #expect(single.status == 0)
            #expect(try ImageFile.read(path: scratch.path("out/\(name)")).doubleValues()
                    == ImageFile.read(path: scratch.path("single-\(name)")).doubleValues(), "\(name)")
        }
    }

    @Test func batchNeedsMatchesAnExistingDirectoryAndDistinctNames() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("out"), withIntermediateDirectories: true)
        let none = try runCLI(["run", "-e", "min(values)", "--input", scratch.path("*.tif"), "--output-dir", scratch.path("out")])
        #expect(none.status == 1 && none.stderr.contains("no image files"), "\(none.stderr)")
        try NPYFile.write(try randomImage(shape: [3, 3], seed: 13), path: scratch.path("x.npy"))
        let missing = try runCLI(["run", "-e", "min(values)", "--input", scratch.path("*.npy"), "--output-dir", scratch.path("nope")])
        #expect(missing.status == 1 && missing.stderr.contains("is not an existing directory"), "\(missing.stderr)")
        let both = try runCLI(["run", "-e", "min(values)", "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy"),
                               "--output-dir", scratch.path("out")])
        #expect(both.status == 64, "\(both.stderr)")
    }
    /// The pipeline (files read ahead while the kernel compiles, the first file filtered alone, then the
    /// workers, each reusing its output array while shape and type stay the same): with unreadable files
    /// first, in the middle and last, and shapes and types changing from file to file, every output equals
    /// the kernel run on that file alone, at 1, 2 and 3 threads; failures are reported and counted, the
    /// size/footprint warning comes once, and nothing else is left in the output directory.
    @Test func batchPipelineGivesEveryFileItsOwnResultWhateverTheOrderOfFailures() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("data"), withIntermediateDirectories: true)
        var good: [String] = []
        let broken = [0, 6, 13]
        for index in 0..<14 {
            let name = "f\(index < 10 ? "0" : "")\(index).\(index % 4 == 3 ? "npy" : "tif")"
            if broken.contains(index) {
                try FileBytes.write(Array("not an image".utf8), to: scratch.path("data/\(name)"))
                continue
            }
            let shape = [[9, 7], [7, 9], [2, 5, 6]][index % 3]
            let type: ElementType = index % 2 == 0 ? .uint16 : .float64
            var state = UInt64(40 + index)
            let values = (0..<shape.reduce(1, *)).map { _ -> Double in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Double(state >> 48)
            }
            try ImageFile.write(NDArray.make(shape: shape, elementType: type, values: values), path: scratch.path("data/\(name)"))
            good.append(name)
        }
        let kernel = ["-e", "median(values)", "--size", "3", "--footprint", "cross"]
        for threads in [1, 2, 3] {
            let out = scratch.path("out\(threads)")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let result = try runCLI(["run"] + kernel + ["--input", scratch.path("data"), "--output-dir", out,
                                                        "--threads", "\(threads)"])
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stdout.hasPrefix("14 files, 3 failed, 681 pixels, "), "\(result.stdout)")
            for index in broken {
                let name = "f\(index < 10 ? "0" : "")\(index).\(index % 4 == 3 ? "npy" : "tif")"
                #expect(result.stderr.contains("error: \(scratch.path("data/\(name)")): "), "\(threads): \(result.stderr)")
            }
            #expect(result.stderr.components(separatedBy: "warning: ").count == 2, "one warning: \(result.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == good, "no temporary files left")
        }
        for name in good {
            let single = try runCLI(["run"] + kernel + ["--input", scratch.path("data/\(name)"), "--output", scratch.path("single-\(name)")])
            #expect(single.status == 0, "\(single.stderr)")
            let expected = try ImageFile.read(path: scratch.path("single-\(name)"))
            for threads in [1, 2, 3] {
                let batch = try ImageFile.read(path: scratch.path("out\(threads)/\(name)"))
                #expect(batch.shape == expected.shape && batch.elementType == expected.elementType, "\(threads) \(name)")
                #expect(batch.doubleValues() == expected.doubleValues(), "\(threads) \(name)")
            }
        }
    }

    /// `--output-dtype` and a @line_filter kernel in a batch (both filter into a reused output array).
    @Test func batchOfLineFiltersWithAnOutputTypeEqualsSingleRuns() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("data"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path("out"), withIntermediateDirectories: true)
        for index in 0..<5 {
            try ImageFile.write(try randomImage(shape: [6 + index % 2, 8], seed: UInt64(60 + index)),
                                path: scratch.path("data/l\(index).npy"))
        }
        let kernel = [repositoryRoot.appendingPathComponent("examples/smooth1d.filter").path, "--line-size", "3",
                      "--output-dtype", "float32"]
        let result = try runCLI(["run"] + kernel + ["--input", scratch.path("data/*.npy"), "--output-dir", scratch.path("out"),
                                                    "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        for index in 0..<5 {
            let single = try runCLI(["run"] + kernel + ["--input", scratch.path("data/l\(index).npy"),
                                                        "--output", scratch.path("single\(index).npy")])
            #expect(single.status == 0, "\(single.stderr)")
            let batch = try NPYFile.read(path: scratch.path("out/l\(index).npy"))
            #expect(batch.elementType == .float32)
            #expect(batch.doubleValues() == (try NPYFile.read(path: scratch.path("single\(index).npy")).doubleValues()))
        }
    }

    /// `FILTERJIT_BATCH_PROFILE=1` ends a batch with where its time went, on stderr (benchmarks/batch.py reads it).
    @Test func batchProfileLineWhenAsked() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("out"), withIntermediateDirectories: true)
        for index in 0..<3 {
            try NPYFile.write(try randomImage(shape: [5, 5], seed: UInt64(70 + index)), path: scratch.path("p\(index).npy"))
        }
        let arguments = ["run", "-e", "max(values)", "--input", scratch.path("*.npy"), "--output-dir", scratch.path("out")]
        let profiled = try runCLI(arguments, environment: ["FILTERJIT_BATCH_PROFILE": "1"])
        #expect(profiled.status == 0, "\(profiled.stderr)")
        let line = profiled.stderr.split(separator: "\n").first { $0.hasPrefix("profile: compile ") }
        #expect(line?.contains("summed over threads: read ") == true && line?.hasSuffix("(3 files)") == true, "\(profiled.stderr)")
        let plain = try runCLI(arguments)
        #expect(plain.status == 0 && plain.stderr.isEmpty, "\(plain.stderr)")
    }
}
