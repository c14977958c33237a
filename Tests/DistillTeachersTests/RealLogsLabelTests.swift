import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

@Suite("distill label on every real log line")
struct RealLogsLabelTests {
    /// The LLM's transport is a loopback server that answers with label names and logprobs, and with garbage
    /// (prose, a 500) now and then: what is under test is every real line's way through keying, prompts, JSON
    /// and the store, not the model (the llama.cpp tests run a real one).
    @Test("every real line (and the hostile ones) through `distill label`: one output line each, exit 0, garbage answers recorded as failures")
    func everyLine() throws {
        let names = realLogLabels
        let s = try server { request, i in
            if i % 37 == 5 { return .json(["error": "overloaded"], status: 500) }
            if i % 23 == 7 { return .json(chatCompletion("I think this line is about the weather")) }
            let label = names[i % names.count]
            return .json(chatCompletion(label, alternatives: [(label, log(0.7)), (names[(i + 1) % names.count], log(0.2))]))
        }
        defer { s.stop() }
        let folder = temporaryFolder("real-label")
        let lines = try realLogLines() + hostileLogLines
        let input = folder.appendingPathComponent("lines.txt")
        try lines.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("labelled.jsonl")
        let run = try runDistill(["label", "--teacher", "openai:\(s.baseURL)", "--labels", names.joined(separator: ","), "--input", input.path,
                                  "--out", out.path, "--verbalizer", "names", "--constrain", "none", "--retries", "1", "--concurrency", "4"])
        #expect(run.status == 0, "\(run.stderr.suffix(2000))")
        let rows = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == lines.count)
        var answered = 0, failed = 0
        for row in rows {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any])
            if let p = object["probabilities"] as? [String: Double], Set(p.keys) == Set(names) { answered += 1 } else { failed += 1 }
        }
        let requests = s.requests.filter { $0.path.hasSuffix("/chat/completions") }.count
        print("label on real logs: \(lines.count) lines, \(requests) requests, \(answered) answered, \(failed) failed")
        #expect(answered > lines.count / 2 && answered + failed == lines.count)
        // Keyed by the masked message, the 16,000 real lines are 1,128 keys, grouped by template 750 questions (the
        // 8 systems have 715 templates; 7,105 keys before identifiers' numbers were masked); retries of the 500s add some.
        #expect(requests < lines.count / 8, "lines are grouped by template: far fewer requests than lines")
    }
}
