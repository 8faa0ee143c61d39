import TongCore

/// The policy page's 适用条件 and 申报时间: who a policy is for, in plain Chinese, and when
/// it takes applications.
extension PortalSite {
    /// 适用条件: one line per eligibility condition, and a way to check one's own enterprise.
    func eligibilitySection(_ v: [String: JSONValue]) -> PortalHTML {
        let lines: [String]
        if let e = v["eligibility"], e != .null {
            if let parsed = try? Eligibility.parse(e) {
                lines = parsed.describe()
            } else {
                // Written by a newer node with conditions this one cannot read: say so rather than guess.
                lines = ["本节点暂不能解读该政策的部分适用条件，请以政策原文为准"]
            }
        } else {
            lines = []
        }
        let list: PortalHTML =
            lines.isEmpty
            ? "<p>面向所有符合本政策适用对象的企业。</p>"
            : "<ul class=\"conditions\">\(lines.map { l -> PortalHTML in "<li>\(l)</li>" })</ul>"
        return """
            <section class="eligibility"><h2>适用条件</h2>\(list)
            <p><a class="button" href="/match">用政策计算器测一测</a> <span class="meta">填写企业情况，看看是否符合条件（无需登记）</span></p></section>
            """
    }

    /// The 申报时间 row of the fields list, when the policy has an application window.
    func applyWindow(_ v: [String: JSONValue]) -> PortalHTML {
        let from = PortalSite.text(v["apply_from"]), to = PortalSite.text(v["apply_to"])
        let text: String
        switch (from.isEmpty, to.isEmpty) {
        case (true, true): return .empty
        case (false, false): text = "\(from) 至 \(to)"
        case (false, true): text = "\(from) 起"
        case (true, false): text = "截至 \(to)"
        }
        return "<dt>申报时间</dt><dd>\(text)</dd>"
    }
}
