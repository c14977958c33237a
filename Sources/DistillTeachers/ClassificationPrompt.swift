import DistillText
import Foundation

/// The classification prompt built from the label names, descriptions, instructions and few-shot examples, and
/// its version: a hash of everything that shapes the answer, so that any change invalidates stored labels.
public struct ClassificationPrompt: Sendable, Equatable {
    /// Bumped when the prompt's wording in this file changes.
    public static let formatVersion = "1"

    public var labels: [String]
    public var descriptions: [String]
    public var verbalizer: Verbalizer
    public var instructions: String?
    public var fewShot: [LLMTeacherSpec.FewShotExample]

    public init(labels: [String], descriptions: [String], verbalizer: Verbalizer, instructions: String? = nil,
                fewShot: [LLMTeacherSpec.FewShotExample] = []) {
        self.labels = labels
        self.descriptions = descriptions
        self.verbalizer = verbalizer
        self.instructions = instructions
        self.fewShot = fewShot
    }

    /// The system message: task, categories, answer format.
    public var system: String {
        var s = "You classify log lines from cloud-native systems. Choose exactly one category for each line.\n"
        if let instructions, !instructions.isEmpty { s += instructions + "\n" }
        s += "Categories:\n"
        for (i, name) in labels.enumerated() {
            let description = descriptions.indices.contains(i) && !descriptions[i].isEmpty ? ": " + descriptions[i] : ""
            s += verbalizer.usesCodes ? "\(verbalizer.words[i]) = \(name)\(description)\n" : "- \(verbalizer.words[i])\(description)\n"
        }
        s += verbalizer.usesCodes ? "Answer with the category's letter only, nothing else." : "Answer with the category name only, nothing else."
        return s
    }

    /// The user message for one line.
    public func question(_ text: String) -> String { "Log line: \(text)" }

    /// The answer word for a label name.
    public func answer(for label: String) -> String { verbalizer.words[labels.firstIndex(of: label)!] }

    /// Chat messages: system, few-shot pairs (the fixed ones, then `examples` chosen for this line), the question.
    public func messages(for text: String, examples: [LLMTeacherSpec.FewShotExample] = []) -> [[String: String]] {
        var m = [["role": "system", "content": system]]
        for e in fewShot + examples {
            m.append(["role": "user", "content": question(e.text)])
            m.append(["role": "assistant", "content": answer(for: e.label)])
        }
        m.append(["role": "user", "content": question(text)])
        return m
    }

    /// One text prompt for `/v1/completions` (the answer follows "Category:").
    public func completionPrompt(for text: String, examples: [LLMTeacherSpec.FewShotExample] = []) -> String {
        var s = system + "\n\n"
        for e in fewShot + examples { s += question(e.text) + "\nCategory: " + answer(for: e.label) + "\n\n" }
        return s + question(text) + "\nCategory:"
    }

    /// llama.cpp GBNF grammar admitting exactly one answer word.
    public var grammar: String {
        "root ::= " + verbalizer.words.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: " | ")
    }

    /// `response_format` for servers with JSON-schema constrained decoding: `{"label": <one answer word>}`.
    public var jsonSchemaResponseFormat: [String: Any] {
        ["type": "json_schema",
         "json_schema": ["name": "log_label", "strict": true,
                         "schema": ["type": "object", "additionalProperties": false, "required": ["label"],
                                    "properties": ["label": ["type": "string", "enum": verbalizer.words]]] as [String: Any]] as [String: Any]]
    }

    /// Hex hash of the rendered prompt and every decoding setting in `extra`.
    public func version(extra: [String]) -> String {
        var parts = [ClassificationPrompt.formatVersion, system, question("\u{1}"), completionPrompt(for: "\u{1}")]
        for e in fewShot { parts += [e.text, e.label] }
        return String(Fingerprint.of(parts + extra), radix: 16)
    }
}
