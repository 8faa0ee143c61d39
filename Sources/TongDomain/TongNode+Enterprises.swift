import Crypto
import Foundation
import TongCore
import TongStore

/// Enterprises (送达): profiles registered here and kept here, the policy calculator, matches
/// and deliveries. A profile never enters a change set (PIPL; domain.md).
extension TongNode {
    /// Registers an enterprise at this node.
    ///
    /// Body: `uscc`, `name`, `region`, `industry`, `employees`, `revenue_wan`, `assets_wan`
    /// (万元, integers), `established_on`, `taxpayer`, `contact` (`name`, `phone`, `email`?),
    /// `webhook` (`url`)?. The size class is computed (工信部联企业〔2011〕300号).
    /// - Returns: the profile, plus `token` (the enterprise's bearer secret, shown once) and
    ///   `webhook_secret` (Standard Webhooks `whsec_…`) when a webhook was given.
    /// - Throws: `NodeError.invalid` (422) with per-field Chinese messages; `.conflict` (409) if
    ///   the USCC is already registered here.
    public func registerEnterprise(_ body: JSONValue) throws -> JSONValue {
        let input = try EnterpriseInput.parse(body, partial: false, node: id, webhookAllow: config.webhookAllow)
        let token = Self.randomHex(24)
        let now = Self.now()
        let secret = input.webhookURL.map { _ in Self.newWebhookSecret() }
        let row = EnterpriseRow(
            id: "\(id)-ent-\(Self.randomHex(6))", uscc: input.uscc!, tokenHash: Self.receiptHash(token), name: input.name!,
            region: input.region!, industry: input.industry!, employees: input.employees!, revenueWan: input.revenueWan!,
            assetsWan: input.assetsWan!, establishedOn: input.establishedOn!, taxpayer: input.taxpayer!,
            sizeClass: input.sizeClass!.rawValue, contact: input.contact!, webhookURL: input.webhookURL, webhookSecret: secret,
            createdAt: now, updatedAt: now)
        do { try db.register(row) } catch let e as StoreError where e.code == .conflict { throw NodeError.conflict(e.message) }
        logger.info("enterprise registered", metadata: ["enterprise.id": .string(row.id)])
        var o = Self.enterpriseJSON(row).objectValue ?? [:]
        o["token"] = .string(token)
        if let secret { o["webhook_secret"] = .string(secret) }
        return .object(o)
    }

    /// The profile of enterprise `enterpriseID`, if `token` is its token.
    /// - Throws: `.unauthorized` (401) without a token or with one no enterprise here holds (the
    ///   contract's "wrong or missing token"); `.forbidden` (403) for another enterprise's token,
    ///   whether `enterpriseID` exists or not, so a token holder cannot probe which ids do.
    public func enterprise(_ enterpriseID: String, token: String?) throws -> EnterpriseRow {
        guard let token, !token.isEmpty else { throw NodeError.unauthorized("需要企业令牌（Authorization: Bearer …）") }
        // The hash, not the token, is looked up: SQLite's comparison time says nothing of the token.
        guard let row = try db.enterprise(tokenHash: Self.receiptHash(token)) else { throw NodeError.unauthorized("企业令牌无效") }
        guard row.id == enterpriseID else { throw NodeError.forbidden("令牌与该企业不符") }
        return row
    }

    /// Changes a profile (any field but `uscc`); the size class is recomputed.
    /// - Throws: as `enterprise(_:token:)`, and `.invalid` (422) for bad fields.
    public func patchEnterprise(_ enterpriseID: String, token: String?, body: JSONValue) throws -> EnterpriseRow {
        var row = try enterprise(enterpriseID, token: token)
        let input = try EnterpriseInput.parse(body, partial: true, node: id, webhookAllow: config.webhookAllow)
        if input.uscc != nil, input.uscc != row.uscc { throw NodeError.invalid("统一社会信用代码不能修改", fields: ["uscc": "不能修改"]) }
        if let v = input.name { row.name = v }
        if let v = input.region { row.region = v }
        if let v = input.industry { row.industry = v }
        if let v = input.employees { row.employees = v }
        if let v = input.revenueWan { row.revenueWan = v }
        if let v = input.assetsWan { row.assetsWan = v }
        if let v = input.establishedOn { row.establishedOn = v }
        if let v = input.taxpayer { row.taxpayer = v }
        if let v = input.contact { row.contact = v }
        if input.removeWebhook { row.webhookURL = nil; row.webhookSecret = nil }
        if let v = input.webhookURL {
            if row.webhookURL != v || row.webhookSecret == nil { row.webhookSecret = Self.newWebhookSecret() }
            row.webhookURL = v
        }
        row.sizeClass =
            EnterpriseSize.classify(
                industry: IndustryCode(row.industry)!, employees: row.employees, revenueWan: Double(row.revenueWan),
                assetsWan: Double(row.assetsWan)
            ).rawValue
        row.updatedAt = Self.now()
        try db.update(row)
        return row
    }

    /// The policies and service items held here that fit `profile` (`items`, newest first, at
    /// most `limit`) and those that miss by exactly one condition (`near`), each with the reason
    /// per condition in Chinese.
    public func matches(for profile: EnterpriseProfile, limit: Int = 100) throws -> JSONValue {
        guard let today = SimpleDate(beijingMillis: Self.now()) else { return ["items": [], "near": []] }
        var fits: [(issued: String, item: JSONValue)] = []
        var near: [(issued: String, item: JSONValue)] = []
        var total = 0, nearTotal = 0
        for kind in [RecordKind.policy, .serviceItem] {
            for r in try db.records(kind: kind, limit: 1_000_000) {
                let v = r.state.values
                let eligibility: Eligibility
                if let e = v["eligibility"], e != .null {
                    guard let parsed = try? Eligibility.parse(e) else { continue }
                    eligibility = parsed
                } else {
                    eligibility = Eligibility()
                }
                let result = Matching.evaluate(
                    profile: profile, eligibility: eligibility,
                    audiences: (v["audiences"]?.stringArray ?? []).compactMap(Audience.init(rawValue:)), status: v["status"]?.stringValue,
                    effectiveFrom: v["effective_from"]?.stringValue.flatMap(SimpleDate.init),
                    effectiveTo: v["effective_to"]?.stringValue.flatMap(SimpleDate.init), today: today)
                guard result.verdict != .fails else { continue }
                let item: JSONValue = [
                    "id": .string(r.state.id), "kind": .string(kind.rawValue),
                    "title": v["title"] ?? v["name"] ?? .string(r.state.id), "department": v["department"] ?? .null,
                    "doc_number": v["doc_number"] ?? .null, "reasons": .array(result.reasons.map(\.json)),
                ]
                let issued = v["issued_on"]?.stringValue ?? ""
                if result.verdict == .fits { fits.append((issued, item)); total += 1 } else { near.append((issued, item)); nearTotal += 1 }
            }
        }
        fits.sort { $0.issued > $1.issued }
        near.sort { $0.issued > $1.issued }
        return [
            "total": .int(Int64(total)), "near_total": .int(Int64(nearTotal)),
            "items": .array(fits.prefix(limit).map(\.item)), "near": .array(near.prefix(limit).map(\.item)),
        ]
    }

    /// The policy calculator (政策计算器): matches a profile given in the body; nothing is stored.
    /// The body takes the registration fields, all optional but `region` and `industry`, and
    /// `size_class` may be given instead of employees, revenue and assets.
    /// - Throws: `.invalid` (422) for bad fields.
    public func calculate(_ body: JSONValue) throws -> JSONValue {
        let input = try EnterpriseInput.parse(body, partial: true, node: id, webhookAllow: [], anonymous: true)
        var problems: [String: String] = [:]
        if input.region == nil { problems["region"] = "必填" }
        if input.industry == nil { problems["industry"] = "必填" }
        if !problems.isEmpty { throw NodeError.invalid("请填写注册地和所属行业", fields: problems) }
        var result = try matches(for: input.profile).objectValue ?? [:]
        if let s = input.sizeClass { result["size_class"] = .string(s.rawValue) }
        return .object(result)
    }

    /// An enterprise's deliveries, newest first.
    public func deliveries(of enterpriseID: String, token: String?, limit: Int = 100) throws -> [DeliveryRow] {
        _ = try enterprise(enterpriseID, token: token)
        return try db.deliveries(enterprise: enterpriseID, limit: limit)
    }

    /// A profile as the API shows it (never the token hash nor the webhook secret).
    public static func enterpriseJSON(_ r: EnterpriseRow) -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(r.id), "uscc": .string(r.uscc), "name": .string(r.name), "region": .string(r.region),
            "industry": .string(r.industry), "employees": .int(Int64(r.employees)), "revenue_wan": .int(Int64(r.revenueWan)),
            "assets_wan": .int(Int64(r.assetsWan)), "established_on": .string(r.establishedOn), "taxpayer": .string(r.taxpayer),
            "size_class": .string(r.sizeClass), "contact": r.contact, "created_at": .string(iso8601(ms: r.createdAt)),
            "updated_at": .string(iso8601(ms: r.updatedAt)),
        ]
        if let entity = USCC.entityKind(of: r.uscc) as USCCEntityKind? { o["entity"] = .string(entity.rawValue) }
        if let audience = r.profile.audience { o["audience"] = .string(audience.rawValue) }
        if let u = r.webhookURL { o["webhook"] = ["url": .string(u)] }
        return .object(o)
    }

    /// A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64.
    static func newWebhookSecret() -> String {
        var g = SystemRandomNumberGenerator()
        return "whsec_" + Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }).base64EncodedString()
    }
}

/// The fields of an enterprise profile as the API takes them, validated.
struct EnterpriseInput {
    var uscc: String?
    var name: String?
    var region: String?
    var industry: String?
    var employees: Int?
    var revenueWan: Int?
    var assetsWan: Int?
    var establishedOn: String?
    var taxpayer: String?
    var contact: JSONValue?
    var webhookURL: String?
    var removeWebhook = false
    var sizeClass: SizeClass?

    /// What matching sees of it.
    var profile: EnterpriseProfile {
        EnterpriseProfile(
            uscc: uscc, region: region, industry: industry.flatMap(IndustryCode.init), sizeClass: sizeClass, employees: employees,
            revenueWan: revenueWan.map(Double.init), assetsWan: assetsWan.map(Double.init),
            establishedOn: establishedOn.flatMap(SimpleDate.init), taxpayer: taxpayer.flatMap(TaxpayerType.init(rawValue:)))
    }

    static let keys: Set<String> = [
        "uscc", "name", "region", "industry", "employees", "revenue_wan", "assets_wan", "established_on", "taxpayer", "contact",
        "webhook", "size_class",
    ]

    /// Validates a registration (`partial == false`: every field but `webhook` required), a
    /// patch, or the calculator's profile (`anonymous`: no identity, contact or webhook).
    /// - Throws: `NodeError.invalid` with a Chinese message per field.
    static func parse(_ body: JSONValue, partial: Bool, node: String, webhookAllow: [String], anonymous: Bool = false) throws -> EnterpriseInput {
        guard case .object(let o) = body else { throw NodeError.invalid("请求体须为 JSON 对象") }
        var p: [String: String] = [:]
        var x = EnterpriseInput()
        for k in o.keys where !keys.contains(k) { p[k] = "不是企业信息的字段" }
        func int(_ k: String, max: Int) -> Int? {
            guard let v = o[k], v != .null else { return nil }
            guard let i = v.intValue, i >= 0, i <= max else { p[k] = "须为 0 到 \(max) 之间的整数"; return nil }
            return Int(i)
        }
        if let v = o["uscc"], !anonymous {
            switch v.stringValue.map(USCC.validate) {
            case .success(let code)?: x.uscc = code.description
            case .failure(let problem)?: p["uscc"] = problem.detail
            case nil: p["uscc"] = "须为字符串"
            }
        }
        if let v = o["name"], !anonymous {
            if let s = v.stringValue, let issue = Validation.text(s, field: "name", min: 1, max: 100) {
                p["name"] = issue.message
            } else if let s = v.stringValue {
                x.name = s
            } else {
                p["name"] = "须为字符串"
            }
        }
        if let v = o["region"] {
            if let s = v.stringValue, Validation.divisionCode(s) {
                if !anonymous, !Division.covers(node, s) { p["region"] = "本节点（\(node)）只登记本辖区的企业" } else { x.region = s }
            } else {
                p["region"] = "须为六位行政区划代码，如 330106"
            }
        }
        if let v = o["industry"] {
            if let s = v.stringValue, IndustryCode(s) != nil { x.industry = s } else { p["industry"] = "须为国民经济行业分类代码（GB/T 4754-2017），如 H62、F5211" }
        }
        x.employees = int("employees", max: 10_000_000)
        x.revenueWan = int("revenue_wan", max: 1_000_000_000)
        x.assetsWan = int("assets_wan", max: 1_000_000_000)
        if let v = o["established_on"] {
            if let s = v.stringValue, SimpleDate(s) != nil { x.establishedOn = s } else { p["established_on"] = "须为日期 YYYY-MM-DD" }
        }
        if let v = o["taxpayer"] {
            if let s = v.stringValue, TaxpayerType(rawValue: s) != nil {
                x.taxpayer = s
            } else {
                p["taxpayer"] = "须为 small_scale（小规模纳税人）或 general（一般纳税人）"
            }
        }
        if let v = o["contact"], !anonymous {
            let name = v["name"]?.stringValue, phone = v["phone"]?.stringValue, email = v["email"]?.stringValue
            if name == nil || Validation.text(name!, field: "contact.name", min: 1, max: 50) != nil {
                p["contact.name"] = "联系人姓名须为 1-50 个字"
            } else if phone == nil || !Validation.phone(phone!) {
                p["contact.phone"] = "联系电话无效"
            } else if let email, !Validation.email(email) {
                p["contact.email"] = "电子邮箱无效"
            } else if v.objectValue?.keys.contains(where: { !["name", "phone", "email"].contains($0) }) == true {
                p["contact"] = "只含 name、phone、email"
            } else {
                x.contact = v
            }
        }
        if let v = o["webhook"], !anonymous {
            if v == .null {
                x.removeWebhook = true
            } else if let url = v["url"]?.stringValue {
                if let why = WebhookTarget.refusal(url, allow: webhookAllow) { p["webhook"] = why } else { x.webhookURL = url }
            } else {
                p["webhook"] = "须为 {\"url\": \"https://…\"} 或 null"
            }
        }
        if anonymous, let v = o["size_class"] {
            if let s = v.stringValue, let c = SizeClass(rawValue: s) { x.sizeClass = c } else { p["size_class"] = "须为 micro、small、medium 或 large" }
        }
        if !partial {
            for k in ["uscc", "name", "region", "industry", "employees", "revenue_wan", "assets_wan", "established_on", "taxpayer", "contact"]
            where o[k] == nil || o[k] == .null { p[k] = p[k] ?? "必填" }
        }
        if !p.isEmpty {
            throw NodeError.invalid(p.keys.sorted().map { "\($0)：\(p[$0]!)" }.joined(separator: "；"), fields: p)
        }
        if x.sizeClass == nil, let code = x.industry.flatMap(IndustryCode.init) {
            x.sizeClass = EnterpriseSize.classifyIfKnown(
                industry: code, employees: x.employees, revenueWan: x.revenueWan.map(Double.init), assetsWan: x.assetsWan.map(Double.init))
        }
        return x
    }
}
