import TongCore

/// Something the scheduler does at a virtual instant.
enum SimEvent {
    /// Run the push state machine of `node`'s link number `link`.
    case tick(node: Int32, link: Int32)
    /// A request on that link got no answer in time.
    case timeout(node: Int32, link: Int32, request: UInt64)
    /// A message reaches its receiver.
    case deliver(SimMessage)
    /// A user writes at `node` (policy, edit, withdrawal, tagging, feedback).
    case write(node: Int32)
    /// The owner and its nearest ancestors tag one record at the same instant.
    case burst(node: Int32)
    /// `node` edits its own directory entry.
    case directoryWrite(node: Int32)
    /// `node` forges an edit of a sibling's record and pushes it (must be rejected).
    case forge(node: Int32)
    /// `node` tries to edit a non-classification field of a descendant's record (must be refused).
    case overreach(node: Int32)
    /// The machine of `node` dies (kill -9).
    case crash(node: Int32)
    /// It comes back from its durable state.
    case restart(node: Int32)
    /// The link between `node` and its parent goes down.
    case cut(node: Int32)
    /// That link comes back.
    case mend(node: Int32)
    /// `node` acknowledges feedback that arrived for its department.
    case housekeeping(node: Int32, incarnation: Int32)
    /// End of the write phase: every fault stops.
    case heal
    /// Are we quiescent yet?
    case check
}

/// One request or answer on a tree link; HTTP request/response in the real node.
struct SimMessage {
    enum Body {
        case hello
        case helloReply(Cursor?)
        case push(epoch: String, after: Int64, upto: Int64, sets: [Int32])
        case pushReply(Cursor, accepted: Bool)
    }
    var from: Int32
    var to: Int32
    /// The sender's incarnation: a crash tears down its connections, so older messages die.
    var incarnation: Int32
    var request: UInt64
    var body: Body
}
