/// The answer of an authority check: a value the caller must look at, not a throw.
public enum AuthorityVerdict: Sendable, Equatable {
    case allowed
    case denied(String)
}

/// Rule 5 of design.md: who may change what. Pure.
public enum Authority {
    /// Whether `origin` may make `change` in a set of `scope`.
    /// The owner may change every field of its records; an ancestor of the owner only the
    /// classification fields; for feedback the submitting node writes the sealed submission
    /// once and the department's node writes status and reply; nobody else anything.
    public static func check(_ change: Change, origin: String, scope: Scope, topology: Topology) -> AuthorityVerdict {
        guard topology.node(change.owner) != nil else { return .denied("owner \(change.owner) is not in the topology") }
        guard topology.node(origin) != nil else { return .denied("origin \(origin) is not in the topology") }
        if change.fields.keys.contains(where: { $0.isEmpty || $0.utf8.count > 64 }) { return .denied("bad field name") }
        switch change.kind {
        case .node, .department, .stats:
            guard scope == (change.kind == .stats ? .owned(change.owner) : .directory) else {
                return .denied("\(change.kind.rawValue) changes travel in the \(change.kind == .stats ? "owner" : "directory") scope")
            }
            guard origin == change.owner else { return .denied("only \(change.owner) may change its \(change.kind.rawValue) records") }
            if change.kind == .node, change.record != change.owner { return .denied("a node record's id is its node id") }
            if change.kind == .department {
                guard let d = Validation.departmentID(change.record), d.node == change.owner else {
                    return .denied("department \(change.record) does not belong to \(change.owner)")
                }
            }
            return .allowed
        case .policy, .serviceItem, .survey:
            guard scope == .owned(change.owner) else { return .denied("record of \(change.owner) in a set of another scope") }
            if let dep = change.fields["department"] {
                guard let s = dep.stringValue, let d = Validation.departmentID(s), d.node == change.owner else {
                    return .denied("department must belong to the owner \(change.owner)")
                }
            }
            if origin == change.owner { return .allowed }
            if topology.isAncestor(origin, of: change.owner) {
                let extra = Set(change.fields.keys).subtracting(change.kind.classificationFields)
                return extra.isEmpty
                    ? .allowed : .denied("ancestor \(origin) may change only themes and tags, not \(extra.sorted().joined(separator: ","))")
            }
            return .denied("\(origin) is neither the owner \(change.owner) nor its ancestor")
        case .feedback:
            guard case .route(let from, let to) = scope, from == change.owner else {
                return .denied("feedback travels in a route scope from its submitting node")
            }
            if origin == from {
                let extra = Set(change.fields.keys).subtracting(FeedbackFields.submitter)
                if extra.isEmpty {
                    if let dep = change.fields["department"] {
                        guard let s = dep.stringValue, let d = Validation.departmentID(s), d.node == to else {
                            return .denied("feedback addressed to a department of another node than the route's end")
                        }
                    }
                    return .allowed
                }
                if origin != to { return .denied("the submitting node may not write \(extra.sorted().joined(separator: ","))") }
            }
            if origin == to {
                let allowed = origin == from ? FeedbackFields.owner.union(FeedbackFields.submitter) : FeedbackFields.owner
                let extra = Set(change.fields.keys).subtracting(allowed)
                return extra.isEmpty
                    ? .allowed : .denied("the department's node may write only status and reply, not \(extra.sorted().joined(separator: ","))")
            }
            return .denied("\(origin) neither submitted nor owns the department of this feedback")
        }
    }
}
