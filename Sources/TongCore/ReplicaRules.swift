/// The decisions every replica makes, as pure functions over the records they touch: a local
/// write, admitting and merging a received change set, choosing what a neighbour lacks, and
/// acknowledging feedback that reached its department. The SQLite store executes them against
/// its tables; the simulator (`tong simulate`) executes the very same functions against its
/// in-memory nodes, so what the simulator proves is the code that runs.
///
/// Records are read through a `load` closure (the store reads a row, the simulator a
/// dictionary); nothing here reads a clock, a disk or the network.
public struct ReplicaRules: Sendable {
    /// Whether a received set's content (shape, scope, rule 5 authority) is checked before it is
    /// merged. Always true in a node; false only to prove that the simulator catches a broken apply.
    public var checksContent: Bool

    /// The rules every node runs.
    public static let standard = ReplicaRules(checksContent: true)

    /// Rules with a chosen defect (tests of the simulator only).
    public init(checksContent: Bool) { self.checksContent = checksContent }

    // MARK: - Local writes

    /// Why a local write was refused. Nothing of the batch may be written after one.
    public enum WriteRefusal: Error, Sendable, Equatable {
        /// A write to an id that must exist, and does not here.
        case notFound(String)
        /// The id names a record of another kind or owner, or a fresh id is taken.
        case conflict(String)
        /// Rule 5: this node may not change that field of that record.
        case forbidden(String)
    }

    /// What a batch of local writes produces: the new state of every record it touched (in
    /// first-touch order), the changes grouped into sets (one per run of equal scope, at most
    /// `ChangeSet.maxChanges` each), and the node's counter after it.
    public struct WritePlan: Sendable {
        /// Each touched record's id, its state after the batch, and whether it existed before.
        public var records: [(id: String, state: RecordState, existed: Bool)]
        /// The state after each write, in request order (what the API answers).
        public var results: [RecordState]
        /// Changes to sign, grouped by scope.
        public var batches: [(scope: Scope, changes: [Change])]
        /// The highest counter handed out.
        public var counter: UInt64
    }

    /// Plans local writes of node `origin`: each write gets the next counter, its context is the
    /// record's current version, rule 5 is checked, and it is merged like any received change.
    /// A new record's id is `<owner>-<kind prefix><counter>`.
    /// - Throws: `WriteRefusal` (nothing is to be written), or what `load` throws.
    public func planWrite(
        _ writes: [LocalWrite], origin: String, counter start: UInt64, at now: Int64, topology: Topology,
        load: (String) throws -> RecordState?
    ) throws -> WritePlan {
        var counter = start
        var staged: [String: Int] = [:]
        var records: [(id: String, state: RecordState, existed: Bool)] = []
        var results: [RecordState] = []
        var batches: [(scope: Scope, changes: [Change])] = []
        for w in writes {
            counter += 1
            let id: String
            let existing: RecordState?
            if let given = w.id {
                id = given
                existing = try staged[given].map { records[$0].state } ?? load(given)
                if existing == nil, w.mustExist { throw WriteRefusal.notFound("no \(w.kind.rawValue) \(given) here") }
            } else {
                id = "\(w.owner)-\(w.kind.idPrefix)\(counter)"
                existing = try staged[id].map { records[$0].state } ?? load(id)
                // A fresh counter names a fresh record; anything already there was not made here.
                if existing != nil { throw WriteRefusal.conflict("record \(id) already exists; refusing to merge into it") }
            }
            if let e = existing, e.kind != w.kind || e.owner != w.owner {
                throw WriteRefusal.conflict("record \(id) is a \(e.kind.rawValue) owned by \(e.owner)")
            }
            var state = existing ?? RecordState(id: id, kind: w.kind, owner: w.owner)
            let change = Change(record: id, kind: w.kind, owner: w.owner, counter: counter, at: now, context: state.version, fields: w.fields)
            if case .denied(let why) = Authority.check(change, origin: origin, scope: w.scope, topology: topology) {
                throw WriteRefusal.forbidden(why)
            }
            state.apply(change, origin: origin)
            if let k = staged[id] {
                records[k].state = state
            } else {
                staged[id] = records.count
                records.append((id, state, existing != nil))
            }
            results.append(state)
            if let last = batches.indices.last, batches[last].scope == w.scope, batches[last].changes.count < ChangeSet.maxChanges {
                batches[last].changes.append(change)
            } else {
                batches.append((w.scope, [change]))
            }
        }
        return WritePlan(records: records, results: results, batches: batches, counter: counter)
    }

    // MARK: - Received sets

    /// What applying one received, signature-verified set does.
    public enum SetOutcome: Sendable {
        /// Merge these states (first-touch order; ids already holding every dot of the set are
        /// left out); `maxCounter` is the highest counter of the origin the set carried.
        case apply(records: [(id: String, state: RecordState, existed: Bool)], maxCounter: UInt64)
        /// Reject the whole set, for this reason; nothing of it is written.
        case reject(String)
    }

    /// Whether a set may be merged at `receiver` at all: its content (shape, scope, and rule 5
    /// for every change) and whether its scope belongs at the receiver (rule 3).
    public func admit(_ set: ChangeSet, at receiver: String, topology: Topology) -> ChangeSetVerdict {
        if checksContent {
            if case .rejected(let why) = ChangeSetVerifier.checkContent(set, topology: topology) { return .rejected(why) }
            // The same field rules as a local write: nothing a peer sends is trusted to be well-formed.
            for c in set.changes {
                if let why = ChangeContent.refusal(c) { return .rejected("content: \(why) (record \(c.record))") }
            }
        }
        guard set.scope.isHeld(by: receiver, in: topology) else {
            return .rejected("set of scope \(set.scope.key) does not belong at node \(receiver)")
        }
        return .accepted
    }

    /// Admits and merges a received set in memory: whole or not at all. A set that contradicts a
    /// stored record's kind or owner, or creates a record at its owner in another node's name,
    /// is rejected; changes already applied (same dot) are skipped (idempotence).
    /// - Throws: only what `load` throws.
    /// The highest counter a set may carry: 2^40 (about 1.1 × 10^12). A node writing 1,000
    /// changes a second without pause needs 35 years to reach it, so no honest node does; a
    /// counter above it can only push an origin's counters out of reach of its genuine writes.
    public static let maxCounter: UInt64 = 1 << 40
    /// How far one set may jump above the highest counter already applied from its origin:
    /// 2^32 (4.3 × 10^9), more than any node writes between two sets that reach a neighbour
    /// (sets travel within seconds; a year of 100 writes a second is 3.2 × 10^9).
    public static let maxJump: UInt64 = 1 << 32

    /// Whether a set's counters may follow what was applied from its origin here (`seen`, the
    /// highest counter applied from it; nil if none). Along the tree's single path an origin's
    /// sets arrive in the order it made them, so a new set never carries a counter at or below
    /// one already applied: that is a replay or an equivocation (two different sets claiming one
    /// counter). A node's own sets coming back after a restore are exempt.
    public func checkCounters(_ set: ChangeSet, at receiver: String, seen: UInt64?) -> ChangeSetVerdict {
        guard let first = set.changes.first?.counter, let last = set.changes.last?.counter else { return .accepted }
        if last > Self.maxCounter { return .rejected("counter \(last) of \(set.origin) is beyond any honest node's (\(Self.maxCounter))") }
        guard set.origin != receiver, let seen else { return .accepted }
        if first <= seen {
            return .rejected("counter \(first) of \(set.origin) is not above \(seen), already applied from it: a replay or an equivocation")
        }
        if last - seen > Self.maxJump { return .rejected("counter \(last) of \(set.origin) jumps \(last - seen) above \(seen), implausibly") }
        return .accepted
    }

    public func planApply(
        _ set: ChangeSet, at receiver: String, topology: Topology, seen: UInt64? = nil, admitted: ChangeSetVerdict? = nil,
        load: (String) throws -> RecordState?
    ) rethrows -> SetOutcome {
        // `admitted`: `admit` of this set, receiver and topology, computed ahead (it is pure:
        // the store runs it for a whole push on both cores before its write transaction).
        if case .rejected(let why) = admitted ?? admit(set, at: receiver, topology: topology) { return .reject(why) }
        if checksContent, case .rejected(let why) = checkCounters(set, at: receiver, seen: seen) { return .reject(why) }
        var staged: [String: Int] = [:]
        var records: [(id: String, state: RecordState, existed: Bool)] = []
        var maxCounter: UInt64 = 0
        for c in set.changes {
            let current: RecordState?
            if let k = staged[c.record] { current = records[k].state } else { current = try load(c.record) }
            // Only the owner creates its records. Elsewhere an edit may overtake a creation after a
            // restore and is kept (invisible until the creation arrives); at the owner itself a
            // record it never made can only be forged, and would squat on an id it will hand out.
            if current == nil, set.origin != c.owner, c.owner == receiver, c.kind != .feedback {
                return .reject("\(set.origin) tried to create \(c.record) in the name of its owner \(c.owner)")
            }
            // Every id carries its owner (`<owner>`, or `<owner>-…`): a record named with another
            // node's prefix would squat on ids that node hands out.
            if c.record != c.owner, !c.record.hasPrefix(c.owner + "-") {
                return .reject("record \(c.record) does not carry its owner \(c.owner)'s prefix")
            }
            if let e = current, e.kind != c.kind || e.owner != c.owner {
                return .reject("record \(c.record) is a \(e.kind.rawValue) of \(e.owner), change says \(c.kind.rawValue) of \(c.owner)")
            }
            var state = current ?? RecordState(id: c.record, kind: c.kind, owner: c.owner)
            if state.hasApplied(Dot(node: set.origin, counter: c.counter)) { continue }
            state.apply(c, origin: set.origin)
            if let k = staged[c.record] {
                records[k].state = state
            } else {
                staged[c.record] = records.count
                records.append((c.record, state, current != nil))
            }
            maxCounter = max(maxCounter, c.counter)
        }
        return .apply(records: records, maxCounter: maxCounter)
    }

    // MARK: - What a neighbour lacks

    /// Whether a change-log entry goes to `peer`: its scope is held there (rule 3), and it did
    /// not come from that peer, unless the peer lost state and needs its own sets back (`echo`).
    public func sends(scope: Scope, receivedFrom: String?, to peer: String, topology: Topology, echo: Bool = false) -> Bool {
        scope.isHeld(by: peer, in: topology) && (receivedFrom != peer || echo)
    }

    // MARK: - Feedback reaching its department

    /// Whether `state` is feedback that reached the node owning its department and has no
    /// status yet: the node must acknowledge it (`delivered`, or `undeliverable`).
    public func awaitsAcknowledgement(_ state: RecordState, at node: String) -> Bool {
        guard state.kind == .feedback, state["status"] == nil, let d = state["department"]?.stringValue,
            Validation.departmentID(d)?.node == node
        else { return false }
        return true
    }

    /// The write that acknowledges one arrived feedback record at its department's node: it
    /// travels back along the route to where the feedback was submitted.
    public func acknowledgement(of state: RecordState, at node: String, fields: [String: JSONValue]) -> LocalWrite {
        LocalWrite(id: state.id, kind: .feedback, owner: state.owner, scope: .route(from: state.owner, to: node), fields: fields)
    }
}
