import ArgumentParser
import DistillExamples
import DistillText
import Foundation

/// `distill generate-logs`: the labelled multi-service corpus (JSONL).
struct GenerateLogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-logs",
        abstract: "Generate realistic labelled log lines from 14 sources (JSONL: text, label, source, template, family, split)."
    )

    @Option(help: "Output JSONL file (- for standard output).")
    var out: String

    @Option(help: "Number of lines.")
    var lines: Int = 10_000

    @Option(help: "Random seed (same seed, same corpus).")
    var seed: UInt64 = 1

    @Option(name: .customLong("normal-share"), help: "Share of normal lines.")
    var normalShare: Double = 0.6

    @Option(name: .customLong("label-noise"), help: "Fraction of labels replaced by a random other label.")
    var labelNoise: Double = 0

    @Option(name: .customLong("held-out"), help: "Fraction of each label's templates kept for the test split.")
    var heldOut: Double = 0.2

    func validate() throws {
        guard lines >= 1 else { throw ValidationError("--lines must be at least 1") }
        for (name, v) in [("--normal-share", normalShare), ("--label-noise", labelNoise), ("--held-out", heldOut)] where !(0...1).contains(v) {
            throw ValidationError("\(name) must be within [0, 1], got \(v)")
        }
    }

    func run() throws {
        var generator = LogCorpusGenerator(seed: seed)
        generator.normalShare = normalShare
        generator.labelNoise = labelNoise
        generator.heldOutFraction = heldOut
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let handle: FileHandle
        if out == "-" {
            handle = .standardOutput
        } else {
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            guard let file = FileHandle(forWritingAtPath: out) else { throw CommandFailure("\(out): cannot open for writing") }
            handle = file
        }
        var buffer = Data()
        var test = 0
        for record in generator.generate(count: lines) {
            buffer.append(try encoder.encode(record))
            buffer.append(0x0A)
            if record.split == "test" { test += 1 }
            if buffer.count > 1 << 20 { try write(buffer, to: handle); buffer.removeAll(keepingCapacity: true) }
        }
        try write(buffer, to: handle)
        if out != "-" { try handle.close() }
        // The summary on stderr: standard output may be the corpus itself (`--out -`).
        FileHandle.standardError.write(Data("generate-logs: \(lines) lines (\(lines - test) train, \(test) test from \(generator.heldOutTemplates().count) held-out templates of \(LogCorpusGenerator.templates.count)) -> \(out == "-" ? "standard output" : out)\n".utf8))
    }

    private func write(_ data: Data, to handle: FileHandle) throws {
        do { try handle.write(contentsOf: data) } catch {
            throw out == "-" ? CommandFailure.standardOutput(error) : CommandFailure("cannot write \(out): \(fileErrorReason(error))")
        }
    }
}
