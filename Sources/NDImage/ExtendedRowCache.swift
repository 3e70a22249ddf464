// The per-thread cache of extended input rows that both row drivers keep (RowKernelRun and the window
// strategies' WindowReductionJob): a few rows, each an input row extended along the last axis through
// the boundary mode, found by the input row they came from and replaced least recently used first.

/// Extended rows keyed by their input row (a byte or element offset; nil: the row of cval), least
/// recently used replaced first. Unsafe storage, not arrays: arrays in a class pay exclusivity checks
/// on every access, which cost more than the row passes for small windows.
final class ExtendedRowCache {
    let capacity: Int
    private let keys: UnsafeMutablePointer<Int?>
    private let lastUse: UnsafeMutablePointer<Int>
    private let valid: UnsafeMutablePointer<Bool>
    private let rows: UnsafeMutablePointer<UnsafeMutableRawPointer>
    /// Advanced once per output row (`tick`); rows used at the current tick are never replaced.
    private(set) var clock = 0

    /// `capacity` rows of `rowBytes` bytes each (at least one byte), 64-byte aligned.
    init(capacity: Int, rowBytes: Int) {
        self.capacity = capacity
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: nil, count: capacity)
        lastUse = .allocate(capacity: capacity)
        lastUse.initialize(repeating: 0, count: capacity)
        valid = .allocate(capacity: capacity)
        valid.initialize(repeating: false, count: capacity)
        rows = .allocate(capacity: capacity)
        for slot in 0..<capacity { (rows + slot).initialize(to: .allocate(byteCount: max(1, rowBytes), alignment: 64)) }
    }

    deinit {
        for slot in 0..<capacity { rows[slot].deallocate() }
        keys.deallocate()
        lastUse.deallocate()
        valid.deallocate()
        rows.deallocate()
    }

    /// Any row's storage (for initialising pointers before the first lookup).
    var anyRow: UnsafeMutableRawPointer { rows[0] }

    /// Starts a new output row: rows looked up from now on are protected until the next tick.
    func tick() { clock += 1 }

    /// The cached row of `key`, if present (not counted as a use).
    func rowIfPresent(_ key: Int?) -> UnsafeMutableRawPointer? {
        for slot in 0..<capacity where valid[slot] && keys[slot] == key { return rows[slot] }
        return nil
    }

    /// The row of `key`: cached, or built now by `build` into the least recently used slot. With two
    /// more slots than the rows one output row reads, those are never the victim. A throwing `build`
    /// leaves the slot empty, never half-built.
    func row(_ key: Int?, build: (UnsafeMutableRawPointer) throws -> Void) rethrows -> UnsafeMutableRawPointer {
        var victim = 0
        for slot in 0..<capacity {
            if valid[slot] && keys[slot] == key {
                lastUse[slot] = clock
                return rows[slot]
            }
            if valid[victim] && (!valid[slot] || lastUse[slot] < lastUse[victim]) { victim = slot }
        }
        let row = rows[victim]
        valid[victim] = false
        try build(row)
        keys[victim] = key
        lastUse[victim] = clock
        valid[victim] = true
        return row
    }
}
