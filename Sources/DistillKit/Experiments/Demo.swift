import DistillCore
import DistillNN
import DistillRuntime
import DistillText
import Foundation

/// The end-to-end demo (`distill demo`): generate a log corpus with held-out templates, fine-tune the
/// all-MiniLM-L6-v2 teacher on a small labelled part, let it label the unlabelled part, distil a tiny BERT
/// student (KD + hidden + attention losses) and an n-gram bag student, train their hard-label-only twins, and
/// compare everything on lines from templates no model saw in training.
public struct Demo {
    public var teacherFolder: URL
    public var output: URL
    /// Smaller sets and fewer steps (about a third of the time).
    public var quick = false
    public var seed: UInt64 = 1
    /// A second teacher (the LLM of `--llm-teacher`): labels texts, nil where it gave no distribution.
    public var secondTeacher: ((_ texts: [String]) throws -> [[Float]?])?
    public var secondTeacherName = "LLM"
    /// Its weight next to the fine-tuned MiniLM's 1 (each also scaled per class by its dev F1).
    public var secondTeacherWeight: Float = 0.5

    public init(teacherFolder: URL, output: URL) {
        self.teacherFolder = teacherFolder
        self.output = output
    }

    /// One row of the result table.
    public struct Row: Codable, Sendable {
        public var model: String
        public var accuracy: Double
        public var macroF1: Double
        public var agreementWithTeacher: Double
        public var parameters: Int
        public var sizeOnDiskBytes: Int
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var throughput: Double
    }

    public struct Result: Codable, Sendable {
        public var date: String
        public var machine: String
        public var wallSeconds: Double
        public var labelled: Int, unlabelled: Int, test: Int, heldOutTemplates: Int
        public var rows: [Row]
        /// With a second teacher: its own scores on the held-out lines and how many training lines it covered.
        public var secondTeacher: SecondTeacher?
        /// Rule-based augmented copies of training lines and what the teacher filter did with them.
        public var augmentation: Augmentation?
    }

    /// Counts of the rule-based augmentation step.
    public struct Augmentation: Codable, Sendable {
        /// Copies made (distinct model texts, different from their source), from labelled and from unlabelled lines.
        public var madeFromLabelled: Int, madeFromUnlabelled: Int
        /// Copies the teacher relabelled with their source's label at probability >= `threshold` (kept for distillation).
        public var kept: Int
        public var dropped: Int
        public var threshold: Float
    }

    public struct SecondTeacher: Codable, Sendable {
        public var name: String
        public var weight: Float
        public var accuracy: Double
        public var macroF1: Double
        /// Agreement with the fine-tuned MiniLM teacher on the held-out lines.
        public var agreementWithTeacher: Double
        /// Training and test lines it gave a distribution for.
        public var covered: Int
        public var asked: Int
        /// Per label, the dev F1 that scaled each teacher's vote: `[MiniLM, LLM]`.
        public var reliability: [[Float]]
        public var devAccuracy: Double
        /// False when its dev accuracy was not above the majority-class rate: the students then learned from MiniLM alone.
        public var used: Bool
    }

    /// The text every model reads: level, source and the masked message (envelope removed).
    public static func modelText(_ line: String, normalizer: LogNormalizer) -> String { TextInput.modelText(normalizer.normalize(line)) }

    public func run(log: (String) -> Void) throws -> Result {
        let started = Date()
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let labels = LogTaxonomy.labels
        let normalizer = LogNormalizer()
        let sizes = quick ? (labelled: 300, unlabelled: 1200, dev: 200, test: 600, augmentedUnlabelled: 400)
                          : (labelled: 600, unlabelled: 4000, dev: 300, test: 1500, augmentedUnlabelled: 1000)
        // 1. Corpus: train-split lines for training, held-out-template lines for the test.
        var generator = LogCorpusGenerator(seed: seed)
        generator.heldOutFraction = 0.25
        let records = generator.generate(count: 3 * (sizes.labelled + sizes.unlabelled + sizes.dev + sizes.test))
        let train = records.filter { $0.split == "train" }, heldOut = records.filter { $0.split == "test" }
        func example(_ r: LogCorpusGenerator.Record) -> (String, Int) { (Demo.modelText(r.text, normalizer: normalizer), labels.firstIndex(of: r.label)!) }
        let labelled = train.prefix(sizes.labelled).map(example)
        let unlabelled = train.dropFirst(sizes.labelled).prefix(sizes.unlabelled).map { example($0).0 }
        let dev = train.dropFirst(sizes.labelled + sizes.unlabelled).prefix(sizes.dev).map(example)
        let test = heldOut.prefix(sizes.test).map(example)
        try writeJSONL(records.prefix(sizes.labelled + sizes.unlabelled + sizes.dev + sizes.test * 3), to: output.appendingPathComponent("corpus.jsonl"))
        log("corpus: \(labelled.count) labelled, \(unlabelled.count) unlabelled, \(dev.count) dev, \(test.count) test lines from \(generator.heldOutTemplates().count) held-out templates")

        // 2. Teacher: all-MiniLM-L6-v2 with a new classification head, fine-tuned on the labelled lines.
        // Mean pooling, as sentence-transformers trained this checkpoint (its pooler layer was never trained).
        let teacherModel = try BertForSequenceClassification.load(folder: teacherFolder, newHead: true, labels: labels, pooling: .mean, seed: seed)
        let tokenizer = try WordPieceTokenizer.load(folder: teacherFolder)
        teacherModel.input = .logs
        let teacher = Student.bert(teacherModel, tokenizer)
        var t = TrainingConfig()
        t.epochs = quick ? 6 : 6
        t.batchSize = 16
        t.learningRate = 1e-4
        t.warmupSteps = 10
        t.maxLength = 48
        t.seed = seed
        let teacherStart = Date()
        let teacherTrainer = try DistillationTrainer(student: teacher, config: t, train: labelled.map { TrainingExample(text: $0.0, label: $0.1) },
                                                     dev: dev.map { TrainingExample(text: $0.0, label: $0.1) }, output: output.appendingPathComponent("teacher"))
        try teacherTrainer.run()
        log(String(format: "teacher fine-tuned in %.0f s", Date().timeIntervalSince(teacherStart)))

        // 3. Teacher labels the training texts (stored once).
        func probabilities(_ s: Student, _ texts: [String]) -> [[Float]] { s.probabilities(texts, maxLength: 48) }
        let trainTexts = labelled.map(\.0) + unlabelled
        var soft = probabilities(teacher, trainTexts)
        let teacherTest = probabilities(teacher, test.map(\.0)).map(argmax)
        log("teacher labelled \(trainTexts.count) training lines")
        var second: SecondTeacher?
        if let secondTeacher {
            // The LLM joins as a second teacher. Per class, each teacher counts with its weight times its F1 on the
            // labelled dev lines (class reliability), so a teacher that is wrong about a class barely speaks for it;
            // where the LLM gave no answer, MiniLM alone.
            let llmTrain = try secondTeacher(trainTexts), llmTest = try secondTeacher(test.map(\.0)), llmDev = try secondTeacher(dev.map(\.0))
            let minilmDev = probabilities(teacher, dev.map(\.0)).map { Optional($0) }
            let reliability = classReliability(devDistributions: [minilmDev, llmDev], devLabels: dev.map(\.1), classes: labels.count)
            // A teacher less accurate on dev than always answering the most frequent label has nothing to teach.
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
            second = SecondTeacher(name: secondTeacherName, weight: secondTeacherWeight, accuracy: report.accuracy, macroF1: report.macroF1,
                                   agreementWithTeacher: report.agreementWithTeacher ?? 0,
                                   covered: (llmTrain + llmTest).compactMap { $0 }.count, asked: trainTexts.count + test.count, reliability: reliability,
                                   devAccuracy: devAccuracy, used: used)
            log(String(format: "second teacher %@: held-out accuracy %.4f, macro-F1 %.4f, agreement with MiniLM %.4f; answered %d of %d lines",
                       secondTeacherName, report.accuracy, report.macroF1, report.agreementWithTeacher ?? 0, second!.covered, second!.asked))
        }
        var kdTrain = trainTexts.enumerated().map { i, text in
            TrainingExample(text: text, label: i < labelled.count ? labelled[i].1 : nil, teacher: soft[i])
        }
        var hardTrain = labelled.map { TrainingExample(text: $0.0, label: $0.1) }

        // 3b. Rule-based augmentation (new variable values, synonym swaps, token dropout, other envelopes): two
        // copies of every labelled line, one of the first unlabelled ones. The teacher labels each copy, which is
        // kept for distillation only when the teacher gives it its source's label (the gold label, or the teacher's
        // own for unlabelled lines) at probability >= 0.5. The hard-label twins get the labelled lines' copies with
        // their gold labels, unfiltered (they have no teacher).
        var augmenter = LogAugmenter(seed: seed &+ 11)
        var copies: [(text: String, source: Int)] = []
        var seen = Set(trainTexts)
        func addCopies(of raw: String, index: Int, source: Int) {
            for copy in augmenter.augment(raw, index: index) {
                let text = Demo.modelText(copy, normalizer: normalizer)
                if seen.insert(text).inserted { copies.append((text, source)) }
            }
        }
        augmenter.options.copies = 2
        for (i, r) in train.prefix(sizes.labelled).enumerated() { addCopies(of: r.text, index: i, source: i) }
        let fromLabelled = copies.count
        augmenter.options.copies = 1
        for (j, r) in train.dropFirst(sizes.labelled).prefix(sizes.augmentedUnlabelled).enumerated() {
            addCopies(of: r.text, index: sizes.labelled + j, source: labelled.count + j)
        }
        let copySoft = probabilities(teacher, copies.map(\.text))
        let sourceLabels = copies.map { $0.source < labelled.count ? labelled[$0.source].1 : argmax(soft[$0.source]) }
        let threshold: Float = 0.5
        let (kept, dropped) = filterByTeacher(copySoft, labels: sourceLabels, threshold: threshold)
        for k in kept {
            let source = copies[k].source
            kdTrain.append(TrainingExample(text: copies[k].text, label: source < labelled.count ? labelled[source].1 : nil, teacher: copySoft[k]))
        }
        for (text, source) in copies.prefix(fromLabelled) { hardTrain.append(TrainingExample(text: text, label: labelled[source].1)) }
        let augmentation = Augmentation(madeFromLabelled: fromLabelled, madeFromUnlabelled: copies.count - fromLabelled, kept: kept.count,
                                        dropped: dropped, threshold: threshold)
        log("augmentation: \(copies.count) copies (\(fromLabelled) of labelled lines), teacher kept \(kept.count), dropped \(dropped)")
        let devExamples = dev.map { TrainingExample(text: $0.0, label: $0.1) }

        // The students' data for outside tools (the peers of `make bench`): model text, raw line, label (gold, or the
        // teacher's for unlabelled lines and kept augmentations); the held-out lines with their gold labels.
        let trainRaw = train.prefix(sizes.labelled).map(\.text) + train.dropFirst(sizes.labelled).prefix(sizes.unlabelled).map(\.text)
        try writeExamples(kdTrain.enumerated().map { i, e in (e.text, i < trainRaw.count ? trainRaw[i] : nil, labels[e.label ?? argmax(e.teacher!)]) },
                          to: output.appendingPathComponent("data/train.jsonl"))
        try writeExamples(zip(test, heldOut.prefix(sizes.test)).map { ($0.0, $1.text, labels[$0.1]) }, to: output.appendingPathComponent("data/heldout.jsonl"))

        // 4. Students: ~1M parameters each (>= 20x fewer than the 22.7M teacher).
        func tinyBert() -> Student {
            var c = BertConfig(vocabSize: tokenizer.vocabulary.count, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2,
                               intermediateSize: 128, maxPositionEmbeddings: 48, labels: labels)
            c.distillPooling = .mean
            c.distillInput = .logs
            return .bert(BertForSequenceClassification(config: c, seed: seed &+ 7), tokenizer)
        }
        func bag() -> Student {
            var c = NGramBagConfig(featurizer: NGramFeaturizer(buckets: 32_768), embeddingSize: 32, labels: labels)
            c.input = .logs
            return .ngramBag(NGramBag(config: c, seed: seed &+ 8))
        }
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
        var rows: [Row] = []
        func evaluate(_ name: String, _ student: Student, folder: URL, save: Bool = true, distilled: Bool = true) throws {
            if save { try student.save(to: folder) }
            let p = probabilities(student, test.map(\.0))
            let report = EvaluationReport.compute(probabilities: p, gold: test.map(\.1), labels: labels, teacherPredictions: teacherTest)
            let speed = EvaluationReport.Speed.measure(student, texts: test.map(\.0), maxLength: 48)
            let size = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).reduce(0) { total, f in
                total + (((try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(f).path))?[.size] as? Int) ?? 0)
            }
            let card = ModelCard.Facts(title: "Distill demo: \(name)", teachers: !distilled ? [] : ["all-MiniLM-L6-v2 fine-tuned on the demo's labelled lines (white-box)"],
                                       data: ["the demo's generated log corpus (seed \(seed)): \(labelled.count) labelled, \(unlabelled.count) unlabelled lines",
                                              "test: \(test.count) lines of \(generator.heldOutTemplates().count) held-out templates"], report: report)
            try ModelCard(card, model: .init(student, quantization: Student.quantization(of: folder))).write(into: folder)
            rows.append(Row(model: name, accuracy: report.accuracy, macroF1: report.macroF1, agreementWithTeacher: report.agreementWithTeacher ?? 0,
                            parameters: student.module.parameterCount, sizeOnDiskBytes: size, p50Milliseconds: speed.p50Milliseconds,
                            p99Milliseconds: speed.p99Milliseconds, throughput: speed.batchThroughput))
            log(String(format: "%@: accuracy %.4f, macro-F1 %.4f, agreement %.4f", name, report.accuracy, report.macroF1, report.agreementWithTeacher ?? 0))
        }
        try evaluate("teacher: all-MiniLM-L6-v2 fine-tuned", teacher, folder: output.appendingPathComponent("models/teacher"), distilled: false)

        let kdBert = tinyBert()
        guard case let .bert(studentModel, _) = kdBert else { fatalError("tiny BERT is a BERT") }
        let intermediate = try IntermediateDistillation(name: "minilm", teacher: teacherModel.bert, student: studentModel.config, layerMap: nil,
                                                        hiddenWeight: 0.1, attentionWeight: 0.1, seed: seed)
        let storeStart = Date()
        let store = try TeacherFeatureStore.openOrBuild(url: output.appendingPathComponent("teacher-features.safetensors"), key: "demo-\(seed)-\(quick)-aug\(kdTrain.count)",
                                                        teacher: teacherModel.bert, tokenizer: tokenizer, texts: kdTrain.map(\.text),
                                                        hiddenLayers: intermediate.hiddenLayers, attentionLayers: intermediate.attentionLayers, maxLength: 48)
        intermediate.useStore(store)
        log(String(format: "teacher features stored (%d MiB FP16) in %.0f s", store.file.fileSize >> 20, Date().timeIntervalSince(storeStart)))
        try DistillationTrainer(student: kdBert, config: s, train: kdTrain, dev: devExamples, output: output.appendingPathComponent("runs/tiny-bert-kd"),
                                intermediates: [intermediate]).run()
        try evaluate("tiny BERT 2x32, distilled (KD + hidden + attention)", kdBert, folder: output.appendingPathComponent("models/tiny-bert-kd"))
        let kdBag = bag()
        try DistillationTrainer(student: kdBag, config: s, train: kdTrain, dev: devExamples, output: output.appendingPathComponent("runs/bag-kd")).run()
        try evaluate("n-gram bag, distilled (KD)", kdBag, folder: output.appendingPathComponent("models/bag-kd"))
        // The edge versions: int8 weights (per-row scales), loaded back from their folders.
        for (name, folder) in [("tiny BERT 2x32, distilled, int8", "tiny-bert-kd"), ("n-gram bag, distilled, int8", "bag-kd")] {
            let int8Folder = output.appendingPathComponent("models/\(folder)-int8")
            try Student.load(from: output.appendingPathComponent("models/\(folder)")).save(to: int8Folder, storage: .int8)
            try evaluate(name, try Student.load(from: int8Folder), folder: int8Folder, save: false)
        }
        let hardBert = tinyBert()
        try DistillationTrainer(student: hardBert, config: s, train: hardTrain, dev: devExamples, output: output.appendingPathComponent("runs/tiny-bert-hard")).run()
        try evaluate("tiny BERT 2x32, hard labels only", hardBert, folder: output.appendingPathComponent("models/tiny-bert-hard"), distilled: false)
        let hardBag = bag()
        try DistillationTrainer(student: hardBag, config: s, train: hardTrain, dev: devExamples, output: output.appendingPathComponent("runs/bag-hard")).run()
        try evaluate("n-gram bag, hard labels only", hardBag, folder: output.appendingPathComponent("models/bag-hard"), distilled: false)

        let formatter = ISO8601DateFormatter()
        let result = Result(date: formatter.string(from: Date()), machine: "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB",
                            wallSeconds: Date().timeIntervalSince(started), labelled: labelled.count, unlabelled: unlabelled.count, test: test.count,
                            heldOutTemplates: generator.heldOutTemplates().count, rows: rows, secondTeacher: second, augmentation: augmentation)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: output.appendingPathComponent("report.json"), options: .atomic)
        try Data(Demo.markdown(result).utf8).write(to: output.appendingPathComponent("report.md"), options: .atomic)
        try Data(Demo.html(result).utf8).write(to: output.appendingPathComponent("report.html"), options: .atomic)
        return result
    }

    /// The result as a page: the table and the size/latency/quality Pareto charts (``ComparisonHTML``).
    public static func html(_ r: Result) -> String {
        ComparisonHTML.page(title: "Distill demo — \(r.date), \(r.machine)",
                            subtitle: "Held-out templates: \(r.test) test lines from \(r.heldOutTemplates) templates no model saw in training; "
                                + "\(r.labelled) labelled and \(r.unlabelled) unlabelled training lines.",
                            rows: r.rows.map { ComparisonHTML.Row(name: $0.model, accuracy: $0.accuracy, macroF1: $0.macroF1, agreementWithTeacher: $0.agreementWithTeacher,
                                                                  parameters: $0.parameters, sizeOnDiskBytes: $0.sizeOnDiskBytes, millisecondsPerLine: $0.p50Milliseconds,
                                                                  throughput: $0.throughput) })
    }

    /// The result table in Markdown.
    public static func markdown(_ r: Result) -> String {
        var lines = ["# Distill demo — \(r.date), \(r.machine)", "",
                     "Held-out templates: \(r.test) test lines from \(r.heldOutTemplates) templates no model saw in training; \(r.labelled) labelled and \(r.unlabelled) unlabelled training lines.", "",
                     "| model | accuracy | macro-F1 | agreement with teacher | parameters | size on disk | p50 latency | p99 latency | throughput |",
                     "|---|---|---|---|---|---|---|---|---|"]
        for row in r.rows {
            lines.append(String(format: "| %@ | %.4f | %.4f | %.4f | %@ | %.2f MB | %.3f ms | %.3f ms | %.0f lines/s |", row.model, row.accuracy, row.macroF1,
                                row.agreementWithTeacher, grouped(row.parameters), Double(row.sizeOnDiskBytes) / 1e6, row.p50Milliseconds, row.p99Milliseconds, row.throughput))
        }
        lines.append("")
        if let a = r.augmentation {
            lines.append(String(format: "Rule-based augmentation: %d copies of labelled and %d of unlabelled lines; the teacher kept %d (same label as the source at p >= %.2f) and dropped %d. The hard-label twins trained on the labelled lines and their %d copies.",
                                a.madeFromLabelled, a.madeFromUnlabelled, a.kept, a.threshold, a.dropped, a.madeFromLabelled))
            lines.append("")
        }
        if let t = r.secondTeacher {
            lines.append(String(format: "Second teacher %@ (weight %.2f next to MiniLM's 1): held-out accuracy %.4f, macro-F1 %.4f, agreement with MiniLM %.4f; answered %d of %d lines. ",
                                t.name, t.weight, t.accuracy, t.macroF1, t.agreementWithTeacher, t.covered, t.asked)
                         + (t.used ? "The students learned from both teachers, each label's vote scaled by the teacher's dev F1 on it (class reliability)."
                                   : String(format: "Dropped: its dev accuracy %.4f was not above the majority-class rate, so the students learned from MiniLM alone.", t.devAccuracy)))
            lines.append("")
        }
        lines.append(String(format: "Total wall time: %.0f s.", r.wallSeconds))
        return lines.joined(separator: "\n") + "\n"
    }

    static func grouped(_ n: Int) -> String {
        var s = String(n), out = ""
        while s.count > 3 { out = "," + s.suffix(3) + out; s = String(s.dropLast(3)) }
        return s + out
    }

    func writeExamples(_ examples: [(text: String, raw: String?, label: String)], to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var data = Data()
        for e in examples {
            var object: [String: Any] = ["text": e.text, "label": e.label]
            if let raw = e.raw { object["raw"] = raw }
            data.append(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            data.append(0x0A)
        }
        try data.write(to: url, options: .atomic)
    }

    func writeJSONL(_ records: ArraySlice<LogCorpusGenerator.Record>, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for r in records { data.append(try encoder.encode(r)); data.append(0x0A) }
        try data.write(to: url, options: .atomic)
    }
}
