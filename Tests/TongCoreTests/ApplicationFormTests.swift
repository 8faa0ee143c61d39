import Testing
import TongCore

@Suite struct ApplicationFormTests {
    static let form: JSONValue = [
        "mode": "apply",
        "materials": ["营业执照复印件", "社保缴费证明"],
        "fields": [
            ["id": "staff_kept", "label": "稳岗人数", "type": "number"],
            ["id": "bank_account", "label": "收款账号", "type": "text"],
            ["id": "since", "label": "开业日期", "type": "date", "required": false],
            ["id": "kind", "label": "补贴类型", "type": "choice", "choices": ["租金", "社保"]],
        ],
    ]

    func issue(_ v: JSONValue) -> ValidationIssue? {
        do {
            _ = try ApplicationForm.parse(v)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesAndRoundTrips() throws {
        let f = try ApplicationForm.parse(Self.form)
        #expect(f.mode == .apply && f.materials.count == 2 && f.fields.count == 4)
        #expect(f.fields[2].required == false && f.fields[0].required)
        #expect(f.fields[3].choices == ["租金", "社保"] && f.fields[0].choices == nil)
        #expect(f.json == Self.form)
        #expect(try ApplicationForm.parse(f.json) == f)
        let confirm = try ApplicationForm.parse(["mode": "confirm"])
        #expect(confirm == ApplicationForm(mode: .confirm))
        #expect(confirm.json == ["mode": "confirm", "materials": [], "fields": []])
        #expect(try ApplicationForm.parse(["mode": "apply", "fields": [["id": "a", "label": "A", "type": "text", "required": true]]])
            .fields[0].required)
    }

    @Test(arguments: [
        (JSONValue.string("apply"), "application"),
        (["mode": "online"], "application.mode"),
        (["fields": []], "application.mode"),
        (["mode": "apply", "extra": 1], "application.extra"),
        (["mode": "apply", "materials": "营业执照"], "application.materials"),
        (["mode": "apply", "materials": [""]], "application.materials[0]"),
        (["mode": "apply", "fields": ["x"]], "application.fields[0]"),
        (["mode": "apply", "fields": [["id": "A", "label": "x", "type": "text"]]], "application.fields[0].id"),
        (["mode": "apply", "fields": [["id": "a-b", "label": "x", "type": "text"]]], "application.fields[0].id"),
        (["mode": "apply", "fields": [["id": "", "label": "x", "type": "text"]]], "application.fields[0].id"),
        (["mode": "apply", "fields": [["label": "x", "type": "text"]]], "application.fields[0].id"),
        (["mode": "apply", "fields": [["id": "a", "label": "x", "type": "text"], ["id": "a", "label": "y", "type": "text"]]],
         "application.fields[1].id"),
        (["mode": "apply", "fields": [["id": "a", "label": " ", "type": "text"]]], "application.fields[0].label"),
        (["mode": "apply", "fields": [["id": "a", "label": .string(String(repeating: "字", count: 101)), "type": "text"]]],
         "application.fields[0].label"),
        (["mode": "apply", "fields": [["id": "a", "label": "x", "type": "file"]]], "application.fields[0].type"),
        (["mode": "apply", "fields": [["id": "a", "label": "x", "type": "choice"]]], "application.fields[0].choices"),
        (["mode": "apply", "fields": [["id": "a", "label": "x", "type": "choice", "choices": []]]], "application.fields[0].choices"),
        (["mode": "apply", "fields": [["id": "a", "label": "x", "type": "choice", "choices": ["是", "是"]]]],
         "application.fields[0].choices[1]"),
        (["mode": "apply", "fields": [["id": "a", "label": "x", "type": "text", "choices": ["是"]]]], "application.fields[0].choices"),
        (["mode": "apply", "fields": [["id": "a", "label": "x", "type": "text", "required": "yes"]]], "application.fields[0].required"),
        (["mode": "apply", "fields": [["id": "a", "label": "x", "type": "text", "hint": "y"]]], "application.fields[0].hint"),
        (["mode": "confirm", "fields": [["id": "a", "label": "x", "type": "text"]]], "application.fields"),
    ] as [(JSONValue, String)])
    func refuses(_ v: JSONValue, _ field: String) {
        #expect(issue(v)?.field == field)
    }

    @Test func fieldLimit() {
        func fields(_ n: Int) -> JSONValue {
            ["mode": "apply", "fields": .array((0..<n).map { ["id": .string("f\($0)"), "label": "问题", "type": "text"] })]
        }
        #expect(issue(fields(50)) == nil)
        #expect(issue(fields(51))?.field == "application.fields")
        #expect(issue(["mode": "apply", "fields": [["id": .string(String(repeating: "a", count: 64)), "label": "x", "type": "text"]]]) == nil)
    }

    @Test func validatesAnswers() throws {
        let f = try ApplicationForm.parse(Self.form)
        let good: [String: JSONValue] = ["staff_kept": 12, "bank_account": "6222 0000", "kind": "租金"]
        #expect(f.validate(answers: good) == [:])
        #expect(f.validate(answers: ["staff_kept": "12.5", "bank_account": "x", "kind": "社保", "since": "2020-02-07"]) == [:])
        #expect(f.validate(answers: ["staff_kept": "-3", "bank_account": "x", "kind": "社保", "since": nil]) == [:])
        let bad = f.validate(answers: [
            "staff_kept": "十二", "bank_account": .int(5), "kind": "水电", "since": "2020/02/07", "other": "x",
        ])
        #expect(bad == [
            "staff_kept": "“稳岗人数”应填写数字", "bank_account": "“收款账号”应填写文字", "kind": "“补贴类型”应从给定选项中选择",
            "since": "“开业日期”应填写日期（YYYY-MM-DD）", "other": "表单中没有此项",
        ])
        let missing = f.validate(answers: ["bank_account": "  ", "kind": nil])
        #expect(missing == ["staff_kept": "请填写“稳岗人数”", "bank_account": "请填写“收款账号”", "kind": "请填写“补贴类型”"])
        for n in ["1.", ".5", "1.2.3", "--1", "1e3", ""] {
            #expect(f.validate(answers: ["staff_kept": .string(n), "bank_account": "x", "kind": "租金"])["staff_kept"] != nil, "\(n)")
        }
        let long = f.validate(answers: ["staff_kept": 1, "bank_account": .string(String(repeating: "字", count: 2001)), "kind": "租金"])
        #expect(long.keys.sorted() == ["bank_account"])
    }

    @Test func confirmTakesNoAnswers() throws {
        let f = try ApplicationForm.parse(["mode": "confirm", "materials": ["无需材料"]])
        #expect(f.validate(answers: [:]) == [:])
        #expect(f.validate(answers: ["x": "y"]) == ["x": "免申即享无需填写内容"])
        #expect(ApplicationMode.confirm.chineseName == "确认享受" && ApplicationMode.apply.chineseName == "在线申报")
    }
}
