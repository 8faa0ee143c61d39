import GRDB
import GRDBSQLite
import Testing

@testable import TongStore

/// Unit tests of the raw tokenizer output: tokens, flags and byte offsets.
@Suite struct BigramTokenizerTests {
    struct Token: Equatable, CustomStringConvertible {
        var text: String
        var start: Int
        var end: Int
        var colocated: Bool
        var description: String { "\(text)@\(start)-\(end)\(colocated ? "+c" : "")" }
    }

    /// Collects tokens through the same C entry point FTS5 uses, keeping the offsets GRDB's helpers drop.
    final class Sink {
        var tokens: [Token] = []
    }

    static func tokens(_ text: String, query: Bool = false) -> [Token] {
        let sink = Sink()
        let tokenizer = BigramTokenizer()
        var utf8 = Array(text.utf8)
        utf8.append(0)
        let rc = utf8.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
                tokenizer.tokenize(
                    context: Unmanaged.passUnretained(sink).toOpaque(),
                    tokenization: query ? .query : .document,
                    pText: p, nText: CInt(buf.count - 1),
                    tokenCallback: { ctx, flags, pToken, nToken, iStart, iEnd in
                        let sink = Unmanaged<Sink>.fromOpaque(ctx!).takeUnretainedValue()
                        let bytes = UnsafeRawBufferPointer(start: pToken, count: Int(nToken))
                        sink.tokens.append(
                            Token(
                                text: String(decoding: bytes, as: UTF8.self),
                                start: Int(iStart), end: Int(iEnd),
                                colocated: flags & FTS5_TOKEN_COLOCATED != 0))
                        return SQLITE_OK
                    })
            }
        }
        #expect(rc == SQLITE_OK)
        return sink.tokens
    }

    static func texts(_ text: String, query: Bool = true) -> [String] {
        tokens(text, query: query).map(\.text)
    }

    @Test func cjkRunEmitsOverlappingBigrams() {
        #expect(Self.texts("缓缴社保费") == ["缓缴", "缴社", "社保", "保费"])
        #expect(Self.texts("社") == ["社"])
        #expect(Self.texts("社，保") == ["社", "保"])
    }

    @Test func documentsColocateTheLastCharacterOfARun() {
        let t = Self.tokens("人社部发", query: false)
        #expect(t.map(\.description) == ["人社@0-6", "社部@3-9", "部发@6-12", "发@9-12+c"])
    }

    @Test func offsetsAreOriginalUTF8Bytes() {
        // 〔 is 3 bytes, Ｖ (full-width) 3 bytes.
        let t = Self.tokens("〔2022〕ＶａＴ税", query: true)
        #expect(t.map(\.description) == ["2022@3-7", "vat@10-19", "税@19-22"])
    }

    @Test func latinIsLowerCasedAndMixedRunsSplit() {
        #expect(Self.texts("VAT增值税2020年") == ["vat", "增值", "值税", "2020", "年"])
        #expect(Self.texts("hello, World_42") == ["hello", "world", "42"])
        #expect(Self.texts("Café") == ["café"])
    }

    @Test func punctuationAndSymbolsSeparate() {
        #expect(Self.texts("人社部发〔2022〕31号") == ["人社", "社部", "部发", "2022", "31", "号"])
        #expect(Self.texts("\"*^:()😀 \u{0}") == [])
        #expect(Self.texts("") == [])
    }

    @Test func extensionAAndCompatibilityIdeographsAreCJK() {
        // U+F900 is folded (NFKC: 豈 U+8C48, then OpenCC's Simplified 岂).
        #expect(Self.texts("\u{3400}\u{F900}") == ["\u{3400}岂"])
        #expect(Self.texts("二〇二二") == ["二〇", "〇二", "二二"])
    }

    @Test func longWordsAreTruncatedConsistently() {
        let long = String(repeating: "A", count: 1000)
        let t = Self.tokens(long)
        #expect(t.count == 1)
        #expect(t[0].text == String(repeating: "a", count: BigramTokenizer.maxWordBytes))
        #expect(t[0].end == 1000)
    }

    @Test func malformedUTF8DoesNotCrash() {
        let sink = Sink()
        let bytes: [UInt8] = [0xE7, 0xA4, 0x41, 0xFF, 0xE7, 0xA4, 0xBE]  // truncated 社, A, junk, 社
        let rc = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
                BigramTokenizer().tokenize(
                    context: Unmanaged.passUnretained(sink).toOpaque(), tokenization: .document,
                    pText: p, nText: CInt(buf.count),
                    tokenCallback: { ctx, _, _, nToken, _, _ in
                        Unmanaged<Sink>.fromOpaque(ctx!).takeUnretainedValue()
                            .tokens.append(Token(text: "\(nToken)", start: 0, end: 0, colocated: false))
                        return SQLITE_OK
                    })
            }
        }
        #expect(rc == SQLITE_OK)
        #expect(sink.tokens.map(\.text) == ["1", "3"])
    }
}
