import Synchronization

/// What the sync service knows of each neighbour link, for /api/v1/sync/status and /admin.
final class LinkTable: Sendable {
    struct Link: Sendable {
        var connected = false
        var lastSync: Int64?
        var peerCursor: Int64?
        var lastError: String?
        var seenFromUs: UInt64?
        /// The peer said it was restored from a backup: until then (ms), send it its own sets back too.
        var echoUntil: Int64 = 0
        /// Start the link over (hello first): the peer's state changed under us.
        var restart = false
    }
    private let links = Mutex<[String: Link]>([:])

    func update(_ peer: String, _ f: (inout Link) -> Void) {
        links.withLock { l in var x = l[peer] ?? Link(); f(&x); l[peer] = x }
    }

    func get(_ peer: String) -> Link { links.withLock { $0[peer] ?? Link() } }
}
