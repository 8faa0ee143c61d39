/// How an enterprise takes up a policy; raw values are the wire names.
public enum ApplicationMode: String, CaseIterable, Sendable, Codable {
    /// 在线申报: the enterprise fills in the form and lists its materials.
    case apply
    /// 免申即享: the enterprise only confirms; everything else comes from its profile.
    case confirm

    /// The button label on a policy page.
    public var chineseName: String {
        switch self {
        case .apply: "在线申报"
        case .confirm: "确认享受"
        }
    }
}
