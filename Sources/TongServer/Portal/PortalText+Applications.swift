import Foundation
import TongCore

/// Labels for the 办理 pages (申报, 回执, 办理申请, 督查).
extension PortalText {
    /// Who made a move, as the timeline names them.
    static func actor(_ code: String) -> String {
        switch code {
        case "department": "受理部门"
        case "applicant": "申请企业"
        case "system": "系统"
        default: code
        }
    }

    /// An application status's name (the code itself if unknown, e.g. from a newer node).
    static func applicationStatus(_ code: String) -> String { ApplicationStatus(rawValue: code)?.chineseName ?? code }

    /// The department's moves in the order the desk offers them, with the button's words.
    static let decisions: [(status: ApplicationStatus, verb: String)] = [
        (.accepted, "受理"), (.returned, "退回补正"), (.approved, "审核通过"), (.rejected, "不予通过"), (.paid, "兑付"),
    ]

    /// What the desk says after a move succeeded (the redirect carries only the status code).
    static func decided(_ code: String) -> String? {
        guard let s = ApplicationStatus(rawValue: code), decisions.contains(where: { $0.status == s }) else { return nil }
        return "已办理：\(s.chineseName)。"
    }

    /// An application's mode: 在线申报, or 免申即享 for `confirm`.
    static func mode(_ code: String) -> String { code == ApplicationMode.confirm.rawValue ? "免申即享" : "在线申报" }

    /// `2026-01-05 14:03` in Beijing time for an ISO 8601 instant (`2026-01-05T06:03:00.000Z`);
    /// the text itself when it does not parse, `—` when empty.
    static func beijingTime(iso: String) -> String {
        guard !iso.isEmpty else { return "—" }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var date = f.date(from: iso)
        if date == nil {
            f.formatOptions = [.withInternetDateTime]
            date = f.date(from: iso)
        }
        guard let date else { return iso }
        return beijingTime(ms: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// A ratio as a percentage with one decimal, `—` when there is nothing to divide.
    static func percent(_ part: Int64, of whole: Int64) -> String {
        guard whole > 0 else { return "—" }
        return String(format: "%.1f%%", Double(part) * 100 / Double(whole))
    }
}
