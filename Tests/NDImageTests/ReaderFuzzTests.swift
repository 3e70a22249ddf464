import Foundation
import Testing
@testable import NDImage

/// Truncates and flips bytes of valid files; every result must be an array or an NDImageError, never a crash.
func fuzz(_ files: [[UInt8]], seed: UInt64, rounds: Int, read: ([UInt8]) throws -> NDArray) -> (accepted: Int, rejected: Int) {
    var rng = SplitMix64(seed: seed)
    var accepted = 0, rejected = 0
    for round in 0..<rounds {
        var bytes = files[round % files.count]
        switch rng.next() % 3 {
        case 0: bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
        case 1:
            for _ in 0..<(1 + Int(rng.next() % 4)) where !bytes.isEmpty {
                bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
        default:
            // Corrupt the header region, where the interesting parsing happens.
            let limit = min(bytes.count, 128)
            if limit > 0 { bytes[Int(rng.next() % UInt64(limit))] = UInt8(truncatingIfNeeded: rng.next()) }
        }
        do { _ = try read(bytes); accepted += 1 } catch is NDImageError { rejected += 1 } catch { rejected += 1 }
    }
    return (accepted, rejected)
}

@Test func mutatedNPYFilesNeverCrashTheReader() throws {
    let seed = UInt64.random(in: 0...UInt64(UInt32.max))
    print("mutatedNPYFilesNeverCrashTheReader seed \(seed)")
    let names = try loadFixture("npy/index.json", as: [NPYIndexEntry].self).map(\.file)
    let files = try names.map { try FileBytes.read(fixtureRoot.appendingPathComponent("npy/\($0)").path) }
    let (accepted, rejected) = fuzz(files, seed: seed, rounds: 3000) { try NPYFile.read($0) }
    #expect(rejected > 0, "seed \(seed): no mutation was rejected")
    #expect(accepted + rejected == 3000)
}

@Test func mutatedPNGFilesNeverCrashTheReader() throws {
    let seed = UInt64.random(in: 0...UInt64(UInt32.max))
    print("mutatedPNGFilesNeverCrashTheReader seed \(seed)")
    let names = try loadFixture("png/index.json", as: [NPYIndexEntry].self).map(\.file)
    let files = try names.map { try FileBytes.read(fixtureRoot.appendingPathComponent("png/\($0)").path) }
    let (accepted, rejected) = fuzz(files, seed: seed, rounds: 2000) { try PNGFile.read($0) }
    #expect(rejected > 0, "seed \(seed): no mutation was rejected")
    #expect(accepted + rejected == 2000)
}
