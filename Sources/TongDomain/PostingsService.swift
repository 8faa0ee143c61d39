import Dispatch
import Logging
import ServiceLifecycle
import TongStore

/// Seals postings segments (`PostingsSegment`) while the node runs: every
/// `PostingsService.interval`, when at least `PostingsSegment.rows` searchable rows arrived
/// above the newest segment or a write made a segment stale, it builds them one at a time on a
/// dispatch thread (about 1 s of a core per 16,384 policies), off the cooperative pool.
/// Searches are right without it (FTS5 answers for what no ready segment covers); they are only
/// slower.
public struct PostingsService: Service {
    let node: TongNode
    /// Time between two checks for work.
    static let interval = Duration.seconds(5)

    /// A service for `node`.
    public init(node: TongNode) { self.node = node }

    public func run() async throws {
        let node = self.node
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.interval)
                while !Task.isCancelled, await node.buildPostingsSegment() {}
            }
        }
    }
}

extension TongNode {
    /// Builds one postings segment if one is due, on a dispatch thread.
    /// - Returns: whether one was sealed (so another may be due). A failure is logged, not thrown:
    ///   the segments are an index FTS5 stands in for.
    package func buildPostingsSegment() async -> Bool {
        let db = self.db, logger = self.logger
        return await withCheckedContinuation { done in
            DispatchQueue.global(qos: .utility).async {
                do {
                    let rows = self.postingsSegmentRows.load(ordering: .relaxed)
                    guard try db.postingsPending(rows: rows) else { return done.resume(returning: false) }
                    let built = try db.buildPostings(rows: rows, limit: 1)
                    done.resume(returning: built > 0)
                } catch {
                    logger.warning("postings segment not built", metadata: ["error": .string("\(error)")])
                    done.resume(returning: false)
                }
            }
        }
    }
}
