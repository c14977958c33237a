import ArgumentParser
import DistillCore
import DistillExamples
import DistillRuntime
import DistillText
import Foundation
import Synchronization

/// `distill classify`: stream lines in, JSON lines with label, probability, top-k and template out.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify lines (plain text, or JSONL with a text field) with a student; writes JSON lines.",
        discussion: """
            Streams: reads a batch and classifies it while the previous one is written (at most two batches in flight) — memory \
            stays bounded and a slow reader slows the classifier (no unbounded buffering). Each line is prepared as the model was trained (its config's distill_input), \
            repeated lines are answered from an LRU cache keyed by that text, and every answer names the line's template (a hash \
            of its masked message). Output per line: {"line", "label", "probability", "top": [{"label", "probability"}], "template"} \
            (+ "text" with --echo). Bad lines yield {"line": N, "error": ...} and exit status 2 at the end.
            """
    )

    @Option(help: "Student folder (F32 or int8).")
    var model: String

    @Option(help: "Input file, or - for standard input.")
    var input: String = "-"

    @Option(name: .customLong("top-k"), help: "How many labels to list per line.")
    var topK: Int = 3

    @Option(help: "Read JSONL and take the text from this field (default: plain lines).")
    var field: String?

    @Option(parsing: .unconditional, help: "Most lines per batch (read, classified and written together); a batch also ends when the input has no complete line waiting.")
    var batch: Int = 4096

    @Option(name: .customLong("max-length"), parsing: .unconditional, help: "Tokens per line for BERT students (default: the model folder's model_max_length, as trained).")
    var maxLength: Int?

    @Option(name: .customLong("cache-size"), help: "Distinct lines the prediction cache holds (0: no cache).")
    var cacheSize: Int = 100_000

    @Flag(help: "Copy each input text into its output line.")
    var echo = false

    @Flag(help: "Print the cache hit rate and lines/s to standard error at the end.")
    var stats = false

    @Option(name: .customLong("pool-mb"), help: "MiB of idle tensor buffers kept for reuse.")
    var poolMegabytes: Int = 4

    @OptionGroup var decision: DecisionOptions

    @OptionGroup var compute: ComputeOptions

    @OptionGroup var output: OutputOptions

    func validate() throws {
        try SizeLimits.check(batch, SizeLimits.batch, flag: "--batch")
        if let maxLength { try SizeLimits.check(maxLength, SizeLimits.maxLength, flag: "--max-length") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard cacheSize >= 0 else { throw ValidationError("--cache-size must be 0 or more") }
    }

    func run() throws {
        compute.apply()
        output.apply()
        configureInferenceMemory(poolMegabytes: poolMegabytes)
        let started = Date()
        let classifier = try Classifier.load(from: URL(fileURLWithPath: model), cacheCapacity: cacheSize, maxLength: maxLength,
                                             overrides: decision.overrides)
        let labels = classifier.labels
        let reader = try LineReader(path: input)
        var pending: [PendingLine] = []
        pending.reserveCapacity(batch)
        var failures = 0, classified = 0
        // Writing overlaps the next batch's reading and classification: batches go to one serial writer, at most
        // two in flight (a slow reader of the output still slows the classifier; memory stays bounded).
        let writer = DispatchQueue(label: "distill.classify.writer")
        let inFlight = DispatchSemaphore(value: 2)
        let writeFailure = Mutex<String?>(nil)
        let (topK, echo) = (self.topK, self.echo)
        func flush() throws {
            if let message = writeFailure.withLock({ $0 }) { throw CommandFailure("cannot write standard output: \(message)") }
            guard !pending.isEmpty else { return }
            let lines = pending
            pending.removeAll(keepingCapacity: true)
            let texts = lines.compactMap(\.text)
            let predictions = classifier.classify(texts)
            classified += texts.count
            inFlight.wait()
            writer.async {
                defer { inFlight.signal() }
                var json = JSONLineWriter(capacity: lines.count * 256)
                var next = 0
                for item in lines {
                    json.raw("{\"line\":")
                    json.int(item.line)
                    if let error = item.error {
                        json.raw(",\"error\":")
                        json.string(error)
                    } else {
                        json.bytes.append(44)
                        json.predictionFields(predictions[next], labels: labels, topK: topK)
                        if echo { json.raw(",\"text\":"); json.string(item.text!) }
                        next += 1
                    }
                    json.raw("}\n")
                }
                do { try FileHandle.standardOutput.write(contentsOf: Data(json.bytes)) } catch {
                    writeFailure.withLock { $0 = $0 ?? fileErrorReason(error) }
                }
            }
        }
        while let line = try reader.next() {
            var text = line.text, error = line.problem?.message
            if let field, let raw = text {
                switch StrictJSON.stringField(field, of: raw) {
                case let .success(value): text = value
                case let .failure(problem):
                    text = nil
                    error = problem.message
                }
            }
            if let error {
                failures += 1
                FileHandle.standardError.write(Data("\(reader.name):\(line.number): \(error)\n".utf8))
            }
            pending.append(PendingLine(line: line.number, text: error == nil ? text : nil, error: error))
            if pending.count >= batch || !reader.hasBufferedLine { try flush() }
        }
        try flush()
        writer.sync {}
        if let message = writeFailure.withLock({ $0 }) { throw CommandFailure("cannot write standard output: \(message)") }
        if stats {
            let seconds = Date().timeIntervalSince(started)
            let cache = classifier.cache?.statistics
            // Asked for with --stats: printed even with --quiet.
            FileHandle.standardError.write(Data(String(format: "classified %d lines in %.3f s (%.0f lines/s); cache hit rate %.4f (%d entries)\n",
                                                       classified, seconds, Double(classified) / max(seconds, 1e-9), cache?.hitRate ?? 0, cache?.entries ?? 0).utf8))
        }
        if failures > 0 { throw ExitCode(2) }
    }
}

/// A read line waiting for its batch: its text, or why it could not be read.
private struct PendingLine: Sendable {
    let line: Int
    let text: String?
    let error: String?
}
