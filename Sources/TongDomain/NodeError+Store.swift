import TongStore

extension NodeError {
    /// The domain meaning of a store error: not found, forbidden, conflict; catching up after a
    /// restore and a corrupt file are `unavailable`, a full disk is `storageFull` (the message
    /// says so in Chinese for the portal, with the store's reason).
    package init(_ e: StoreError) {
        switch e.code {
        case .notFound: self.init(.notFound, e.message)
        case .forbidden: self.init(.forbidden, e.message)
        case .conflict: self.init(.conflict, e.message)
        case .catchingUp: self.init(.unavailable, e.message)
        case .storageFull: self.init(.storageFull, "节点存储空间已满，本次提交未保存，请稍后再试（\(e.message)）")
        case .corrupt: self.init(.unavailable, "节点数据库损坏，暂停服务（\(e.message)）")
        default: self.init(.internal, e.message)
        }
    }

    /// `error` as a `NodeError` if it is one or a store error, else nil (an unexpected error).
    public static func meaning(of error: any Error) -> NodeError? {
        switch error {
        case let e as NodeError: return e
        case let e as StoreError: return NodeError(e)
        default: return nil
        }
    }
}
