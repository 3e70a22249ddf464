import Foundation
import Testing
@testable import NDImage

/// The cache against a model of it (the slots scanned in order, least recently used replaced first, as
/// before its hash table): same hits, same victims, the rows' contents those their keys built. Keys of a
/// few strides, nil and negative offsets; rows dropped by a throwing build; in one round in three every
/// key hashes to the table's last entry, so that all share one probe run wrapping past the table's end
/// and the deletions close gaps at its head, middle and tail.
@Test func extendedRowCacheFindsAndReplacesRowsAsAScanWould() throws {
    let seed = UInt64(ProcessInfo.processInfo.environment["CACHE_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64(UInt32.max))
    print("extendedRowCacheFindsAndReplacesRowsAsAScanWould seed \(seed) (rerun with CACHE_SEED=\(seed))")
    var random = SplitMix64(seed: seed)
    struct Failed: Error {}
    var problems: [String] = []
    for round in 0..<200 {
        let capacity = 1 + Int(random.next() % 60)
        let cache = ExtendedRowCache(capacity: capacity, rowBytes: 8, collidingForTests: round % 3 == 2)
        // The model: per slot its key (nil: empty or dropped), last use and validity.
        var modelKeys = [Int?](repeating: nil, count: capacity)
        var modelUse = [Int](repeating: 0, count: capacity)
        var modelValid = [Bool](repeating: false, count: capacity)
        var clock = 0
        let stride = [1, 8, 2048, 4096 * 3][Int(random.next() % 4)]
        let keyRange = 1 + Int(random.next() % UInt64(2 * capacity + 4))
        var slotOfRow: [UnsafeMutableRawPointer: Int] = [:]
        for step in 0..<400 {
            if random.next() % 7 == 0 { cache.tick(); clock += 1 }
            let pick = Int(random.next() % UInt64(keyRange))
            let key: Int? = pick == 0 ? nil : (pick - keyRange / 2) * stride
            let fails = random.next() % 23 == 0
            // The model's lookup.
            var hit: Int?
            var victim = 0
            for slot in 0..<capacity {
                if hit == nil && modelValid[slot] && modelKeys[slot] == key { hit = slot }
                if modelValid[victim] && (!modelValid[slot] || modelUse[slot] < modelUse[victim]) { victim = slot }
            }
            if random.next() % 5 == 0 {
                let present = cache.rowIfPresent(key)
                if (present != nil) != (hit != nil) || (present.map { slotOfRow[$0] } ?? nil) != hit {
                    problems.append("round \(round) step \(step): rowIfPresent(\(String(describing: key))) disagrees")
                }
                continue
            }
            var built = false
            let row: UnsafeMutableRawPointer?
            do {
                row = try cache.row(key) { storage in
                    if fails { throw Failed() }
                    storage.storeBytes(of: key ?? Int.min, as: Int.self)
                    built = true
                }
            } catch {
                row = nil
            }
            if let slot = hit {
                modelUse[slot] = clock
                if built || row.map({ slotOfRow[$0] }) != slot {
                    problems.append("round \(round) step \(step): key \(String(describing: key)) missed or moved")
                }
            } else {
                modelValid[victim] = false
                if !fails {
                    modelKeys[victim] = key
                    modelUse[victim] = clock
                    modelValid[victim] = true
                }
                if !fails, let row {
                    if let known = slotOfRow[row], known != victim {
                        problems.append("round \(round) step \(step): built into slot \(known), the model's victim is \(victim)")
                    }
                    slotOfRow[row] = victim
                }
                if fails != (row == nil) || (!fails && !built) {
                    problems.append("round \(round) step \(step): key \(String(describing: key)) build \(built), failed \(fails)")
                }
            }
            if let row, row.load(as: Int.self) != key ?? Int.min {
                problems.append("round \(round) step \(step): row of \(String(describing: key)) holds \(row.load(as: Int.self))")
            }
        }
    }
    let problemCount = problems.count
    #expect(problemCount == 0, "seed \(seed): \(problemCount) problems:\n\(problems.prefix(10).joined(separator: "\n"))")
}
