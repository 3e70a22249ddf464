import Testing
import Foundation
import FilterLang
import NDImage
@testable import FilterJIT

/// Both engines run through one validation and one plan: what one refuses, the other refuses alike,
/// and a fused run compiles only the code it needs.
@Suite struct OneDriverTests {
    @Test func bothEnginesRefuseAnOversizedLineFilterTheSameWay() throws {
        let kernel = try Engine().compile("""
            @line_filter
            def smooth(line, out):
                for i in range(len(out)):
                    out[i] = line[i]
            """)
        let image = try NDArray.random(shape: [4, 6], elementType: .float64, seed: 3)
        var messages: [String] = []
        for engine in ExecutionEngine.allCases {
            do {
                _ = try kernel.genericFilter1D(image, options: LineFilterOptions(filterSize: 5_000_000), engine: engine)
                Issue.record("\(engine) accepted a filter_size of 5,000,000")
            } catch let error as NDImageError {
                messages.append("\(error)")
            }
        }
        #expect(messages.count == 2 && messages[0] == messages[1], "\(messages)")
        #expect(messages.first?.contains("at most") == true)
    }

    @Test func aFusedRunCompilesOnlyItsFusedKernelNotTheCallback() throws {
        let engine = try Engine()
        let kernel = try engine.compile("values[0] * 2.0 + values[4]")
        let image = try NDArray.random(shape: [5, 70], elementType: .uint8, seed: 9)
        let options = FilterOptions(size: [3])
        let prepared = try kernel.prepareRun(shape: image.shape, elementType: image.elementType, options: options,
                                             strategy: .literal)
        #expect(prepared.compiled.count == 1 && prepared.timings.optimize > 0, "\(prepared.compiled)")
        #expect(engine.cache.statistics.misses == 2)  // the checked kernel and its fused variant
        let fused = try kernel.genericFilter(image, options: options, strategy: .literal, threads: 2)
        #expect(engine.cache.statistics.misses == 2, "the run compiled again")
        let callback = try kernel.genericFilter(image, options: options, engine: .callback)
        #expect(fused.doubleValues() == callback.doubleValues())
    }

    @Test func rowsShorterThanAGroupAndStridedOutputsGiveTheCallbackBits() throws {
        // Rows of 1..70 pixels (the row kernel computes 64 at a time; shorter rows are padded) into
        // outputs of another type, reversed along the last axis (a negative stride).
        let kernel = try Engine().compile("np.mean(values) * 3.0 - values[1]")
        for width in [1, 2, 7, 63, 64, 65, 70] {
            let image = try NDArray.random(shape: [3, width], elementType: .int16, seed: UInt64(width))
            let options = FilterOptions(size: [3, 3], mode: .constant, cval: 2)
            let reversed = try NDArray(shape: [3, width], elementType: .float32).reversed(axis: 1)
            let expected = try kernel.genericFilter(image, options: options, output: .elementType(.float32), engine: .callback)
            _ = try kernel.genericFilter(image, options: options, output: .array(reversed), strategy: .literal, threads: 2)
            #expect(reversed.doubleValues() == expected.doubleValues(), "width \(width)")
        }
    }

    @Test func wideRowsReadInPlaceBetweenTheirEdgesGiveTheCallbackBits() throws {
        // Rows wide enough to be read in place (at least 512 pixels), every mode, holed and shifted
        // footprints, a long window, a transposed (strided) input.
        let kernel = try Engine().compile("values[0] * 3.0 - np.mean(values) + len(values)")
        var holed = [Bool](repeating: true, count: 15)
        holed[2] = false
        holed[9] = false
        let footprint = try Footprint(shape: [3, 5], mask: holed)
        for mode in BoundaryMode.allCases {
            for (options, width) in [(FilterOptions(size: [3, 3], mode: mode, cval: 1.5), 512),
                                     (FilterOptions(footprint: footprint, mode: mode, cval: 2, origin: [1, -1]), 601),
                                     (FilterOptions(size: [1, 141], mode: mode, cval: -1), 700),
                                     (FilterOptions(size: [2, 7], mode: mode, origin: [0, 3]), 1000)] {
                for type in [ElementType.float64, .uint8, .int16] {
                    let image = try NDArray.random(shape: [5, width], elementType: type, seed: UInt64(width) &* 31 &+ 7)
                    let expected = try kernel.genericFilter(image, options: options, engine: .callback)
                    let fused = try kernel.genericFilter(image, options: options, strategy: .literal, threads: 2)
                    #expect(fused.doubleValues() == expected.doubleValues(), "\(mode) \(type) width \(width)")
                    let transposed = try NDArray.random(shape: [width, 5], elementType: type, seed: 3).transposed()
                    let expectedT = try kernel.genericFilter(transposed, options: options, engine: .callback)
                    let fusedT = try kernel.genericFilter(transposed, options: options, strategy: .literal, threads: 1)
                    #expect(fusedT.doubleValues() == expectedT.doubleValues(), "transposed \(mode) \(type)")
                }
            }
        }
    }
}
