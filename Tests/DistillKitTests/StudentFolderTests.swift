import DistillCore
import DistillKit
import DistillNN
import DistillText
import Foundation
import Testing

let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs scripts/student_reference.py (numpy + the `safetensors` package from .cache/pip/reference).
func pythonLogits(folder: URL, request: [String: Any]) throws -> [[Double]] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", projectRoot.appendingPathComponent("scripts/student_reference.py").path, folder.path]
    var env = ProcessInfo.processInfo.environment
    env["PYTHONPATH"] = projectRoot.appendingPathComponent(".cache/pip/reference").path
    process.environment = env
    let input = Pipe(), output = Pipe(), errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: request))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "student_reference.py failed: \(stderr)"])
    }
    let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    return (object["logits"] as! [[Any]]).map { $0.map { ($0 as! NSNumber).doubleValue } }
}

func temporaryFolder() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("student-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("Student folders")
struct StudentFolderTests {
    let texts = ["Connection refused to db-primary:5432", "disk /dev/sda1 is 97% full", "user alice logged in", ""]

    func tinyBert(pooling: String?) throws -> Student {
        let tokenizer = try WordPieceTokenizer(vocabulary: Vocabulary(tokens:
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "connection", "refused", "to", "db", "-", "primary", ":", "disk", "/",
             "dev", "sd", "##a", "##1", "is", "%", "full", "user", "alice", "logged", "in", "5432", "97"]))
        var config = BertConfig(vocabSize: tokenizer.vocabulary.count, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4,
                                intermediateSize: 24, maxPositionEmbeddings: 32, labels: ["database", "disk", "auth"])
        config.distillPooling = pooling
        let model = BertForSequenceClassification(config: config, seed: 9)
        // Random init has tiny weights; widen them so logits differ visibly between texts.
        for p in model.namedParameters() where p.tensor.rank == 2 {
            p.tensor.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] *= 10 } }
        }
        return .bert(model, tokenizer)
    }

    @Test("a BERT student round-trips bit-identically and Python reads the same logits", arguments: ["pooler", "mean"])
    func bertRoundTrip(pooling: String) throws {
        let student = try tinyBert(pooling: pooling == "pooler" ? nil : pooling)
        let folder = temporaryFolder()
        try student.save(to: folder)
        for name in ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name)")
        }
        let loaded = try Student.load(from: folder)
        let before = student.module.stateDict(), after = loaded.module.stateDict()
        #expect(before.keys.sorted() == after.keys.sorted())
        for (k, v) in before { #expect(after[k]!.scalars.map(\.bitPattern) == v.scalars.map(\.bitPattern), "\(k)") }
        #expect(loaded.labels == ["database", "disk", "auth"])
        let swiftLogits = student.logits(texts)
        #expect(loaded.logits(texts).scalars == swiftLogits.scalars)
        guard case let .bert(_, tokenizer) = loaded else { Issue.record("loaded the wrong kind"); return }
        let reference = try pythonLogits(folder: folder, request: ["ids": texts.map { tokenizer.encode($0) }])
        for (i, row) in reference.enumerated() {
            for (j, want) in row.enumerated() {
                #expect(abs(Double(swiftLogits.scalars[i * 3 + j]) - want) < 1e-4, "text \(i) class \(j)")
            }
        }
    }

    @Test("an n-gram bag student round-trips bit-identically and Python reads the same logits")
    func bagRoundTrip() throws {
        let config = NGramBagConfig(featurizer: NGramFeaturizer(buckets: 4096), embeddingSize: 12, hiddenSize: 8, labels: ["a", "b"])
        let student = Student.ngramBag(NGramBag(config: config, seed: 3))
        let folder = temporaryFolder()
        try student.save(to: folder)
        let loaded = try Student.load(from: folder)
        for (k, v) in student.module.stateDict() { #expect(loaded.module.stateDict()[k]!.scalars == v.scalars) }
        let logits = student.logits(texts)
        #expect(loaded.logits(texts).scalars == logits.scalars)
        let (indices, offsets) = config.featurizer.batch(texts)
        let reference = try pythonLogits(folder: folder, request: ["indices": indices, "offsets": offsets])
        for (i, row) in reference.enumerated() {
            for (j, want) in row.enumerated() { #expect(abs(Double(logits.scalars[i * 2 + j]) - want) < 1e-5) }
        }
    }

    @Test("broken folders give errors naming the file and key")
    func brokenFolders() throws {
        let folder = temporaryFolder()
        #expect(throws: ModelError.self) { try Student.load(from: folder) }
        try Data(#"{"model_type": "gpt2"}"#.utf8).write(to: folder.appendingPathComponent("config.json"))
        do { _ = try Student.load(from: folder); Issue.record("loaded gpt2") } catch let error as ModelError {
            #expect(error.errorDescription!.contains("gpt2") && error.errorDescription!.contains("config.json"))
        }
        try Data(#"{"model_type": "distill-ngram-bag", "featurizer": {"buckets": 10, "word_ngrams": 1, "min_char_ngram": 0, "max_char_ngram": 0, "lowercase": true}, "embedding_size": "big", "hidden_size": 0, "id2label": {"0": "a"}}"#.utf8)
            .write(to: folder.appendingPathComponent("config.json"))
        do { _ = try Student.load(from: folder); Issue.record("accepted a string size") } catch let ModelError.invalidConfig(_, key, _) {
            #expect(key == "embedding_size")
        }
        // A truncated weights file names the file.
        let good = temporaryFolder()
        try Student.ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 64), embeddingSize: 4, labels: ["a"]))).save(to: good)
        let weights = good.appendingPathComponent("model.safetensors")
        let bytes = try Data(contentsOf: weights)
        try bytes.prefix(bytes.count - 10).write(to: weights)
        do { _ = try Student.load(from: good); Issue.record("loaded truncated weights") } catch let error as SafetensorsError {
            #expect(error.errorDescription!.contains("model.safetensors") && error.errorDescription!.contains("truncated"))
        }
    }
}
