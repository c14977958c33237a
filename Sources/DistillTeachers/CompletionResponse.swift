import Foundation

/// One generated token with its log-probability and the alternatives the server listed for its position.
public struct TokenLogprobs: Sendable, Equatable {
    public var token: String
    public var logprob: Double
    public var alternatives: [Alternative]
    public struct Alternative: Sendable, Equatable {
        public var token: String
        public var logprob: Double
    }
}

/// The parts of a `/v1/chat/completions` or `/v1/completions` response Distill uses.
public struct CompletionResponse: Sendable, Equatable {
    /// The answer text (message content, or the completion's text).
    public var text: String
    /// Per generated token; empty when the server sent no logprobs.
    public var tokens: [TokenLogprobs]
    public var promptTokens: Int?
    public var completionTokens: Int?

    /// Why a body could not be read as a completion.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses a response body. Accepts the OpenAI chat format (`logprobs.content[].top_logprobs`), the legacy
    /// completions format (`logprobs.tokens` / `token_logprobs` / `top_logprobs` dictionaries) and llama.cpp's
    /// post-sampling variant (`prob` / `top_probs`).
    public static func parse(_ body: Data) throws -> CompletionResponse {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: body) } catch {
            throw ParseError(description: "the response is not JSON (\(body.count) bytes, starts with \(preview(body)))")
        }
        guard let root = object as? [String: Any] else { throw ParseError(description: "the response is not a JSON object") }
        if let error = root["error"] {
            let message = (error as? [String: Any])?["message"] as? String ?? "\(error)"
            throw ParseError(description: "the server reported an error: \(message)")
        }
        guard let choices = root["choices"] as? [Any], let choice = choices.first as? [String: Any] else {
            throw ParseError(description: "the response has no 'choices'")
        }
        let text: String
        if let message = choice["message"] as? [String: Any] {
            text = message["content"] as? String ?? ""
        } else if let t = choice["text"] as? String {
            text = t
        } else {
            throw ParseError(description: "the first choice has neither 'message.content' nor 'text'")
        }
        var tokens: [TokenLogprobs] = []
        if let logprobs = choice["logprobs"] as? [String: Any] {
            if let content = logprobs["content"] as? [Any] {
                for (i, entry) in content.enumerated() {
                    guard let e = entry as? [String: Any], let token = e["token"] as? String else {
                        throw ParseError(description: "logprobs.content[\(i)] has no 'token'")
                    }
                    guard let lp = logprob(e, "logprob", "prob") else { throw ParseError(description: "logprobs.content[\(i)] has no 'logprob'") }
                    let alternatives = ((e["top_logprobs"] ?? e["top_probs"]) as? [Any] ?? []).compactMap { a -> TokenLogprobs.Alternative? in
                        guard let a = a as? [String: Any], let t = a["token"] as? String, let l = logprob(a, "logprob", "prob") else { return nil }
                        return TokenLogprobs.Alternative(token: t, logprob: l)
                    }
                    tokens.append(TokenLogprobs(token: token, logprob: lp, alternatives: alternatives))
                }
            } else if let names = logprobs["tokens"] as? [String] {
                let values = logprobs["token_logprobs"] as? [Any] ?? []
                let tops = logprobs["top_logprobs"] as? [Any] ?? []
                for (i, token) in names.enumerated() {
                    let lp = (values.indices.contains(i) ? (values[i] as? NSNumber)?.doubleValue : nil) ?? 0
                    let alternatives = (tops.indices.contains(i) ? tops[i] as? [String: Any] : nil)?.compactMap { key, value in
                        (value as? NSNumber).map { TokenLogprobs.Alternative(token: key, logprob: $0.doubleValue) }
                    }.sorted { $0.logprob > $1.logprob } ?? []
                    tokens.append(TokenLogprobs(token: token, logprob: lp, alternatives: alternatives))
                }
            }
        }
        let usage = root["usage"] as? [String: Any]
        return CompletionResponse(text: text, tokens: tokens, promptTokens: (usage?["prompt_tokens"] as? NSNumber)?.intValue,
                                  completionTokens: (usage?["completion_tokens"] as? NSNumber)?.intValue)
    }

    private static func logprob(_ e: [String: Any], _ logKey: String, _ probKey: String) -> Double? {
        if let v = (e[logKey] as? NSNumber)?.doubleValue { return v }
        if let p = (e[probKey] as? NSNumber)?.doubleValue { return p > 0 ? log(p) : -.infinity }
        return nil
    }

    static func preview(_ body: Data) -> String {
        let s = String(decoding: body.prefix(60), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
        return "'" + s + (body.count > 60 ? "…'" : "'")
    }

    /// The token that starts the answer: for plain answers the first token with a letter or digit; for JSON answers
    /// (`{"label": "…"}`) the first such token after the value's opening quote. nil when there is none.
    public func answerToken(json: Bool) -> TokenLogprobs? {
        var start = 0
        if json {
            // Byte offset of the label value within the concatenated tokens.
            let joined = Array(tokens.map(\.token).joined().utf8)
            guard let key = firstRange(of: Array("\"label\"".utf8), in: joined) else { return nil }
            var i = key.upperBound
            while i < joined.count, joined[i] != UInt8(ascii: "\"") { i += 1 }
            start = i + 1
        }
        var offset = 0
        for t in tokens {
            let end = offset + t.token.utf8.count
            defer { offset = end }
            guard end > start else { continue }
            let visible = offset >= start ? t.token : String(decoding: Array(t.token.utf8)[(start - offset)...], as: UTF8.self)
            if visible.unicodeScalars.contains(where: { CharacterSet.alphanumerics.contains($0) }) { return t }
        }
        return nil
    }

    private func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard needle.count <= haystack.count else { return nil }
        for i in 0...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle { return i..<(i + needle.count) }
        return nil
    }
}
