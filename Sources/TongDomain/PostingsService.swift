import Dispatch
import Logging
import ServiceLifecycle
import TongStore

/// Seals postings segments (`PostingsSegment`) while the node runs: every
/// `PostingsService.interval`, when at least `PostingsSegment.rows` searchable rows arrived
/// above the newest segment or a write made a segment stale, it builds them one at a time on a
/// dispatch thread (about 2.5 s of a core per 16,384 policies), off the cooperative pool. While
/// writes flow it waits for a backlog (`backlogSegments`), a quiet interval, or once a minute.
/// Searches are right without it (FTS5 answers for what no ready segment covers); they are only
/// slower.
public struct PostingsService: Service {
    let node: TongNode
    /// Time between two checks for work.
    static let interval = Duration.seconds(5)

    /// A service for `node`.
    public init(node: TongNode) { self.node = node }

    /// While writes flow, segments wait until this many segments' worth of rows wait above the
    /// newest one: a node catching up on a backlog applies it first (building beside it halved
    /// `tong bench`'s apply rate, 7,543 → 3,589 records/s), and a node under a steady stream of
    /// writes still gets its segments.
    static let backlogSegments = 8

    /// While writes flow, a stale segment (and a partial backlog) is still built once per this
    /// interval: a node that never falls quiet (a steady trickle of sync) would otherwise keep
    /// answering a stale range with FTS5 for good.
    static let busyInterval = Duration.seconds(60)

    public func run() async throws {
        let node = self.node
        await cancelWhenGracefulShutdown {
            var last: Int64?
            let clock = ContinuousClock()
            var lastFull = clock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.interval)
                // Quiet: the index did not change during the last interval.
                let generation = try? node.db.searchGeneration()
                let writing = generation == nil || generation != last
                last = generation
                let full = !writing || clock.now - lastFull >= Self.busyInterval
                if full { lastFull = clock.now }
                while !Task.isCancelled, await node.buildPostingsSegment(whileWriting: !full) {}
            }
        }
    }
}

extension TongNode {
    /// Builds one postings segment if one is due, on a dispatch thread.
    /// - Returns: whether one was sealed (so another may be due). A failure is logged, not thrown:
    ///   the segments are an index FTS5 stands in for.
    /// With `whileWriting`, only when `PostingsService.backlogSegments` segments' worth of rows
    /// wait (stale segments wait for a quiet moment, or `PostingsService.busyInterval`). Each
    /// sealed segment is logged at info (`postings segment sealed`, its range, rows and time).
    package func buildPostingsSegment(whileWriting: Bool = false) async -> Bool {
        let db = self.db, logger = self.logger
        return await withCheckedContinuation { done in
            DispatchQueue.global(qos: .utility).async {
                do {
                    let rows = self.postingsSegmentRows.load(ordering: .relaxed)
                    let due =
                        whileWriting
                        ? try db.postingsPending(rows: rows * PostingsService.backlogSegments, counting: .newRowsOnly)
                        : try db.postingsPending(rows: rows)
                    guard due else { return done.resume(returning: false) }
                    let started = DispatchTime.now().uptimeNanoseconds
                    let built = try db.buildPostings(rows: rows, limit: 1) { lo, hi, count in
                        let ms = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                        logger.info(
                            "postings segment sealed",
                            metadata: [
                                "postings.lo": .stringConvertible(lo), "postings.hi": .stringConvertible(hi),
                                "postings.rows": .stringConvertible(count), "duration_ms": .stringConvertible((ms * 10).rounded() / 10),
                            ])
                    }
                    done.resume(returning: built > 0)
                } catch {
                    logger.warning("postings segment not built", metadata: ["error": .string("\(error)")])
                    done.resume(returning: false)
                }
            }
        }
    }
}
