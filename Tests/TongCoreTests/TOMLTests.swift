import Testing
import TongCore

@Suite struct TOMLTests {
    func error(_ text: String) -> TOMLError? {
        do {
            _ = try TOML.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func scalarsAndStrings() throws {
        let doc = try TOML.parse(
            """
            # leading comment
            title = "国办发\\"x\\"\\\\ \\n\\t\\u4E2D\\U0001F600"   # trailing comment
            lit = 'C:\\path\\no "escapes" # not a comment'
            n = -42
            big = 1_000_000
            zero = 0
            yes = true
            no = false
            "quoted key" = 'v'
            list = ["a", 'b', "c",]
            empty = []
            nested = [[1, 2], ["x"]]

            """)
        #expect(doc["title"] == .string("国办发\"x\"\\ \n\t中😀"))
        #expect(doc["lit"] == .string("C:\\path\\no \"escapes\" # not a comment"))
        #expect(doc["n"] == .integer(-42))
        #expect(doc["big"] == .integer(1_000_000))
        #expect(doc["zero"] == .integer(0))
        #expect(doc["yes"] == .boolean(true))
        #expect(doc["no"] == .boolean(false))
        #expect(doc["quoted key"] == .string("v"))
        #expect(doc["list"] == .array([.string("a"), .string("b"), .string("c")]))
        #expect(doc["empty"] == .array([]))
        #expect(doc["nested"] == .array([.array([.integer(1), .integer(2)]), .array([.string("x")])]))
    }

    @Test func tablesAndArraysOfTables() throws {
        let doc = try TOML.parse(
            """
            federation = "demo"\r
            [server]
            port = 8100
            [server.tls]
            cert = "a.pem"
            [[node]]
            id = "100000"
              [[node.department]]
              id = "100000-mof"
              [[node.department]]
              id = "100000-mohrss"
            [[node]]
            id = "330000"
              [[node.department]]
              id = "330000-czt"
            [[node]]
            id = "320000"
            """)
        #expect(doc["federation"] == .string("demo"))
        #expect(doc["server"] == .table(["port": .integer(8100), "tls": .table(["cert": .string("a.pem")])]))
        let nodes = try #require(doc["node"]?.arrayValue)
        #expect(nodes.count == 3)
        #expect(nodes[0].tableValue?["department"]?.arrayValue?.count == 2)
        #expect(nodes[1].tableValue?["department"] == .array([.table(["id": .string("330000-czt")])]))
        #expect(nodes[2] == .table(["id": .string("320000")]))
        // A super-table may be defined after its sub-table.
        #expect(
            try TOML.parse("[a.b]\nx = 1\n[a]\ny = 2")["a"]
                == .table(["b": .table(["x": .integer(1)]), "y": .integer(2)]))
        #expect(try TOML.parse("") == [:])
        #expect(try TOML.parse("\u{FEFF}a = 1") == ["a": .integer(1)])
    }

    @Test func errorsCarryLineNumbers() throws {
        let dup = try #require(error("a = 1\n\nb = 2\na = 3"))
        #expect(dup.line == 4)
        #expect(dup.message.contains("duplicate key 'a'") && dup.message.contains("line 1"))
        #expect(dup.description.hasPrefix("line 4:"))

        let unterminated = try #require(error("ok = 1\nname = \"abc"))
        #expect(unterminated == TOMLError(line: 2, message: "unterminated string"))
        #expect(error("x = 'abc")?.message == "unterminated string")
        #expect(error("x = \"abc\\")?.message == "unterminated string")

        #expect(error("[t]\na=1\n[t]")?.line == 3)
        #expect(error("[t]\n[t]")?.message.contains("duplicate table [t]") == true)
        #expect(error("[[t]]\n[t]")?.message.contains("array of tables") == true)
        #expect(error("t = 1\n[t]")?.line == 2)
        #expect(error("t = 1\n[t.x]")?.line == 2)
        #expect(error("[t]\nx = 1\n[t.x]")?.line == 3)
        #expect(error("[t.x]\n[t]\nx = 1")?.message.contains("already a table") == true)
        #expect(error("[a]\n[[a]]")?.line == 2)
    }

    @Test(arguments: [
        ("x", "expected '='"),
        ("x =", "expected a value"),
        ("x = abc", "strings must be quoted"),
        ("x = 1.5", "floats are not supported"),
        ("x = inf", "floats are not supported"),
        ("x = 2020-01-01", "dates and times are not supported"),
        ("x = 0x1F", "only decimal"),
        ("x = 012", "leading zeros"),
        ("x = 1__0", "invalid integer"),
        ("x = _1", "strings must be quoted"),
        ("x = 99999999999999999999", "out of range"),
        ("x = {a = 1}", "inline tables"),
        ("x = \"\"\"multi", "multi-line strings"),
        ("x = '''multi", "multi-line strings"),
        ("x = [\"a\",", "unterminated array"),
        ("x = [\"a\" \"b\"]", "expected ',' or ']'"),
        ("x = \"a\" b", "unexpected 'b' after value"),
        ("x = \"\\q\"", "invalid escape"),
        ("x = \"\\uD800\"", "not a valid scalar"),
        ("x = \"\\u12\"", "unicode escape"),
        ("a.b = 1", "dotted keys"),
        ("[a", "expected ']'"),
        ("[[a]", "expected ']]'"),
        ("[]", "expected a key"),
        ("[a] x", "unexpected 'x' after table header"),
        ("x = \"a\u{0}b\"", "control character U+0000"),
        ("# comment \u{7F}", "control character U+007F"),
        ("= 1", "expected a key"),
        ("tru = true\nx = tru", "strings must be quoted"),
    ])
    func rejects(_ input: String, _ fragment: String) throws {
        let e = try #require(error(input), "\(input)")
        #expect(e.message.contains(fragment), "\(input) → \(e.message)")
    }

    @Test func hostileInput() throws {
        // 10k lines parse quickly and correctly.
        var big = ""
        for i in 0..<10_000 { big += "k\(i) = \"value \(i)\" # c\n" }
        let doc = try TOML.parse(big)
        #expect(doc.count == 10_000)
        #expect(doc["k9999"] == .string("value 9999"))

        // A 10k-entry array of tables.
        var tables = ""
        for i in 0..<3_000 { tables += "[[node]]\nid = \(i)\n" }
        #expect(try TOML.parse(tables)["node"]?.arrayValue?.count == 3_000)

        // Duplicate buried deep in a long file reports the right line.
        let dup = try #require(error(big + "k5000 = \"again\"\n"))
        #expect(dup.line == 10_001)

        // Pathological nesting is bounded rather than overflowing the stack.
        #expect(error("x = " + String(repeating: "[", count: 100_000))?.message.contains("too deeply") == true)
        #expect(
            error("[" + Array(repeating: "a", count: 1_000).joined(separator: ".") + "]")?
                .message.contains("too deeply") == true)
        #expect(error("x = \"" + String(repeating: "a", count: 1_000_000))?.message == "unterminated string")
        #expect(error(String(repeating: "[", count: 10_000)) != nil)
    }
}
