import TongCore

/// One entry of a node's append-only change log: which set, and which neighbour sent it
/// (-1 for a local write), so a link never echoes a set back to where it came from.
struct SimLogEntry {
    var set: Int32
    var from: Int32
}

/// The volatile sending half of one link: gone after a crash.
struct SimLink {
    var session: PushSession
    var outstanding: UInt64?
    var nextTick: Int64 = .max
}

/// One virtual node. The durable part is what a committed SQLite transaction would hold; it is
/// only ever changed inside one event handler, which is the simulator's transaction, so a crash
/// between events leaves exactly the last commit. Everything marked volatile is lost on crash.
final class SimNode {
    let index: Int32
    let id: String
    /// The log epoch: stable because the simulator never restores from an old backup.
    let epoch: String
    /// Parent first (if any), then children sorted by id.
    let neighbors: [Int32]
    let parent: Int32

    // MARK: durable
    var records: [String: RecordState] = [:]
    /// Highest counter applied from each origin (the store's `origin_seen`).
    var seen: [String: UInt64] = [:]
    /// Record ids in the order they arrived, for reproducible random picks (dictionary order is per process).
    var held: [String] = []
    var log: [SimLogEntry] = []
    var logged: Set<Int32> = []
    /// What we applied of each neighbour's log, keyed by the neighbour's index.
    var cursors: [Int32: Cursor] = [:]
    var counter: UInt64 = 0
    /// Feedback addressed to our department still without a status: the real node's query
    /// `status IS NULL`, kept as an index so housekeeping does not scan every record.
    var pendingAck: [String] = []
    /// Policies we created, for edits and withdrawals.
    var own: [String] = []

    // MARK: volatile
    var up = true
    var incarnation: Int32 = 0
    var links: [SimLink]

    /// Pure cache of `Scope.isHeld(by: self)` per interned scope; derived from the topology only.
    var heldMemo: [Int32: Bool] = [:]

    init(index: Int32, id: String, parent: Int32, neighbors: [Int32]) {
        self.index = index
        self.id = id
        self.parent = parent
        self.neighbors = neighbors
        epoch = "e\(id)"
        links = []
        links = freshLinks()
    }

    /// Link state as a freshly started process has it.
    func freshLinks() -> [SimLink] {
        neighbors.map { _ in SimLink(session: PushSession(epoch: epoch, idleInterval: 5_000, maxBackoff: 10_000)) }
    }

    /// Position of `peer` among our neighbours.
    func link(to peer: Int32) -> Int? { neighbors.firstIndex(of: peer) }
}
