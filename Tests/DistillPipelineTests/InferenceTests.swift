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
import Synchronization
import Testing

@Suite("int8 students")
struct Int8StudentTests {
    @Test("row-wise symmetric quantization: every value within half a step, zero rows stay zero")
    func quantizeValues() {
        var g = RandomGenerator(seed: 4)
        var values = (0..<1200).map { _ in g.nextNormal() }
        for i in 400..<800 { values[i] = 0 }
        values[1000] = 40  // an outlier sets its row's step
        let t = Tensor(shape: [3, 400], scalars: values)
        #expect(!Int8Quantization.quantizes(t) && Int8Quantization.quantizes(Tensor(zeros: [128, 128])))
        let (q, scales) = Int8Quantization.quantize(t)
        #expect(scales[1] == 1 && q[400..<800].allSatisfy { $0 == 0 })
        for r in [0, 2] {
            let largest = values[(r * 400)..<((r + 1) * 400)].map(abs).max()!
            #expect(abs(scales[r] - largest / 127) < 1e-7)
            #expect(q[(r * 400)..<((r + 1) * 400)].map { abs(Int($0)) }.max() == 127)
        }
        for i in 0..<1200 {
            let r = i / 400
            #expect(abs(scales[r] * Float(q[i]) - values[i]) <= scales[r] / 2 + 1e-6, "element \(i)")
        }
        #expect(scales[2] > 10 * scales[0])
    }

    func bert() throws -> (Student, [String]) {
        let words = ["connection", "refused", "to", "db", "primary", "disk", "full", "user", "alice", "logged", "in", "timeout", "memory", "killed"]
        let tokenizer = try WordPieceTokenizer(vocabulary: Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words))
        let config = BertConfig(vocabSize: tokenizer.vocabulary.count, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4,
                                intermediateSize: 512, maxPositionEmbeddings: 32, labels: ["database", "disk", "auth"])
        let model = BertForSequenceClassification(config: config, seed: 5)
        for p in model.namedParameters() where p.tensor.rank == 2 {
            p.tensor.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] *= 10 } }
        }
        let texts = ["connection refused to db primary", "disk full", "user alice logged in", "timeout memory killed", "db timeout"]
        return (.bert(model, tokenizer), texts)
    }

    @Test("the inference engine a student runs on gives the tape forward pass's probabilities, truncation included")
    func engineMatchesTape() throws {
        let (student, texts) = try bert()
        var g = RandomGenerator(seed: 17)
        for p in student.module.namedParameters() { p.tensor.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = 0.3 * g.nextNormal() } } }
        let long = Array(repeating: "connection refused to db primary disk full", count: 20).joined(separator: " ")  // > 32 tokens
        let all = texts + [long, ""]
        for maxLength in [128, 9] {
            let engine = StudentInference(student, maxLength: maxLength).probabilities(all)
            let tape = withoutGradients { softmax(student.logits(all, maxLength: maxLength)) }
            let k = student.labels.count
            for i in all.indices {
                for j in 0..<k { #expect(abs(engine[i][j] - tape.scalars[i * k + j]) < 1e-5, "maxLength \(maxLength) text \(i) class \(j)") }
            }
        }
        var config = NGramBagConfig(featurizer: NGramFeaturizer(buckets: 4096), embeddingSize: 16, hiddenSize: 8, labels: ["a", "b", "c"])
        config.input = .logs
        let bag = Student.ngramBag(NGramBag(config: config, seed: 3))
        for p in bag.module.namedParameters() { p.tensor.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = g.nextNormal() } } }
        let engine = StudentInference(bag).probabilities(all)
        let tape = withoutGradients { softmax(bag.logits(all)) }
        for i in all.indices { for j in 0..<3 { #expect(abs(engine[i][j] - tape.scalars[i * 3 + j]) < 1e-5) } }
    }

    @Test("without a length, a BERT student reads as many tokens as its folder's model_max_length says (as trained), within its positions")
    func folderLength() throws {
        var (student, _) = try bert()
        let bert = try #require(student.model as? BertClassifier, "not a BERT student")
        var tokenizer = bert.tokenizer
        tokenizer.modelMaxLength = 9
        student = .bert(bert.model, tokenizer)
        let folder = temporaryFolder("folder-length")
        try student.save(to: folder)
        let loaded = try Student.load(from: folder)
        #expect(loaded.maxLength == 9)
        let long = Array(repeating: "connection refused to db primary disk full", count: 20).joined(separator: " ")
        let texts = [long, "disk full", "user alice logged in"]
        let classifier = try Classifier.load(from: folder, cacheCapacity: 0)
        #expect(classifier.maxLength == 9)
        let byDefault = classifier.classify(texts).map(\.probabilities)
        #expect(byDefault == StudentInference(loaded, maxLength: 9).probabilities(texts))
        // The long line reads differently at 32 tokens (all its positions), so the default above is not 32's.
        #expect(byDefault[0] != StudentInference(loaded, maxLength: 32).probabilities(texts)[0])
        // A request beyond the positions is cut to them; the n-gram bag has no length.
        #expect(try Classifier.load(from: folder, cacheCapacity: 0, maxLength: 1000).maxLength == 32)
        let bag = Student.ngramBag(NGramBag(config: NGramBagConfig(labels: ["a", "b"]), seed: 1))
        #expect(bag.maxLength == nil && bag.maxLength(requested: 64) == nil)
    }

    @Test("several threads classifying through one Classifier get the answers one thread gets")
    func concurrentCallers() throws {
        let (student, texts) = try bert()
        let lines = (0..<400).map { texts[$0 % texts.count] + " n\($0 % 37)" }
        let serial = Classifier(student: student, folder: temporaryFolder(), cacheCapacity: 0).classify(lines)
        let shared = Classifier(student: student, folder: temporaryFolder(), cacheCapacity: 64)
        let results = Mutex<[Int: [Classifier.Prediction]]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            let mine = shared.classify(lines)
            results.withLock { $0[caller] = mine }
        }
        let all = results.withLock { $0 }
        #expect(all.count == 8)
        for (_, answers) in all {
            #expect(answers.map(\.labelIndex) == serial.map(\.labelIndex))
            for (a, b) in zip(answers, serial) { #expect(zip(a.probabilities, b.probabilities).allSatisfy { abs($0 - $1) < 1e-6 }) }
        }
    }

    @Test("an int8 BERT student: about a quarter of the bytes, Python reads the same logits, close to F32")
    func bertInt8() throws {
        let (student, texts) = try bert()
        let f32 = temporaryFolder(), int8 = temporaryFolder()
        try student.save(to: f32)
        try student.save(to: int8, storage: .int8)
        let size = { (folder: URL) in try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("model.safetensors").path)[.size] as! Int }
        let (full, small) = (try size(f32), try size(int8))
        #expect(Double(small) < 0.4 * Double(full), "\(small) vs \(full)")
        #expect(Student.quantization(of: int8) == Int8Quantization.method && Student.quantization(of: f32) == nil)
        let file = try SafetensorsFile(url: int8.appendingPathComponent("model.safetensors"))
        #expect(file.entry("bert.encoder.layer.0.intermediate.dense.weight")?.dtype == .i8)  // 512x32: quantized
        #expect(file.entry("bert.encoder.layer.0.attention.self.query.weight")?.dtype == .f32)  // 32x32: kept
        #expect(file.entry("bert.encoder.layer.0.intermediate.dense.bias")?.dtype == .f32)
        #expect(file.metadata["quantization"] == Int8Quantization.method)
        let loaded = try Student.load(from: int8)
        let logits = loaded.logits(texts), reference = student.logits(texts)
        let largest = reference.scalars.map(abs).max()!
        let drift = zip(logits.scalars, reference.scalars).map { abs($0 - $1) }.max()!
        #expect(drift > 0 && drift < 0.05 * largest, "largest logit change \(drift) of \(largest)")
        let tokenizer = try #require(loaded.model as? BertClassifier, "not BERT").tokenizer
        let python = try pythonLogits(folder: int8, request: ["ids": texts.map { tokenizer.encode($0) }])
        for (i, row) in python.enumerated() {
            for (j, want) in row.enumerated() { #expect(abs(Double(logits.scalars[i * 3 + j]) - want) < 1e-4, "text \(i) class \(j)") }
        }
        // Saving the loaded int8 model again at int8 gives the same values (quantization is idempotent on its grid).
        let again = temporaryFolder()
        try loaded.save(to: again, storage: .int8)
        #expect(try Student.load(from: again).logits(texts).scalars.elementsEqual(logits.scalars) { abs($0 - $1) < 1e-5 })
    }

    @Test("quantize refuses to write over its own input")
    func sameFolder() throws {
        let (student, _) = try bert()
        let folder = temporaryFolder()
        try student.save(to: folder)
        #expect(throws: DistillError.self) { try StudentQuantization.run(model: folder, output: folder) }
        #expect(Student.quantization(of: folder) == nil)
    }

    @Test("an I8 tensor without its scale tensor is refused, naming both")
    func missingScale() throws {
        let folder = temporaryFolder()
        let url = folder.appendingPathComponent("w.safetensors")
        var header = Data(#"{"w":{"dtype":"I8","shape":[2,2],"data_offsets":[0,4]}}"#.utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var data = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        data.append(contentsOf: [1, 2, 3, 4])
        try data.write(to: url)
        let file = try SafetensorsFile(url: url)
        #expect(file.weightEntries.isEmpty)
        do { _ = try file.tensor("w"); Issue.record("read an I8 tensor without scale") } catch let error as SafetensorsError {
            #expect(error.errorDescription!.contains("'w'") && error.errorDescription!.contains("w.int8_scale"))
        }
    }
}

@Suite("Prediction cache, classifier, JSON lines")
struct ClassifierTests {
    @Test("LRU: the least recently used entry goes first; hits, misses and evictions are counted")
    func lru() {
        let cache = PredictionCache(capacity: 2)
        cache.insert([1], for: "a")
        cache.insert([2], for: "b")
        #expect(cache.value(for: "a") == [1])  // a is now the most recent
        cache.insert([3], for: "c")             // evicts b
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "c") == [3] && cache.value(for: "a") == [1])
        cache.insert([4], for: "a")             // update in place
        #expect(cache.value(for: "a") == [4])
        let s = cache.statistics
        #expect(s.hits == 4 && s.misses == 1 && s.evictions == 1 && s.entries == 2 && abs(s.hitRate - 0.8) < 1e-12)
        cache.clear()
        #expect(cache.value(for: "a") == nil && cache.statistics.entries == 0 && cache.statistics.misses == 1)
    }

    @Test("the byte bound evicts the oldest entries; keys over the key limit are not stored")
    func byteBound() {
        // Each entry: 10-byte key + 2 floats + 96 = 114 bytes; 300 bytes hold two.
        let cache = PredictionCache(capacity: 100, maximumBytes: 300, maximumKeyBytes: 64)
        for k in 0..<5 { cache.insert([0, 1], for: String(format: "key-%06d", k)) }
        let s = cache.statistics
        #expect(s.entries == 2 && s.evictions == 3 && s.bytes == 228 && s.bytes <= 300)
        #expect(cache.value(for: "key-000004") == [0, 1] && cache.value(for: "key-000000") == nil)
        cache.insert([1], for: String(repeating: "x", count: 65))
        #expect(cache.statistics.entries == 2 && cache.value(for: String(repeating: "x", count: 65)) == nil)
    }

    @Test("a log student's input survives saving; templates ignore variables; repeats come from the cache with the same values")
    func classifier() throws {
        var config = NGramBagConfig(featurizer: NGramFeaturizer(buckets: 2048), embeddingSize: 8, labels: ["normal", "disk", "database"])
        config.input = .logs
        let folder = temporaryFolder()
        try Student.ngramBag(NGramBag(config: config, seed: 2)).save(to: folder)
        let classifier = try Classifier.load(from: folder, cacheCapacity: 16)
        #expect(classifier.input == .logs)
        let lines = ["E1129 01:02:03.456789   12 kubelet.go:1] disk /dev/sda1 97% full",
                     "E1129 07:08:09.000001   99 kubelet.go:7] disk /dev/sdb3 12% full",
                     #"{"level":"info","msg":"user alice logged in"}"#]
        let first = classifier.classify(lines)
        #expect(first[0].template == first[1].template && first[0].template != first[2].template && first[0].template.count == 16)
        // The id is FNV-1a 64 of the masked message (DistillText's Fingerprint.of), as 16 hex digits.
        let masked = LogNormalizer().normalize(lines[0]).masked
        let hex = String(Fingerprint.of([masked]), radix: 16)
        #expect(first[0].template == String(repeating: "0", count: 16 - hex.count) + hex)
        #expect(first.allSatisfy { !$0.cached })
        #expect(classifier.prepare(lines[0]).text == "error kubelet.go disk <PATH> <NUM>% full")
        let direct = classifier.student.probabilities(["error kubelet.go disk <PATH> <NUM>% full"])[0]
        #expect(first[0].probabilities == direct && first[1].probabilities == direct)
        let second = classifier.classify(lines)
        #expect(second.allSatisfy(\.cached) && zip(first, second).allSatisfy { $0.probabilities == $1.probabilities })
        let s = classifier.cache!.statistics
        // First call: two misses and one repeat within the batch (a hit); second call: three hits.
        #expect(s.entries == 2 && s.hits == 4 && s.misses == 2)
        #expect(first[0].top(2).count == 2 && first[0].top(2)[0] == first[0].labelIndex)
    }

    @Test("JSON lines: escapes, probabilities, prediction fields parse back")
    func writer() throws {
        var w = JSONLineWriter()
        w.raw("[")
        w.string("a\"b\\c\n\u{1}é")
        for p: Float in [0.5, 1, 0, 0.1234567, 0.9999999, 2e-6] { w.raw(","); w.probability(p) }
        w.raw("]")
        #expect(String(decoding: w.bytes, as: UTF8.self) == #"["a\"b\\c\n\u0001é",0.5,1,0,0.123457,1,2e-06]"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(w.bytes)) as! [Any]
        #expect(parsed[0] as? String == "a\"b\\c\n\u{1}é")
        var line = JSONLineWriter()
        line.raw("{")
        line.predictionFields(Classifier.Prediction(labelIndex: 1, probability: 0.7, probabilities: [0.2, 0.7, 0.1], templateHash: 0xff, cached: false),
                              labels: ["x", "y\"", "z"], topK: 2)
        line.raw("}")
        let object = try JSONSerialization.jsonObject(with: Data(line.bytes)) as! [String: Any]
        #expect(object["label"] as? String == "y\"" && object["template"] as? String == "00000000000000ff")
        let top = object["top"] as! [[String: Any]]
        #expect(top.count == 2 && top[1]["label"] as? String == "x" && (top[1]["probability"] as? Double).map { abs($0 - 0.2) < 1e-6 } == true)
    }
}

@Suite("distill classify streaming")
struct ClassifyStreamingTests {
    /// Each answer must come out before the next line goes in: a slow producer (`tail -f | distill classify`)
    /// is answered line by line, not when a batch fills.
    @Test("each line is answered before the next one is written")
    func lineRate() throws {
        var config = NGramBagConfig(featurizer: NGramFeaturizer(buckets: 1024), embeddingSize: 4, labels: ["normal", "disk"])
        config.input = .logs
        let folder = temporaryFolder()
        try Student.ngramBag(NGramBag(config: config, seed: 1)).save(to: folder)
        let process = Process()
        process.executableURL = distillBinary
        process.arguments = ["classify", "--model", folder.path, "--batch", "4096"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var received = Data()
        for i in 1...3 {
            input.fileHandleForWriting.write(Data("disk full on /dev/sda\(i)\n".utf8))
            let deadline = Date().addingTimeInterval(20)
            while received.filter({ $0 == 10 }).count < i, Date() < deadline {
                received.append(output.fileHandleForReading.availableData)
            }
            let lines = received.split(separator: 10)
            #expect(lines.count == i, "answer \(i) did not arrive before line \(i + 1) was written")
            if lines.count == i {
                let object = try JSONSerialization.jsonObject(with: Data(lines[i - 1])) as? [String: Any]
                #expect(object?["line"] as? Int == i)
            }
        }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
