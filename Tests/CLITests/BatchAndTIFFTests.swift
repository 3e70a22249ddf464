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
}
