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

/// A small synthetic log-classification set: each class has its own vocabulary, with shared noise words.
func syntheticLogs(count: Int, seed: UInt64) -> [(String, Int)] {
    let vocab = [["connection", "refused", "database", "postgres", "query", "timeout"],
                 ["disk", "full", "inode", "filesystem", "mount", "sda1"],
                 ["login", "failed", "password", "user", "token", "expired"]]
    let noise = ["the", "at", "on", "host", "service", "pid", "warn", "error", "node-7", "10.0.0.1"]
    var g = RandomGenerator(seed: seed)
    return (0..<count).map { _ in
        let c = Int(g.next() % 3)
        let words = (0..<(3 + Int(g.next() % 6))).map { _ in g.nextUniform() < 0.55 ? vocab[c][Int(g.next() % 6)] : noise[Int(g.next() % 10)] }
        return (words.joined(separator: " "), c)
    }
}

func tinyBertStudent(seed: UInt64) throws -> Student {
    let texts = syntheticLogs(count: 200, seed: 99).map(\.0)
    let vocabulary = WordPieceTrainer(vocabularySize: 120, minimumFrequency: 1).train(texts)
    var config = BertConfig(vocabSize: vocabulary.count, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2,
                            intermediateSize: 32, maxPositionEmbeddings: 64, labels: ["database", "disk", "auth"])
    config.distillPooling = .mean
    return .bert(BertForSequenceClassification(config: config, seed: seed), try WordPieceTokenizer(vocabulary: vocabulary))
}

func weights(_ s: Student) -> [String: [UInt32]] { s.module.stateDict().mapValues { $0.scalars.map(\.bitPattern) } }

@Suite("Trainer", .serialized)
struct TrainerTests {
    /// Teacher: a wider bag model trained on the labelled set by the trainer itself; its probabilities on the
    /// unlabelled set become the student's soft targets.
    func teacherLabelled(_ texts: [String]) throws -> [[Float]] {
        let labelled = syntheticLogs(count: 120, seed: 7).map { TrainingExample(text: $0.0, label: $0.1) }
        let teacher = Student.ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 2048), embeddingSize: 32,
                                                                      hiddenSize: 16, labels: ["database", "disk", "auth"]), seed: 5))
        var config = TrainingConfig()
        config.epochs = 8
        config.batchSize = 16
        config.learningRate = 0.02
        try DistillationTrainer(student: teacher, config: config, train: labelled, output: temporaryFolder()).run()
        let p = softmax(teacher.logits(texts))
        return (0..<texts.count).map { Array(p.scalars[($0 * 3)..<($0 * 3 + 3)]) }
    }

    func data() throws -> (train: [TrainingExample], dev: [TrainingExample]) {
        let unlabelled = syntheticLogs(count: 80, seed: 11).map(\.0)
        let soft = try teacherLabelled(unlabelled)
        var train = zip(unlabelled, soft).map { TrainingExample(text: $0.0, teacher: $0.1) }
        train += syntheticLogs(count: 20, seed: 12).map { TrainingExample(text: $0.0, label: $0.1) }
        let dev = syntheticLogs(count: 40, seed: 13).map { TrainingExample(text: $0.0, label: $0.1) }
        return (train, dev)
    }

    @Test("an interrupted run resumed from its checkpoint ends with the same weights as an uninterrupted one",
          arguments: ["bert", "bag", "bag-merged", "bag-sgd"])
    func exactResume(kind: String) throws {
        var (train, dev) = try data()
        var config = TrainingConfig()
        if kind == "bag-merged" {
            // Merged duplicates: weights, and an epoch of 250 examples cycling through the 100 (several passes).
            for i in train.indices where i % 3 == 0 { train[i].weight = Float(1 + i % 7) }
            config.epochExamples = 250
        }
        config.epochs = 3
        config.batchSize = 16
        config.learningRate = 0.01
        config.warmupSteps = 3
        config.checkpointEvery = 5
        config.evaluateEvery = 8
        if kind == "bag-sgd" { config.optimizer = .sgd; config.learningRate = 0.1 }
        func makeStudent() throws -> Student {
            kind == "bert" ? try tinyBertStudent(seed: 3)
                : .ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 1024), embeddingSize: 8, labels: ["database", "disk", "auth"]), seed: 3))
        }
        let straight = try makeStudent()
        let folderA = temporaryFolder()
        try DistillationTrainer(student: straight, config: config, train: train, dev: dev, output: folderA).run()

        let folderB = temporaryFolder()
        let interrupted = try DistillationTrainer(student: try makeStudent(), config: config, train: train, dev: dev, output: folderB)
        interrupted.stopAfterStep = 12  // "killed" after step 12; the last checkpoint is at step 10
        try interrupted.run()
        let resumedStudent = try makeStudent()  // a fresh process: fresh weights, restored from the checkpoint
        try DistillationTrainer(student: resumedStudent, config: config, train: train, dev: dev, output: folderB).run(resume: true)

        #expect(weights(resumedStudent) == weights(straight))
        let logA = try String(contentsOf: folderA.appendingPathComponent("train.jsonl"), encoding: .utf8)
        let logB = try String(contentsOf: folderB.appendingPathComponent("train.jsonl"), encoding: .utf8)
        #expect(logA == logB)
        #expect(logA.split(separator: "\n").count > 15)
        // Steps: 3 epochs of ceil(examples an epoch / 16).
        let steps = logA.split(separator: "\n").filter { $0.contains("\"lr\"") }.count
        #expect(steps == 3 * (((kind == "bag-merged" ? 250 : train.count) + 15) / 16), "\(steps) steps")
        #expect(FileManager.default.fileExists(atPath: folderB.appendingPathComponent("final/model.safetensors").path))
        let bestA = try Data(contentsOf: folderA.appendingPathComponent("best/model.safetensors"))
        #expect(try Data(contentsOf: folderB.appendingPathComponent("best/model.safetensors")) == bestA)
    }

    @Test("best/ holds the weights of the best dev evaluation, kept in memory and written with the checkpoints")
    func bestWeights() throws {
        let (train, dev) = try data()
        var config = TrainingConfig()
        config.epochs = 6
        config.batchSize = 16
        config.learningRate = 0.02
        config.evaluateEvery = 4
        config.checkpointSeconds = 3600  // no checkpoint before the end
        let student = Student.ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 1024), embeddingSize: 8, labels: ["database", "disk", "auth"]), seed: 2))
        var evaluated: [(metric: Double, weights: [String: [UInt32]])] = []
        let output = temporaryFolder()
        let trainer = try DistillationTrainer(student: student, config: config, train: train, dev: dev, output: output)
        trainer.onEvaluation = { _, _, report in evaluated.append((report.macroF1, weights(student))) }
        trainer.stopAfterStep = 9  // two evaluations done, no checkpoint yet: nothing in best/ (as after a kill)
        try trainer.run()
        #expect(evaluated.count == 2)
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("best").path))

        evaluated = []
        let full = try DistillationTrainer(student: student, config: config, train: train, dev: dev, output: output)
        full.onEvaluation = { _, _, report in evaluated.append((report.macroF1, weights(student))) }
        try full.run()
        let best = try #require(evaluated.indices.max { (evaluated[$0].metric, -$0) < (evaluated[$1].metric, -$1) })
        #expect(best < evaluated.count - 1, "the test needs a best evaluation before the last one")
        let saved = try Student.load(from: output.appendingPathComponent("best"))
        #expect(weights(saved) == evaluated[best].weights)
        #expect(weights(saved) != weights(student))
    }

    @Test("soft labels from a teacher help: the student agrees with the teacher and beats chance on dev")
    func learns() throws {
        let (train, dev) = try data()
        var config = TrainingConfig()
        config.epochs = 10
        config.batchSize = 16
        config.learningRate = 0.02
        config.earlyStoppingPatience = 4
        let student = Student.ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 1024), embeddingSize: 16, labels: ["database", "disk", "auth"]), seed: 1))
        let trainer = try DistillationTrainer(student: student, config: config, train: train, dev: dev, output: temporaryFolder())
        var lines: [String] = []
        let report = try #require(try trainer.run { lines.append($0.line) })
        #expect(report.accuracy > 0.8, "\(report.table())")
        #expect(lines.last?.contains("steps/s") == true && lines.last?.contains("ETA") == true)
    }

    @Test("embedding_updates: sparse moves only the rows the data reads, dense moves all; both learn")
    func sparseAndDenseUpdates() throws {
        let train = syntheticLogs(count: 120, seed: 21).map { TrainingExample(text: $0.0, label: $0.1) }
        let dev = syntheticLogs(count: 40, seed: 22).map { TrainingExample(text: $0.0, label: $0.1) }
        let bagConfig = NGramBagConfig(featurizer: NGramFeaturizer(buckets: 4096), embeddingSize: 16, labels: ["database", "disk", "auth"])
        let read = Set(train.flatMap { bagConfig.featurizer.features($0.text) })
        #expect(read.count < 4096 / 2, "the test needs rows no example reads")
        var results: [TrainingConfig.EmbeddingUpdates: (accuracy: Double, moved: Set<Int>)] = [:]
        for updates in TrainingConfig.EmbeddingUpdates.allCases {
            let model = NGramBag(config: bagConfig, seed: 3)
            let before = model.embeddings.weight.scalars
            var config = TrainingConfig()
            config.epochs = 6
            config.batchSize = 16
            config.learningRate = 0.02
            config.embeddingUpdates = updates
            let output = temporaryFolder()
            let report = try #require(try DistillationTrainer(student: .ngramBag(model), config: config, train: train, dev: dev, output: output).run())
            let after = model.embeddings.weight.scalars
            var moved = Set<Int>()
            for r in 0..<4096 where before[(r * 16)..<(r * 16 + 16)] != after[(r * 16)..<(r * 16 + 16)] { moved.insert(r) }
            results[updates] = (report.accuracy, moved)
            // No checkpoint_every: checkpoints by time, and always one at the end to resume from.
            #expect(DistillationTrainer.completeCheckpoint(in: output) != nil)
        }
        let sparse = try #require(results[.sparse]), dense = try #require(results[.dense])
        #expect(sparse.moved == read, "sparse updates move exactly the rows some example reads")
        #expect(dense.moved.count == 4096, "dense AdamW decays every row")
        #expect(sparse.accuracy > 0.8 && dense.accuracy > 0.8, "sparse \(sparse.accuracy), dense \(dense.accuracy)")
    }

    @Test("labels outside the set and wrong-sized teacher rows are errors naming the example")
    func badData() throws {
        let student = try tinyBertStudent(seed: 1)
        #expect(throws: DistillError.invalidData(file: "training set", line: 2, detail: "label index 7 is outside the 3 labels")) {
            try DistillationTrainer(student: student, config: TrainingConfig(),
                                    train: [TrainingExample(text: "a", label: 0), TrainingExample(text: "b", label: 7)], output: temporaryFolder())
        }
        #expect(throws: DistillError.self) {
            try DistillationTrainer(student: student, config: TrainingConfig(), train: [TrainingExample(text: "a", teacher: [0.5, 0.5])], output: temporaryFolder())
        }
    }
}

@Suite("Intermediate distillation in the trainer", .serialized)
struct IntermediateTrainerTests {
    @Test("hidden (scheduled weight) + attention + value-relation losses: logged, projections learn, resume stays exact")
    func intermediate() throws {
        // Teacher: 4 layers x 32 wide, 4 heads; student: 2 layers x 16 wide, 2 heads, same vocabulary.
        let tokenizer = try #require(try tinyBertStudent(seed: 1).model as? BertClassifier).tokenizer
        var teacherConfig = BertConfig(vocabSize: tokenizer.vocabulary.count, hiddenSize: 32, numHiddenLayers: 4, numAttentionHeads: 4,
                                       intermediateSize: 64, maxPositionEmbeddings: 64, labels: ["database", "disk", "auth"])
        teacherConfig.hiddenDropoutProb = 0
        let teacherModel = BertModel(config: teacherConfig, seed: 2)
        let train = syntheticLogs(count: 48, seed: 31).map { TrainingExample(text: $0.0, label: $0.1) }
        var config = TrainingConfig()
        config.epochs = 2
        config.batchSize = 12
        config.checkpointEvery = 3
        func run(stopAfter: Int?, resume: Bool, folder: URL) throws -> (Student, [IntermediateDistillation]) {
            let student = try tinyBertStudent(seed: 4)
            let model = try #require(student.model as? BertClassifier).model
            let d = try IntermediateDistillation(name: "t", teacher: teacherModel, student: model.config, layerMap: nil,
                                                 hiddenWeight: .linear(start: 2, end: 0.5, steps: 8), attentionWeight: 1,
                                                 valueRelationWeight: 0.5, seed: 9)
            let trainer = try DistillationTrainer(student: student, config: config, train: train, output: folder, intermediates: [d])
            trainer.stopAfterStep = stopAfter
            try trainer.run(resume: resume)
            return (student, [d])
        }
        let a = temporaryFolder(), b = temporaryFolder()
        let (straight, da) = try run(stopAfter: nil, resume: false, folder: a)
        #expect(da[0].layerMap.pairs.map(\.teacher) == [2, 4])
        _ = try run(stopAfter: 5, resume: false, folder: b)
        let (resumed, db) = try run(stopAfter: nil, resume: true, folder: b)
        #expect(weights(straight) == weights(resumed))
        #expect(da[0].stateDict().mapValues { $0.scalars } == db[0].stateDict().mapValues { $0.scalars })
        let log = try String(contentsOf: a.appendingPathComponent("train.jsonl"), encoding: .utf8)
        let first = try JSONSerialization.jsonObject(with: Data(log.split(separator: "\n")[0].utf8)) as! [String: Any]
        #expect((first["hidden"] as? Double ?? 0) > 0 && (first["attention"] as? Double ?? 0) > 0)
        // Projections are trained (not at their initial values) and not part of the exported student.
        let fresh = try IntermediateDistillation(name: "t", teacher: teacherModel, student: try #require(straight.model as? BertClassifier).model.config,
                                                 layerMap: nil, hiddenWeight: 1, attentionWeight: 1, valueRelationWeight: 0.5, seed: 9)
        #expect(fresh.stateDict()["0.weight"]!.scalars != da[0].stateDict()["0.weight"]!.scalars)
        #expect(!straight.module.stateDict().keys.contains { $0.contains("projection") })
    }
}

@Suite("Teacher feature store")
struct TeacherFeatureStoreTests {
    @Test("stored FP16 features give the same losses as recomputing, and the teacher can leave memory")
    func storeMatchesRecompute() throws {
        let tiny = try #require(try tinyBertStudent(seed: 1).model as? BertClassifier)
        let (studentModel, tokenizer) = (tiny.model, tiny.tokenizer)
        let teacherConfig = BertConfig(vocabSize: tokenizer.vocabulary.count, hiddenSize: 32, numHiddenLayers: 4, numAttentionHeads: 4,
                                       intermediateSize: 64, maxPositionEmbeddings: 64, labels: ["database", "disk", "auth"])
        let teacher = BertModel(config: teacherConfig, seed: 2)
        let texts = syntheticLogs(count: 20, seed: 41).map(\.0)
        let recompute = try IntermediateDistillation(name: "t", teacher: teacher, student: studentModel.config, layerMap: nil,
                                                     hiddenWeight: 1, attentionWeight: 1, valueRelationWeight: 1, seed: 3)
        let stored = try IntermediateDistillation(name: "t", teacher: teacher, student: studentModel.config, layerMap: nil,
                                                  hiddenWeight: 1, attentionWeight: 1, valueRelationWeight: 1, seed: 3)
        let url = temporaryFolder().appendingPathComponent("t.features.safetensors")
        let store = try TeacherFeatureStore.openOrBuild(url: url, key: "k", teacher: teacher, tokenizer: tokenizer, texts: texts,
                                                        hiddenLayers: stored.hiddenLayers, attentionLayers: stored.attentionLayers,
                                                        valueRelationLayer: stored.valueRelationLayer, maxLength: 32)
        stored.useStore(store)
        #expect(store.file.entry("value_relation.4")?.shape.first == 20)
        #expect(stored.teacher == nil && store.file.entry("hidden.2")?.dtype == .f16)
        let indices = [3, 7, 11, 19]
        let batch = tokenizer.encodeBatch(indices.map { texts[$0] }, maxLength: 32)
        let out = studentModel.bert(batch, outputHiddenStates: true, outputAttentions: true, outputValues: true)
        let (a, ha, aa) = try recompute.loss(student: out, batch: batch, indices: indices)
        let (b, hb, ab) = try stored.loss(student: out, batch: batch, indices: indices)
        #expect(abs(a.item - b.item) <= 1e-3 * abs(a.item))
        #expect(abs(ha - hb) <= 1e-3 * ha && abs(aa - ab) <= 1e-2 * max(aa, 1e-3), "hidden \(ha) vs \(hb), attention + value relation \(aa) vs \(ab)")
        // Reopening with the same key reuses the file; a different key rebuilds it.
        let again = try TeacherFeatureStore.openOrBuild(url: url, key: "k", teacher: teacher, tokenizer: tokenizer, texts: [],
                                                        hiddenLayers: stored.hiddenLayers, attentionLayers: stored.attentionLayers, maxLength: 32)
        #expect(again.file.entry("lengths")?.shape == [20])
    }
}

@Suite("Trainer robustness", .serialized)
struct TrainerRobustnessTests {
    func bag() -> Student {
        .ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 512), embeddingSize: 8, labels: ["database", "disk", "auth"]), seed: 2))
    }
    let train = syntheticLogs(count: 64, seed: 51).map { TrainingExample(text: $0.0, label: $0.1) }

    @Test("a kill between the two renames of a checkpoint swap is recovered from the staged copy")
    func recoversStagedCheckpoint() throws {
        var config = TrainingConfig()
        config.epochs = 2
        config.batchSize = 16
        config.checkpointEvery = 2
        let straight = bag(), folder = temporaryFolder()
        try DistillationTrainer(student: straight, config: config, train: train, output: temporaryFolder()).run()
        let t = try DistillationTrainer(student: bag(), config: config, train: train, output: folder)
        t.stopAfterStep = 5
        try t.run()
        // Simulate the kill: checkpoint/ already moved away, the new one still under its staging name.
        try FileManager.default.moveItem(at: folder.appendingPathComponent("checkpoint"), to: folder.appendingPathComponent(".checkpoint.saving-99999"))
        let resumed = bag()
        try DistillationTrainer(student: resumed, config: config, train: train, output: folder).run(resume: true)
        #expect(weights(resumed) == weights(straight))
    }

    @Test("resuming with another configuration is refused, naming the checkpoint")
    func refusesForeignCheckpoint() throws {
        var config = TrainingConfig()
        config.epochs = 1
        config.batchSize = 16
        let folder = temporaryFolder()
        try DistillationTrainer(student: bag(), config: config, train: train, output: folder).run()
        config.learningRate = 0.1
        do {
            try DistillationTrainer(student: bag(), config: config, train: train, output: folder).run(resume: true)
            Issue.record("resumed another run's checkpoint")
        } catch let DistillError.checkpointOfAnotherRun(path) {
            #expect(path.hasSuffix("checkpoint/state.json"))
            #expect(DistillError.checkpointOfAnotherRun(path: path).localizedDescription.contains("another recipe or data"))
        }
    }

    @Test("an early-stopped run resumed takes no extra step")
    func earlyStopResume() throws {
        var config = TrainingConfig()
        config.epochs = 30
        config.batchSize = 16
        config.evaluateEvery = 2
        config.earlyStoppingPatience = 1
        config.learningRate = 1e-6  // nothing improves after the first evaluation
        let dev = syntheticLogs(count: 20, seed: 52).map { TrainingExample(text: $0.0, label: $0.1) }
        let folder = temporaryFolder()
        let first = bag()
        try DistillationTrainer(student: first, config: config, train: train, dev: dev, output: folder).run()
        let lines = try String(contentsOf: folder.appendingPathComponent("train.jsonl"), encoding: .utf8).split(separator: "\n").count
        let again = bag()
        try DistillationTrainer(student: again, config: config, train: train, dev: dev, output: folder).run(resume: true)
        #expect(try String(contentsOf: folder.appendingPathComponent("train.jsonl"), encoding: .utf8).split(separator: "\n").count == lines)
        #expect(weights(again) == weights(first))
        #expect(lines < 30 * 4)
    }

    @Test("a teacher without a distribution for an example takes no part in it")
    func partialCoverage() {
        let a: [[Float]?] = [[0.8, 0.2], [0.6, 0.4]]
        let b: [[Float]?] = [nil, [0, 1]]
        let out = aggregateTeachers([a, b], weights: [1, 1], strategy: .weightedMean)
        #expect(out[0] == [0.8, 0.2])
        #expect(abs(out[1][0] - 0.3) < 1e-6)
        #expect(teacherAgreement([a, b], aggregate: out) == [0.5, 1])  // a covers 2 examples (agrees on 1), b covers 1
    }
}
