import DistillCore
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
    let data = try readToEndRetryingInterrupts(output.fileHandleForReading)
    let stderr = String(decoding: try readToEndRetryingInterrupts(errors.fileHandleForReading), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "student_reference.py failed: \(stderr)"])
    }
    let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    return (object["logits"] as! [[Any]]).map { $0.map { ($0 as! NSNumber).doubleValue } }
}


@Suite("Student folders")
struct StudentFolderTests {
    let texts = ["Connection refused to db-primary:5432", "disk /dev/sda1 is 97% full", "user alice logged in", ""]

    func tinyBert(pooling: Pooling?) throws -> Student {
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

    @Test("a run reads each teacher folder once: labels, static embeddings and intermediate losses share the loaded classifier")
    func teachersLoadedOnce() throws {
        let folder = temporaryFolder()
        try tinyBert(pooling: .mean).save(to: folder)
        let loaded = LoadedTeachers()
        let first = try loaded.classifier(folder), again = try loaded.classifier(folder.appendingPathComponent("."))
        #expect(first.model === again.model && loaded.count == 1)
        // The labels a shared classifier gives are the ones a teacher loading its own copy gives.
        let labels = ["auth", "database", "disk"]
        let shared = try BertTeacher(model: first.model, tokenizer: first.tokenizer, folder: folder, labels: labels)
        let own = try BertTeacher(folder: folder, labels: labels)
        #expect(shared.distributions(texts).map(\.probabilities) == own.distributions(texts).map(\.probabilities))
        let cached = try teacherDistributions(Recipe.Teacher(name: "t", kind: .bert(folder), weight: 1), texts: texts, labels: labels,
                                              cacheFolder: temporaryFolder(), loaded: loaded)
        #expect(cached.map { $0! } == own.distributions(texts).map(\.probabilities) && loaded.count == 1)
        #expect(throws: (any Error).self) { try loaded.classifier(temporaryFolder()) }
        loaded.removeAll()
        #expect(loaded.count == 0)
        let reloaded = try loaded.classifier(folder)
        #expect(reloaded.model !== first.model && loaded.count == 1)
    }

    @Test("a BERT student round-trips bit-identically and Python reads the same logits", arguments: [Pooling.pooler, .mean])
    func bertRoundTrip(pooling: Pooling) throws {
        let student = try tinyBert(pooling: pooling == .pooler ? nil : pooling)
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
        let tokenizer = try #require(loaded.model as? BertClassifier, "loaded the wrong kind").tokenizer
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

    @Test("the model_type registry: one entry per architecture, each folder loads as the architecture that wrote it, an unknown one is named with the known ones")
    func registry() throws {
        #expect(ClassifierModels.registered.map { $0.modelType } == ["bert", "distill-ngram-bag"])
        #expect(ClassifierModels.registered.map { $0.kind } == ["bert", "ngram-bag"])
        #expect(ClassifierModels.type(named: "distill-ngram-bag").map(ObjectIdentifier.init) == ObjectIdentifier(NGramBag.self))
        #expect(ClassifierModels.type(named: "gpt2") == nil)
        let bert = temporaryFolder(), bag = temporaryFolder()
        try tinyBert(pooling: .mean).save(to: bert)
        try Student.ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 64), embeddingSize: 4, labels: ["a", "b"]))).save(to: bag)
        let loadedBert = try Student.load(from: bert), loadedBag = try Student.load(from: bag)
        #expect(loadedBert.model is BertClassifier && loadedBag.model is NGramBag)
        #expect(loadedBert.model.inputIDs("user alice", maxLength: nil).name == "input_ids")
        #expect(loadedBag.model.inputIDs("user alice", maxLength: nil) == ("feature_ids", NGramFeaturizer(buckets: 64).features("user alice")))
        #expect(loadedBert.model.architectureSummary.hasPrefix("BERT classifier: 2 layers x 16 wide, 4 heads, 32 positions, mean pooling"))
        let unknown = temporaryFolder()
        try FileManager.default.createDirectory(at: unknown, withIntermediateDirectories: true)
        try Data(#"{"model_type": "gpt2"}"#.utf8).write(to: unknown.appendingPathComponent("config.json"))
        try Data().write(to: unknown.appendingPathComponent("model.safetensors"))
        #expect { try Student.load(from: unknown) } throws: { error in
            (error as? LocalizedError)?.errorDescription?.contains("model_type 'gpt2' is not a Distill student (bert, distill-ngram-bag)") == true
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

@Suite("Student folder edge cases")
struct StudentFolderEdgeTests {
    func tiny(maxPositions: Int = 32, vocabulary extra: Int = 0) throws -> Student {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "disk", "full"] + (0..<extra).map { "t\($0)" }
        let tokenizer = try WordPieceTokenizer(vocabulary: Vocabulary(tokens: tokens))
        let config = BertConfig(vocabSize: 7, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 8,
                                maxPositionEmbeddings: maxPositions, labels: ["a", "b"])
        return .bert(BertForSequenceClassification(config: config, seed: 1), tokenizer)
    }

    @Test("inputs longer than max_position_embeddings are truncated, not a crash")
    func truncatesToPositions() throws {
        let student = try tiny(maxPositions: 6)
        let logits = student.logits([Array(repeating: "disk full", count: 50).joined(separator: " ")], maxLength: 128)
        #expect(logits.shape == [1, 2])
    }

    @Test("a tokenizer larger than vocab_size is refused at load, naming the key")
    func vocabularyTooLarge() throws {
        let folder = temporaryFolder()
        try tiny(vocabulary: 3).save(to: folder)
        do { _ = try Student.load(from: folder); Issue.record("loaded a tokenizer that overruns the embeddings") } catch let ModelError.invalidConfig(_, key, detail) {
            #expect(key == "vocab_size" && detail.contains("10 tokens"))
        }
    }

    @Test("saving over a model folder replaces it whole (no stale tokenizer.json)")
    func replacesFolder() throws {
        let folder = temporaryFolder()
        try tiny().save(to: folder)
        try Data("{}".utf8).write(to: folder.appendingPathComponent("tokenizer.json"))
        try tiny().save(to: folder)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("tokenizer.json").path))
        #expect(try Student.load(from: folder).labels == ["a", "b"])
        let siblings = try FileManager.default.contentsOfDirectory(atPath: folder.deletingLastPathComponent().path)
        #expect(!siblings.contains { $0.hasPrefix(".\(folder.lastPathComponent).") })
    }

    @Test("saving never replaces a folder holding anything but a model: the error names the folder and what it holds, nothing is touched")
    func refusesForeignFolder() throws {
        let fm = FileManager.default
        // A project folder (the accident this guards against: a save into the working directory).
        let project = temporaryFolder()
        try fm.createDirectory(at: project.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try Data("// code".utf8).write(to: project.appendingPathComponent("Package.swift"))
        try Data("{}".utf8).write(to: project.appendingPathComponent("config.json"))
        // A folder of notes, a model folder with a subfolder, a README alone, and a plain file.
        let notes = temporaryFolder()
        try Data("keep me".utf8).write(to: notes.appendingPathComponent("notes.txt"))
        let nested = temporaryFolder()
        try tiny().save(to: nested)
        try fm.createDirectory(at: nested.appendingPathComponent("runs"), withIntermediateDirectories: true)
        let readme = temporaryFolder()
        try Data("# docs".utf8).write(to: readme.appendingPathComponent("README.md"))
        let file = temporaryFolder().appendingPathComponent("model")
        try Data("x".utf8).write(to: file)
        for (folder, named) in [(project, ".git"), (notes, "notes.txt"), (nested, "runs"), (readme, "README.md"), (file, "it is a file")] {
            let before = try? fm.contentsOfDirectory(atPath: folder.path).sorted()
            #expect(throws: ModelError.self) { try tiny().save(to: folder) }
            do { try tiny().save(to: folder) } catch {
                #expect(error.localizedDescription.hasPrefix(folder.path + ": not replaced"), "\(error.localizedDescription)")
                #expect(error.localizedDescription.contains(named), "\(error.localizedDescription)")
            }
            #expect((try? fm.contentsOfDirectory(atPath: folder.path).sorted()) == before)
        }
        #expect(try String(contentsOf: notes.appendingPathComponent("notes.txt"), encoding: .utf8) == "keep me")
        #expect(try String(contentsOf: file, encoding: .utf8) == "x")
        // Absent, empty and model folders (with a model card and decision rule beside) are written.
        let empty = temporaryFolder()
        try tiny().save(to: empty)
        let absent = temporaryFolder().appendingPathComponent("new")
        try tiny().save(to: absent)
        try Data("# card".utf8).write(to: empty.appendingPathComponent("README.md"))
        try Data("{}".utf8).write(to: empty.appendingPathComponent("decision.json"))
        try Data("{}".utf8).write(to: empty.appendingPathComponent("model_card.json"))
        try tiny().save(to: empty)
        #expect(try Student.load(from: empty).labels == ["a", "b"])
        #expect(try Student.load(from: absent).labels == ["a", "b"])
    }

    @Test("BERT sizes out of bounds or disagreeing with model.safetensors are refused before allocating, naming key and limit", arguments: [
        ("vocab_size", 1_099_511_627_776, "must be in 1...1000000"),
        ("hidden_size", 1 << 40, "must be in 1...16384"),
        ("num_hidden_layers", 100_000, "must be in 1...128"),
        ("intermediate_size", -3, "must be in 1...65536"),
        ("max_position_embeddings", 1 << 30, "must be in 1...65536"),
        ("vocab_size", 70_000, "holds [7, 8]"),
        ("max_position_embeddings", 4096, "holds [32, 8]"),
        ("intermediate_size", 64, "holds [8, 8]"),
        ("num_hidden_layers", 12, "holds 1 layers"),
        ("pad_token_id", 99, "0..<vocab_size"),
    ])
    func bertSizes(_ c: (String, Int, String)) throws {
        let folder = temporaryFolder()
        try tiny().save(to: folder)
        let url = folder.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        json[c.0] = c.1
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        do { _ = try Student.load(from: folder); Issue.record("\(c.0) = \(c.1) loaded") } catch let ModelError.invalidConfig(path, key, detail) {
            #expect(key.contains(c.0) && detail.contains(c.2) && path.hasSuffix("config.json"), "\(key): \(detail)")
        }
    }

    @Test("id2label with duplicate names, gaps or a label2id that disagrees is refused")
    func labelMaps() throws {
        for (id2label, label2id, want) in [
            (["0": "a", "1": "a"], nil, "both named 'a'"), (["0": "a", "2": "b"], nil, "1 is missing"),
            (["0": "a", "1": "b"], ["a": 1, "b": 0], "label2id"), (["0": "a", "1": ""], nil, "empty label"),
        ] as [([String: String], [String: Int]?, String)] {
            let folder = temporaryFolder()
            try tiny().save(to: folder)
            let url = folder.appendingPathComponent("config.json")
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            json["id2label"] = id2label
            json["label2id"] = label2id ?? Dictionary(id2label.map { ($0.value, Int($0.key)!) }, uniquingKeysWith: { a, _ in a })
            try JSONSerialization.data(withJSONObject: json).write(to: url)
            do { _ = try Student.load(from: folder); Issue.record("\(id2label) loaded") } catch let ModelError.invalidConfig(_, key, detail) {
                #expect(key.hasPrefix(want == "label2id" ? "label2id" : "id2label") && (detail.contains(want) || want == "label2id"), "\(key): \(detail)")
            }
        }
    }

    @Test("unsupported BERT variants and bad n-gram settings are config errors naming the key")
    func configErrors() throws {
        let folder = temporaryFolder()
        try tiny().save(to: folder)
        let url = folder.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        json["position_embedding_type"] = "relative_key"
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        do { _ = try Student.load(from: folder); Issue.record("accepted relative_key") } catch let ModelError.invalidConfig(_, key, _) {
            #expect(key == "position_embedding_type")
        }
        json["position_embedding_type"] = "absolute"
        json["distill_pooling"] = "max"
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        do { _ = try Student.load(from: folder); Issue.record("accepted distill_pooling max") } catch let ModelError.invalidConfig(path, key, detail) {
            #expect(path == url.path && key == "distill_pooling" && detail == "'max' is not one of cls, mean, pooler", "\(key): \(detail)")
        }
        let bag = temporaryFolder()
        try Student.ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 16), embeddingSize: 4, labels: ["a"]))).save(to: bag)
        let bagURL = bag.appendingPathComponent("config.json")
        var bagJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: bagURL)) as! [String: Any]
        var featurizer = bagJSON["featurizer"] as! [String: Any]
        featurizer["word_ngrams"] = 0
        bagJSON["featurizer"] = featurizer
        try JSONSerialization.data(withJSONObject: bagJSON).write(to: bagURL)
        do { _ = try Student.load(from: bag); Issue.record("accepted word_ngrams 0") } catch let ModelError.invalidConfig(_, key, _) {
            #expect(key == "featurizer.word_ngrams")
        }
    }
}
