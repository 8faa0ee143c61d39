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
    ]

    /// A feedback status's name.
    static func status(_ code: String) -> String { statuses.first { $0.code == code }?.name ?? code }

    /// A theme's name (the code itself if unknown, e.g. from a newer node).
    static func theme(_ code: String) -> String { Theme(rawValue: code)?.chineseName ?? code }

    /// An audience's name.
    static func audience(_ code: String) -> String { Audience(rawValue: code)?.chineseName ?? code }

    /// What to say next to a field that failed validation; the node's English detail is kept
    /// in brackets for anything not anticipated here.
    static func fieldMessage(_ field: String, _ detail: String) -> String {
        let known: [String: String] = [
            "kind": "请选择留言类型", "department": "请选择受理部门", "about": "所涉政策或事项不存在",
            "title": "请填写标题（1-100字）", "content": "请填写内容（1-2000字）", "rating": "请选择满意度（1-5）",
            "contact": "请填写联系人和电话", "contact.name": "请填写联系人姓名（1-50字）",
            "contact.phone": "请填写有效的手机号或固定电话", "contact.email": "电子邮箱格式不正确",
            "contact.uscc": "统一社会信用代码不正确", "survey": "问卷不存在或已关闭", "answers": "问卷答案有误",
        ]
        return known[field].map { "\($0)（\(detail)）" } ?? detail
    }
}
