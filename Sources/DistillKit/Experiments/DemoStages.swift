import DistillCore
import DistillNN
import DistillRuntime
import DistillText
import Foundation

/// The stages of ``Demo/run(log:)``, in the order it runs them.
extension Demo {
    /// How many lines of each part the demo takes.
    struct Sizes {
        var labelled: Int, unlabelled: Int, dev: Int, test: Int, augmentedUnlabelled: Int
    }

    /// The generated corpus split for the demo: (model text, label index) pairs and the records they came from.
    struct Lines {
        var sizes: Sizes
        var normalizer: LogNormalizer
        var generator: LogCorpusGenerator
        /// Records of the training templates and of the held-out ones.
        var train: [LogCorpusGenerator.Record], heldOut: [LogCorpusGenerator.Record]
        var labelled: [(String, Int)], unlabelled: [String], dev: [(String, Int)], test: [(String, Int)]
        var trainTexts: [String] { labelled.map(\.0) + unlabelled }
        var devExamples: [TrainingExample] { dev.map { TrainingExample(text: $0.0, label: $0.1) } }
    }

    /// What the students train on: distillation examples (teacher distributions, gold where labelled, kept
    /// augmented copies) and their hard-label twins' examples.
    struct TrainingData {
        var kd: [TrainingExample], hard: [TrainingExample]
        var augmentation: Augmentation
    }

    /// Class probabilities at the demo's 48 tokens.
    static func probabilities(_ s: Student, _ texts: [String]) -> [[Float]] { s.probabilities(texts, maxLength: 48) }

    /// 1. Corpus: train-split lines for training, held-out-template lines for the test (written to `corpus.jsonl`).
    func makeLines(log: (String) -> Void) throws -> Lines {
        let labels = LogTaxonomy.labels
        let normalizer = LogNormalizer()
        let sizes = quick ? Sizes(labelled: 300, unlabelled: 1200, dev: 200, test: 600, augmentedUnlabelled: 400)
                          : Sizes(labelled: 600, unlabelled: 4000, dev: 300, test: 1500, augmentedUnlabelled: 1000)
        var generator = LogCorpusGenerator(seed: seed)
        generator.heldOutFraction = 0.25
        let records = generator.generate(count: 3 * (sizes.labelled + sizes.unlabelled + sizes.dev + sizes.test))
        let train = records.filter { $0.split == "train" }, heldOut = records.filter { $0.split == "test" }
        func example(_ r: LogCorpusGenerator.Record) -> (String, Int) { (Demo.modelText(r.text, normalizer: normalizer), labels.firstIndex(of: r.label)!) }
        let lines = Lines(sizes: sizes, normalizer: normalizer, generator: generator, train: train, heldOut: heldOut,
                          labelled: train.prefix(sizes.labelled).map(example),
                          unlabelled: train.dropFirst(sizes.labelled).prefix(sizes.unlabelled).map { example($0).0 },
                          dev: train.dropFirst(sizes.labelled + sizes.unlabelled).prefix(sizes.dev).map(example),
                          test: heldOut.prefix(sizes.test).map(example))
        try writeJSONL(records.prefix(sizes.labelled + sizes.unlabelled + sizes.dev + sizes.test * 3), to: output.appendingPathComponent("corpus.jsonl"))
        log("corpus: \(lines.labelled.count) labelled, \(lines.unlabelled.count) unlabelled, \(lines.dev.count) dev, \(lines.test.count) test lines from "
            + "\(generator.heldOutTemplates().count) held-out templates")
        return lines
    }

    /// 2. Teacher: all-MiniLM-L6-v2 with a new classification head, fine-tuned on the labelled lines. Mean pooling,
    /// as sentence-transformers trained this checkpoint (its pooler layer was never trained).
    func fineTuneTeacher(_ lines: Lines, log: (String) -> Void) throws -> (BertForSequenceClassification, WordPieceTokenizer) {
        let teacherModel = try BertForSequenceClassification.load(folder: teacherFolder, newHead: true, labels: LogTaxonomy.labels, pooling: .mean, seed: seed)
        let tokenizer = try WordPieceTokenizer.load(folder: teacherFolder)
        teacherModel.input = .logs
        var t = TrainingConfig()
        t.epochs = 6
        t.batchSize = 16
        t.learningRate = 1e-4
        t.warmupSteps = 10
        t.maxLength = 48
        t.seed = seed
        let start = Date()
        try DistillationTrainer(student: .bert(teacherModel, tokenizer), config: t, train: lines.labelled.map { TrainingExample(text: $0.0, label: $0.1) },
                                dev: lines.devExamples, output: output.appendingPathComponent("teacher")).run()
        log(String(format: "teacher fine-tuned in %.0f s", Date().timeIntervalSince(start)))
        return (teacherModel, tokenizer)
    }

    /// 3. The LLM joins as a second teacher. Per class, each teacher counts with its weight times its F1 on the
    /// labelled dev lines (class reliability), so a teacher that is wrong about a class barely speaks for it; where
    /// the LLM gave no answer, MiniLM alone. A teacher no better on dev than the majority class is left out.
    func joinSecondTeacher(_ llm: @Sendable (_ texts: [String]) async throws -> [[Float]?], lines: Lines, teacher: Student, soft: inout [[Float]],
                           teacherTest: [Int], log: (String) -> Void) async throws -> SecondTeacher {
        let labels = LogTaxonomy.labels, dev = lines.dev, test = lines.test
        let llmTrain = try await llm(lines.trainTexts), llmTest = try await llm(test.map(\.0)), llmDev = try await llm(dev.map(\.0))
        let minilmDev = Self.probabilities(teacher, dev.map(\.0)).map { Optional($0) }
        let reliability = classReliability(devDistributions: [minilmDev, llmDev], devLabels: dev.map(\.1), classes: labels.count)
        let devAnswered = zip(llmDev, dev).compactMap { p, d in p.map { (argmax($0), d.1) } }
        let devAccuracy = devAnswered.isEmpty ? 0 : Double(devAnswered.filter { $0.0 == $0.1 }.count) / Double(devAnswered.count)
        let majority = Double(Dictionary(grouping: dev.map(\.1), by: { $0 }).values.map(\.count).max() ?? 0) / Double(max(dev.count, 1))
        let used = devAccuracy > majority
        if used {
            soft = aggregateTeachers([soft.map { Optional($0) }, llmTrain], weights: [1, secondTeacherWeight], strategy: .classReliability,
                                     reliability: reliability)
        } else {
            log(String(format: "second teacher dropped: its dev accuracy %.4f is not above the majority-class rate %.4f", devAccuracy, majority))
        }
        log("class reliability (dev F1) per label, MiniLM: " + reliability[0].map { String(format: "%.2f", $0) }.joined(separator: " ")
            + "; LLM: " + reliability[1].map { String(format: "%.2f", $0) }.joined(separator: " "))
        let answered = zip(llmTest, test).compactMap { p, t in p.map { ($0, t.1) } }
        let report = EvaluationReport.compute(probabilities: answered.map(\.0), gold: answered.map(\.1), labels: labels,
                                              teacherPredictions: zip(llmTest, teacherTest).compactMap { p, t in p.map { _ in t } })
        let second = SecondTeacher(name: secondTeacherName, weight: secondTeacherWeight, accuracy: report.accuracy, macroF1: report.macroF1,
                                   agreementWithTeacher: report.agreementWithTeacher ?? 0,
                                   covered: (llmTrain + llmTest).compactMap { $0 }.count, asked: lines.trainTexts.count + test.count,
                                   reliability: reliability, devAccuracy: devAccuracy, used: used)
        log(String(format: "second teacher %@: held-out accuracy %.4f, macro-F1 %.4f, agreement with MiniLM %.4f; answered %d of %d lines",
                   secondTeacherName, report.accuracy, report.macroF1, report.agreementWithTeacher ?? 0, second.covered, second.asked))
        return second
    }

    /// 3b. Rule-based augmentation (new variable values, synonym swaps, token dropout, other envelopes): two copies of
    /// every labelled line, one of the first unlabelled ones. The teacher labels each copy, which is kept for
    /// distillation only when the teacher gives it its source's label (the gold label, or the teacher's own for
    /// unlabelled lines) at probability >= 0.5. The hard-label twins get the labelled lines' copies with their gold
    /// labels, unfiltered (they have no teacher). Writes the students' data for the peers of `make bench`.
    func augment(_ lines: Lines, teacher: Student, soft: [[Float]], log: (String) -> Void) throws -> TrainingData {
        let labelled = lines.labelled, sizes = lines.sizes
        var kd = lines.trainTexts.enumerated().map { i, text in TrainingExample(text: text, label: i < labelled.count ? labelled[i].1 : nil, teacher: soft[i]) }
        var hard = labelled.map { TrainingExample(text: $0.0, label: $0.1) }
        var augmenter = LogAugmenter(seed: seed &+ 11)
        var copies: [(text: String, source: Int)] = []
        var seen = Set(lines.trainTexts)
        func addCopies(of raw: String, index: Int, source: Int) {
            for copy in augmenter.augment(raw, index: index) {
                let text = Demo.modelText(copy, normalizer: lines.normalizer)
                if seen.insert(text).inserted { copies.append((text, source)) }
            }
        }
        augmenter.options.copies = 2
        for (i, r) in lines.train.prefix(sizes.labelled).enumerated() { addCopies(of: r.text, index: i, source: i) }
        let fromLabelled = copies.count
        augmenter.options.copies = 1
        for (j, r) in lines.train.dropFirst(sizes.labelled).prefix(sizes.augmentedUnlabelled).enumerated() {
            addCopies(of: r.text, index: sizes.labelled + j, source: labelled.count + j)
        }
        let copySoft = Self.probabilities(teacher, copies.map(\.text))
        let sourceLabels = copies.map { $0.source < labelled.count ? labelled[$0.source].1 : argmax(soft[$0.source]) }
        let threshold: Float = 0.5
        let (kept, dropped) = filterByTeacher(copySoft, labels: sourceLabels, threshold: threshold)
        for k in kept {
            let source = copies[k].source
            kd.append(TrainingExample(text: copies[k].text, label: source < labelled.count ? labelled[source].1 : nil, teacher: copySoft[k]))
        }
        for (text, source) in copies.prefix(fromLabelled) { hard.append(TrainingExample(text: text, label: labelled[source].1)) }
        log("augmentation: \(copies.count) copies (\(fromLabelled) of labelled lines), teacher kept \(kept.count), dropped \(dropped)")
        // The students' data for outside tools: model text, raw line, label (gold, or the teacher's for unlabelled
        // lines and kept augmentations); the held-out lines with their gold labels.
        let labels = LogTaxonomy.labels
        let trainRaw = lines.train.prefix(sizes.labelled).map(\.text) + lines.train.dropFirst(sizes.labelled).prefix(sizes.unlabelled).map(\.text)
        try writeExamples(kd.enumerated().map { i, e in (e.text, i < trainRaw.count ? trainRaw[i] : nil, labels[e.label ?? argmax(e.teacher!)]) },
                          to: output.appendingPathComponent("data/train.jsonl"))
        try writeExamples(zip(lines.test, lines.heldOut.prefix(sizes.test)).map { ($0.0, $1.text, labels[$0.1]) },
                          to: output.appendingPathComponent("data/heldout.jsonl"))
        return TrainingData(kd: kd, hard: hard, augmentation: Augmentation(madeFromLabelled: fromLabelled, madeFromUnlabelled: copies.count - fromLabelled,
                                                                           kept: kept.count, dropped: dropped, threshold: threshold))
    }

    /// 4. Students of about 1M parameters each (>= 20x fewer than the 22.7M teacher): a tiny BERT distilled with
    /// hidden and attention losses from stored teacher features and an n-gram bag, their int8 copies, and both again
    /// on hard labels only.
    func trainStudents(_ lines: Lines, data: TrainingData, teacherModel: BertForSequenceClassification, tokenizer: WordPieceTokenizer,
                       teacherTest: [Int], rows: inout [Row], log: (String) -> Void) throws {
        let labels = LogTaxonomy.labels
        func tinyBert() -> BertForSequenceClassification {
            var c = BertConfig(vocabSize: tokenizer.vocabulary.count, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2,
                               intermediateSize: 128, maxPositionEmbeddings: 48, labels: labels)
            c.distillPooling = .mean
            c.distillInput = .logs
            return BertForSequenceClassification(config: c, seed: seed &+ 7)
        }
        func bag() -> Student {
            var c = NGramBagConfig(featurizer: NGramFeaturizer(buckets: 32_768), embeddingSize: 32, labels: labels)
            c.input = .logs
            return .ngramBag(NGramBag(config: c, seed: seed &+ 8))
        }
        let s = studentTraining
        func train(_ student: Student, _ examples: [TrainingExample], run: String, intermediates: [IntermediateDistillation] = []) throws {
            try DistillationTrainer(student: student, config: s, train: examples, dev: lines.devExamples, output: output.appendingPathComponent("runs/\(run)"),
                                    intermediates: intermediates).run()
        }
        func score(_ name: String, _ student: Student, _ folder: String, save: Bool = true, distilled: Bool = true) throws {
            try evaluate(name, student, folder: output.appendingPathComponent("models/\(folder)"), lines: lines, teacherTest: teacherTest, save: save,
                         distilled: distilled, rows: &rows, log: log)
        }
        let studentModel = tinyBert()
        let intermediate = try IntermediateDistillation(name: "minilm", teacher: teacherModel.bert, student: studentModel.config, layerMap: nil,
                                                        hiddenWeight: 0.1, attentionWeight: 0.1, seed: seed)
        let storeStart = Date()
        let store = try TeacherFeatureStore.openOrBuild(url: output.appendingPathComponent("teacher-features.safetensors"),
                                                        key: "demo-\(seed)-\(quick)-aug\(data.kd.count)", teacher: teacherModel.bert, tokenizer: tokenizer,
                                                        texts: data.kd.map(\.text), hiddenLayers: intermediate.hiddenLayers,
                                                        attentionLayers: intermediate.attentionLayers, maxLength: 48)
        intermediate.useStore(store)
        log(String(format: "teacher features stored (%d MiB FP16) in %.0f s", store.file.fileSize >> 20, Date().timeIntervalSince(storeStart)))
        try train(.bert(studentModel, tokenizer), data.kd, run: "tiny-bert-kd", intermediates: [intermediate])
        try score("tiny BERT 2x32, distilled (KD + hidden + attention)", .bert(studentModel, tokenizer), "tiny-bert-kd")
        let kdBag = bag()
        try train(kdBag, data.kd, run: "bag-kd")
        try score("n-gram bag, distilled (KD)", kdBag, "bag-kd")
        // The edge versions: int8 weights (per-row scales), loaded back from their folders.
        for (name, folder) in [("tiny BERT 2x32, distilled, int8", "tiny-bert-kd"), ("n-gram bag, distilled, int8", "bag-kd")] {
            let int8Folder = output.appendingPathComponent("models/\(folder)-int8")
            try Student.load(from: output.appendingPathComponent("models/\(folder)")).save(to: int8Folder, storage: .int8)
            try score(name, try Student.load(from: int8Folder), "\(folder)-int8", save: false)
        }
        let hardBert = Student.bert(tinyBert(), tokenizer)
        try train(hardBert, data.hard, run: "tiny-bert-hard")
        try score("tiny BERT 2x32, hard labels only", hardBert, "tiny-bert-hard", distilled: false)
        let hardBag = bag()
        try train(hardBag, data.hard, run: "bag-hard")
        try score("n-gram bag, hard labels only", hardBag, "bag-hard", distilled: false)
    }

    /// The students' training settings.
    var studentTraining: TrainingConfig {
        var s = TrainingConfig()
        s.epochs = 1000
        s.maxSteps = quick ? 400 : 800
        s.batchSize = 32
        s.learningRate = 3e-3
        s.warmupSteps = 20
        s.alpha = 0.5
        s.temperature = .constant(1)
        s.maxLength = 48
        s.seed = seed
        s.evaluateEvery = 100
        return s
    }

    /// Saves `student` into `folder` (unless it was loaded from there), scores it on the held-out lines, writes its
    /// model card and adds its row.
    func evaluate(_ name: String, _ student: Student, folder: URL, lines: Lines, teacherTest: [Int], save: Bool = true, distilled: Bool = true,
                  rows: inout [Row], log: (String) -> Void) throws {
        if save { try student.save(to: folder) }
        let test = lines.test
        let p = Self.probabilities(student, test.map(\.0))
        let report = EvaluationReport.compute(probabilities: p, gold: test.map(\.1), labels: LogTaxonomy.labels, teacherPredictions: teacherTest)
        let speed = EvaluationReport.Speed.measure(student, texts: test.map(\.0), maxLength: 48)
        let size = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).reduce(0) { total, f in
            total + (((try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(f).path))?[.size] as? Int) ?? 0)
        }
        let card = ModelCard.Facts(title: "Distill demo: \(name)", teachers: !distilled ? [] : ["all-MiniLM-L6-v2 fine-tuned on the demo's labelled lines (white-box)"],
                                   data: ["the demo's generated log corpus (seed \(seed)): \(lines.labelled.count) labelled, \(lines.unlabelled.count) unlabelled lines",
                                          "test: \(test.count) lines of \(lines.generator.heldOutTemplates().count) held-out templates"], report: report)
        try ModelCard(card, model: .init(student, quantization: Student.quantization(of: folder))).write(into: folder)
        rows.append(Row(model: name, accuracy: report.accuracy, macroF1: report.macroF1, agreementWithTeacher: report.agreementWithTeacher ?? 0,
                        parameters: student.module.parameterCount, sizeOnDiskBytes: size, p50Milliseconds: speed.p50Milliseconds,
                        p99Milliseconds: speed.p99Milliseconds, throughput: speed.batchThroughput))
        log(String(format: "%@: accuracy %.4f, macro-F1 %.4f, agreement %.4f", name, report.accuracy, report.macroF1, report.agreementWithTeacher ?? 0))
    }
}
