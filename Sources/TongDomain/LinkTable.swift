import Synchronization

/// What the sync service knows of each neighbour link, for /api/v1/sync/status and /admin.
package final class LinkTable: Sendable {
    package struct Link: Sendable {
        package var connected = false
        package var lastSync: Int64?
        package var peerCursor: Int64?
        package var lastError: String?
        package var seenFromUs: UInt64?
        /// The peer said it was restored from a backup: until then (ms), send it its own sets back too.
        package var echoUntil: Int64 = 0
        /// Start the link over (hello first): the peer's state changed under us.
        package var restart = false
    }
    private let links = Mutex<[String: Link]>([:])

    package func update(_ peer: String, _ f: (inout Link) -> Void) {
        links.withLock { l in
            var x = l[peer] ?? Link(); f(&x); l[peer] = x
        }
    }

    package func get(_ peer: String) -> Link { links.withLock { $0[peer] ?? Link() } }
}
