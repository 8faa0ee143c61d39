import TongCore
import TongDomain

/// Chinese labels for codes the portal shows, and Chinese messages for validation failures.
enum PortalText {
    /// Feedback kinds (互动通 forms) in tab order.
    static let kinds: [(code: String, name: String)] = [
        ("suggestion", "建议"), ("consultation", "咨询"), ("complaint", "投诉"), ("evaluation", "评价"),
    ]

    /// A feedback kind's name.
    static func kind(_ code: String) -> String {
        code == "survey" ? "问卷" : kinds.first { $0.code == code }?.name ?? code
    }

    /// Ratings, best first.
    static let ratings: [(value: Int, name: String)] = [(5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意")]

    /// Feedback statuses in workflow order.
    static let statuses: [(code: String, name: String)] = [
        ("submitted", "已提交"), ("delivered", "已送达"), ("replied", "已答复"), ("closed", "已办结"), ("undeliverable", "无法送达"),
        ("transferred", "已转办"),
    ]

    /// A feedback status's name.
    static func status(_ code: String) -> String { statuses.first { $0.code == code }?.name ?? code }

    /// A theme's name (the code itself if unknown, e.g. from a newer node).
    static func theme(_ code: String) -> String { Theme(rawValue: code)?.chineseName ?? code }

    /// An audience's name.
    static func audience(_ code: String) -> String { Audience(rawValue: code)?.chineseName ?? code }

    /// What to say next to a field that failed validation, in Chinese only: the node's English
    /// detail (e.g. "must not be blank") is for the API and the logs, never for the page.
    static func fieldMessage(_ field: String, _ detail: String) -> String {
        let known: [String: String] = [
            "kind": "请选择留言类型", "department": "请选择受理部门", "about": "所涉政策或事项不存在",
            "title": "请填写标题（1-100字）", "content": "请填写内容（1-2000字）", "rating": "请选择满意度（1-5）",
            "contact": "请填写联系人和电话", "contact.name": "请填写联系人姓名（1-50字）",
            "contact.phone": "请填写有效的手机号或固定电话", "contact.email": "电子邮箱格式不正确",
            "contact.uscc": "统一社会信用代码不正确", "survey": "问卷不存在或已关闭", "answers": "问卷答案有误",
            "once": "该表单已提交过；如需再次提交，请重新填写。", "Idempotency-Key": "该表单已提交过；如需再次提交，请重新填写。",
        ]
        if let m = known[field] { return m }
        return containsChinese(detail) ? detail : "填写有误，请检查后重新提交"
    }

    /// Why a received change set was refused, in Chinese (the node's English reason stays in the
    /// logs, `tong status` and the API; the page keeps it only as a tooltip for operators).
    static func rejection(_ reason: String) -> String {
        let r = reason.lowercased()
        let known: [(String, String)] = [
            ("bad signature", "签名校验失败"), ("revoked", "来源证书已吊销"), ("certificate", "来源证书不可信或不符"),
            ("in the future", "签名时间超前"), ("counter", "版本计数异常（重放或伪造）"), ("content:", "内容不符合字段规则"),
            ("scope", "传播范围不符"), ("may", "越权修改"), ("topology", "来源节点不在拓扑中"), ("p-256", "密钥类型不符"),
        ]
        return known.first { r.contains($0.0) }?.1 ?? "校验未通过"
    }

    /// Whether `s` has a CJK ideograph: a message meant for people rather than the API.
    static func containsChinese(_ s: String) -> Bool { s.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } }

    /// A refusal explained in Chinese: the node's own message when it is Chinese, else one
    /// sentence per status (the English detail stays in the API's problem documents).
    static func problemMessage(status: Int, detail: String) -> String {
        if containsChinese(detail) { return detail }
        switch status {
        case 400: return "请求格式有误。"
        case 401: return "请先登录后再操作。"
        case 403: return "您无权进行此操作。"
        case 404: return "未找到您要访问的内容，请检查链接是否正确。"
        case 409: return "操作与当前状态冲突，请刷新页面后重试。"
        case 413: return "提交内容过大。"
        case 415: return "提交方式不受支持。"
        case 422: return "填写有误，请检查后重新提交。"
        case 503: return "本节点暂时无法处理，请稍后再试。"
        case 507: return "本节点存储空间不足，请稍后再试。"
        default: return "处理出错，请稍后再试。"
        }
    }
}
