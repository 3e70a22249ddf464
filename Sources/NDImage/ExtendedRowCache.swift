// The per-thread cache of extended input rows that both row drivers keep (RowKernelRun and the window
// strategies' WindowReductionJob): a few rows, each an input row extended along the last axis through
// the boundary mode, found by the input row they came from and replaced least recently used first.

/// Extended rows keyed by their input row (a byte or element offset; nil: the row of cval), least
/// recently used replaced first. Unsafe storage, not arrays: arrays in a class pay exclusivity checks
/// on every access, which cost more than the row passes for small windows. Keys are found through a
/// hash table (open addressing, linear probing), not by scanning the slots: a 7x7x7 window reads 49
/// rows per output row from a cache of 51, and the scans cost a quarter of a float64 mean's time.
final class ExtendedRowCache {
    let capacity: Int
    private let keys: UnsafeMutablePointer<Int?>
    private let lastUse: UnsafeMutablePointer<Int>
    private let valid: UnsafeMutablePointer<Bool>
    private let rows: UnsafeMutablePointer<UnsafeMutableRawPointer>
    /// The hash table of the valid slots: per entry the slot's encoded key (`encoded`) and the slot
    /// (-1: empty); a power of two at least four times `capacity`, so probes stay short.
    private let tableKeys: UnsafeMutablePointer<Int>
    private let tableSlots: UnsafeMutablePointer<Int>
    private let tableMask: Int
    private let tableShift: UInt64
    /// For tests: every key's home is the table's last entry, so all keys share one probe run that
    /// wraps past the table's end (the deletion's cyclic cases).
    private let collidingForTests: Bool
    /// Advanced once per output row (`tick`); rows used at the current tick are never replaced.
    private(set) var clock = 0

    /// `capacity` rows of `rowBytes` bytes each (at least one byte), 64-byte aligned.
    init(capacity: Int, rowBytes: Int, collidingForTests: Bool = false) {
        self.capacity = capacity
        self.collidingForTests = collidingForTests
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: nil, count: capacity)
        lastUse = .allocate(capacity: capacity)
        lastUse.initialize(repeating: 0, count: capacity)
        valid = .allocate(capacity: capacity)
        valid.initialize(repeating: false, count: capacity)
        rows = .allocate(capacity: capacity)
        for slot in 0..<capacity { (rows + slot).initialize(to: .allocate(byteCount: max(1, rowBytes), alignment: 64)) }
        var bits = 3
        while 1 << bits < 4 * capacity { bits += 1 }
        tableMask = (1 << bits) - 1
        tableShift = UInt64(64 - bits)
        tableKeys = .allocate(capacity: 1 << bits)
        tableKeys.initialize(repeating: 0, count: 1 << bits)
        tableSlots = .allocate(capacity: 1 << bits)
        tableSlots.initialize(repeating: -1, count: 1 << bits)
    }

    deinit {
        for slot in 0..<capacity { rows[slot].deallocate() }
        keys.deallocate()
        lastUse.deallocate()
        valid.deallocate()
        rows.deallocate()
        tableKeys.deallocate()
        tableSlots.deallocate()
    }

    // MARK: the hash table

    /// nil (the cval row) as Int.min, which no element or byte offset reaches.
    @inline(__always) private static func encoded(_ key: Int?) -> Int { key ?? Int.min }

    /// The key's home entry (Fibonacci hashing: row offsets are multiples of a stride).
    @inline(__always) private func home(_ key: Int) -> Int {
        if collidingForTests { return tableMask }
        return Int(truncatingIfNeeded: (UInt64(bitPattern: Int64(key)) &* 0x9E37_79B9_7F4A_7C15) >> tableShift)
    }

    /// The table entry holding `key`, or nil.
    @inline(__always) private func entry(_ key: Int) -> Int? {
        var i = home(key)
        while tableSlots[i] >= 0 {
            if tableKeys[i] == key { return i }
            i = (i &+ 1) & tableMask
        }
        return nil
    }

    private func insert(_ key: Int, slot: Int) {
        var i = home(key)
        while tableSlots[i] >= 0 { i = (i &+ 1) & tableMask }
        tableKeys[i] = key
        tableSlots[i] = slot
    }

    /// Removes `key`'s entry, moving later entries of its probe run back into the gap (so that no
    /// lookup stops early at it; no tombstones).
    private func remove(_ key: Int) {
        guard var gap = entry(key) else { return }
        var next = gap
        while true {
            next = (next &+ 1) & tableMask
            if tableSlots[next] < 0 { break }
            let wanted = home(tableKeys[next])
            // The entry at `next` may fill the gap unless its home lies cyclically in (gap, next].
            let homeAfterGap = gap <= next ? (wanted > gap && wanted <= next) : (wanted > gap || wanted <= next)
            if !homeAfterGap {
                tableKeys[gap] = tableKeys[next]
                tableSlots[gap] = tableSlots[next]
                gap = next
            }
        }
        tableSlots[gap] = -1
    }

    /// Any row's storage (for initialising pointers before the first lookup).
    var anyRow: UnsafeMutableRawPointer { rows[0] }

    /// Starts a new output row: rows looked up from now on are protected until the next tick.
    func tick() { clock += 1 }

    /// The cached row of `key`, if present (not counted as a use).
    func rowIfPresent(_ key: Int?) -> UnsafeMutableRawPointer? {
        entry(Self.encoded(key)).map { rows[tableSlots[$0]] }
    }

    /// The row of `key`: cached, or built now by `build` into the least recently used slot. With two
    /// more slots than the rows one output row reads, those are never the victim. A throwing `build`
    /// leaves the slot empty, never half-built.
    func row(_ key: Int?, build: (UnsafeMutableRawPointer) throws -> Void) rethrows -> UnsafeMutableRawPointer {
        let code = Self.encoded(key)
        if let found = entry(code) {
            let slot = tableSlots[found]
            lastUse[slot] = clock
            return rows[slot]
        }
        var victim = 0
        for slot in 0..<capacity where valid[victim] && (!valid[slot] || lastUse[slot] < lastUse[victim]) { victim = slot }
        let row = rows[victim]
        if valid[victim] { remove(Self.encoded(keys[victim])) }
        valid[victim] = false
        try build(row)
        keys[victim] = key
        lastUse[victim] = clock
        valid[victim] = true
        insert(code, slot: victim)
        return row
    }
}
