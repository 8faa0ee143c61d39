import Foundation
import TongCore
import TongDomain

/// The profile fields shared by the 政策计算器 and the registration form: pickers that work
/// without JavaScript, each with its error beside it, and the form values turned into the JSON
/// the node validates (one set of rules for the portal and the API).
extension PortalSite {
    /// Division codes a visitor may pick: this node's region and every node under it, with
    /// names from the topology.
    func regionChoices() -> [(code: String, name: String)] {
        ([node.id] + node.topology.descendants(of: node.id)).map { ($0, nodeName($0)) }
    }

    /// The message beside a field; the node's `必填` becomes 请填写….
    func fieldError(_ errors: [String: String], _ key: String) -> PortalHTML {
        guard let m = errors[key] else { return .empty }
        let label = PortalText.enterpriseFields[key] ?? key
        let text = m == "必填" ? "请填写\(label)" : "\(label)：\(m)"
        return "<span class=\"field-error\" id=\"err-\(key.replacingOccurrences(of: ".", with: "-"))\">\(text)</span>"
    }

    /// A labelled `<input>` with its error.
    func inputField(
        _ name: String, _ label: String, values: PortalForm?, errors: [String: String], type: String = "text", required: Bool = false,
        extra: String = "", hint: String? = nil, max: Int = 100
    ) -> PortalHTML {
        let id = "f-" + name.replacingOccurrences(of: ".", with: "-")
        let req: PortalHTML = required ? "<span class=\"req\">*</span>" : .empty
        let hintHTML: PortalHTML = hint.map { "<span class=\"hint\">\($0)</span>" } ?? .empty
        return """
            <div class="field\(errors[name] != nil ? " invalid" : "")"><label for="\(id)">\(label)\(req)</label>\
            <input id="\(id)" name="\(name)" type="\(type)" value="\(values?.raw(name) ?? "")" maxlength="\(max)"\
            \(PortalHTML(trusted: extra))\(required ? " required" : "")>\(hintHTML)\(fieldError(errors, name))</div>
            """
    }

    /// A labelled `<select>` with a blank first choice and its error.
    func selectField(
        _ name: String, _ label: String, choices: [(value: String, name: String)], selected: String?, errors: [String: String],
        required: Bool = false, blank: String = "请选择"
    ) -> PortalHTML {
        let opts: [PortalHTML] = choices.map { c in
            "<option value=\"\(c.value)\"\(c.value == selected ? " selected" : "")>\(c.name)</option>"
        }
        let req: PortalHTML = required ? "<span class=\"req\">*</span>" : .empty
        return """
            <div class="field\(errors[name] != nil ? " invalid" : "")"><label for="f-\(name)">\(label)\(req)</label>\
            <select id="f-\(name)" name="\(name)"><option value="">\(blank)</option>\(opts)</select>\(fieldError(errors, name))</div>
            """
    }

    /// The region, industry, size and tax fields. The region is a select of the divisions this
    /// node knows plus a six-digit code that wins when given; the industry a select of the 20
    /// sections plus a finer code (H62, F5211) that wins when given.
    func profileFields(values: PortalForm?, errors: [String: String], required: Bool) -> PortalHTML {
        let regions = regionChoices().map { (value: $0.code, name: $0.name == $0.code ? $0.code : "\($0.name)（\($0.code)）") }
        let sections = IndustryCode.sections.map { (value: String($0.letter), name: "\($0.letter) \($0.name)") }
        let taxpayers = TaxpayerType.allCases.map { (value: $0.rawValue, name: $0.chineseName) }
        let req: PortalHTML = required ? "<span class=\"req\">*</span>" : .empty
        let regionOptions: [PortalHTML] = regions.map { r in
            "<option value=\"\(r.value)\"\(r.value == values?["region"] ? " selected" : "")>\(r.name)</option>"
        }
        let sectionOptions: [PortalHTML] = sections.map { s in
            "<option value=\"\(s.value)\"\(s.value == values?["industry"] ? " selected" : "")>\(s.name)</option>"
        }
        let number = " min=\"0\" step=\"1\""
        let employees = inputField("employees", "从业人员（人）", values: values, errors: errors, type: "number", required: required, extra: number, max: 9)
        let revenue = inputField(
            "revenue_wan", "年营业收入（万元）", values: values, errors: errors, type: "number", required: required, extra: number, max: 11)
        let assets = inputField("assets_wan", "资产总额（万元）", values: values, errors: errors, type: "number", required: required, extra: number, max: 11)
        let established = inputField("established_on", "成立日期", values: values, errors: errors, type: "date", required: required, max: 10)
        let taxpayer = selectField("taxpayer", "纳税人类型", choices: taxpayers, selected: values?["taxpayer"], errors: errors, required: required)
        return """
            <fieldset class="field\(errors["region"] != nil ? " invalid" : "")"><legend>注册地\(req)</legend>\
            <label for="f-region">选择地区</label><select id="f-region" name="region"><option value="">请选择</option>\(regionOptions)</select>\
            <label for="f-region_code">或填写六位行政区划代码（填写后以此为准）</label>\
            <input id="f-region_code" name="region_code" value="\(values?.raw("region_code") ?? "")" maxlength="6" inputmode="numeric" \
            placeholder="如 330106">\(fieldError(errors, "region"))</fieldset>
            <fieldset class="field\(errors["industry"] != nil ? " invalid" : "")"><legend>所属行业\(req)</legend>\
            <label for="f-industry">行业门类（GB/T 4754-2017）</label>\
            <select id="f-industry" name="industry"><option value="">请选择</option>\(sectionOptions)</select>\
            <label for="f-industry_code">更细的行业代码（可选，填写后以此为准）</label>\
            <input id="f-industry_code" name="industry_code" value="\(values?.raw("industry_code") ?? "")" maxlength="5" \
            placeholder="如 H62（餐饮业）、F5211（百货零售）">\(fieldError(errors, "industry"))</fieldset>
            \(employees)
            \(revenue)
            \(assets)
            \(established)
            \(taxpayer)
            """
    }

    /// The profile fields of a form as the node's JSON: empty fields are left out (the node
    /// says which are required), numbers that do not parse are passed on as text so the node's
    /// own message explains them.
    func profileJSON(_ form: PortalForm) -> [String: JSONValue] {
        var o: [String: JSONValue] = [:]
        if let r = form["region_code"] ?? form["region"] { o["region"] = .string(r) }
        if let i = form["industry_code"] ?? form["industry"] { o["industry"] = .string(i.uppercased()) }
        for k in ["employees", "revenue_wan", "assets_wan"] {
            guard let s = form[k] else { continue }
            o[k] = Int64(s).map(JSONValue.int) ?? .string(s)
        }
        if let d = form["established_on"] { o["established_on"] = .string(d) }
        if let t = form["taxpayer"] { o["taxpayer"] = .string(t) }
        return o
    }
}
