import DistillNN
import DistillTeachers
import DistillText
import DistillTraining
import Foundation
import Yams

extension Recipe {
    /// Reads a recipe file one section at a time, in the order a run needs them; each section checks its keys as it
    /// reads them and ``recipe()`` refuses keys no section read.
    struct Reader {
        let url: URL
        /// The recipe's folder: relative paths start there.
        let base: URL
        let file: String
        var top: YAMLMap

        init(url: URL, variables: [String: String] = [:]) throws {
            self.url = url
            var text: String
            do { text = try String(contentsOf: url, encoding: .utf8) } catch {
                throw RecipeError(file: url.path, line: 0, key: "", detail: "cannot read: \(fileErrorReason(error))")
            }
            text = try Self.expand(text, variables: variables, file: url.path)
            let root: Node
            do {
                guard let node = try Yams.compose(yaml: text) else { throw RecipeError(file: url.path, line: 1, key: "", detail: "the recipe is empty") }
                root = node
            } catch let error as RecipeError { throw error } catch let error as YamlError {
                throw RecipeError(file: url.path, line: yamlErrorLine(error), key: "", detail: "not valid YAML: \(error)")
            }
            base = url.deletingLastPathComponent()
            file = url.path
            top = try YAMLMap(root, path: "", file: file)
        }

        /// `text` with every `${NAME}` replaced by `variables[NAME]` or the environment variable `NAME` (comment lines
        /// are left as they are).
        static func expand(_ text: String, variables: [String: String], file: String) throws -> String {
            guard text.contains("${") else { return text }
            var lines: [String] = []
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let isComment = line.drop { $0 == " " || $0 == "\t" }.hasPrefix("#")
                lines.append(isComment ? String(line) : try expandLine(line, number: i + 1, variables: variables, file: file))
            }
            return lines.joined(separator: "\n")
        }

        private static func expandLine(_ text: Substring, number line: Int, variables: [String: String], file: String) throws -> String {
            guard text.contains("${") else { return String(text) }
            var out = "", rest = text
            while let start = rest.range(of: "${") {
                out += rest[..<start.lowerBound]
                guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                    throw RecipeError(file: file, line: line, key: "", detail: "'${' without a closing '}'")
                }
                let name = String(rest[start.upperBound..<end])
                guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                    throw RecipeError(file: file, line: line, key: "", detail: "'${\(name)}' is not a variable name (letters, digits and '_')")
                }
                guard let value = variables[name] ?? ProcessInfo.processInfo.environment[name] else {
                    throw RecipeError(file: file, line: line, key: "", detail: "${\(name)} is not set (set the environment variable \(name))")
                }
                guard !value.contains("\n") else { throw RecipeError(file: file, line: line, key: "", detail: "${\(name)} holds a line break") }
                out += value
                rest = rest[rest.index(after: end)...]
            }
            return out + rest
        }

        /// The path under `key`, relative to the recipe's folder; with `mustExist`, an error unless it exists.
        func path(_ map: inout YAMLMap, _ key: String, mustExist: Bool = true) throws -> URL? {
            guard let p = try map.string(key) else { return nil }
            let resolved = p.hasPrefix("/") ? URL(fileURLWithPath: p) : base.appendingPathComponent(p)
            if mustExist && !FileManager.default.fileExists(atPath: resolved.path) {
                throw map.error(key, map.mapping.first { $0.key.string == key }?.value, "file not found: \(resolved.path)")
            }
            return resolved
        }

        /// Every section, then the check that no key is left unread.
        mutating func recipe() throws -> Recipe {
            let labels = try readLabels()
            let data = try readData()
            let teachers = try readTeachers(labels: labels, data: data)
            let aggregation = try readAggregation()
            var training = TrainingConfig()
            let (student, studentEmbeddings) = try readStudent(teachers: teachers, labels: labels, training: &training)
            let losses = try readLosses(teachers: teachers, student: student, labels: labels, training: &training)
            let augmentation = try readAugmentation(teachers: teachers)
            let input = try readInput()
            try readTraining(student: student, training: &training)
            let seed = try top.int("seed") ?? 42
            guard seed >= 0 else { throw top.error("seed", nil, "must be >= 0") }
            training.seed = UInt64(seed)
            if aggregation == .classReliability && data.dev == nil {
                throw top.error("aggregation", nil, "class-reliability needs a labelled dev set (data.dev)")
            }
            let output = (try path(&top, "output", mustExist: false)) ?? base.appendingPathComponent("runs/distill")
            var outputIsFolder: ObjCBool = true
            if FileManager.default.fileExists(atPath: output.path, isDirectory: &outputIsFolder), !outputIsFolder.boolValue {
                throw top.error("output", nil, "\(output.path) is a file; output names the run folder (created if missing)")
            }
            // A fresh run clears its folder's train.jsonl, checkpoint, best, final and reports: nothing of the
            // user's may live there.
            let held: [(String, URL?)] = [("the recipe", url), ("data.labelled", data.labelled), ("data.unlabelled", data.unlabelled),
                                          ("data.dev", data.dev), ("data.test", data.test)]
            if let (what, file) = held.first(where: { $0.1?.isSameOrInside(output) == true }), let file {
                throw top.error("output", nil, "\(output.path) holds \(what) (\(file.path)); a run clears what an earlier run left in its folder: name a folder of its own")
            }
            let decision = try decisionSettings(&top, labels: labels.map(\.name), hasDev: data.dev != nil)
            try top.finish()
            var recipe = Recipe(file: url, labels: labels, data: data, teachers: teachers, aggregation: aggregation, student: student,
                          hiddenLoss: losses.hidden, attentionLoss: losses.attention, valueRelationLoss: losses.valueRelation, layerMap: losses.layerMap, training: training, output: output,
                          augmentation: augmentation.options, augmentationTeacherFilter: augmentation.teacherFilter,
                          paraphrases: augmentation.paraphrases, paraphraseTeacher: augmentation.paraphraseTeacher, input: input)
            recipe.decision = decision
            recipe.studentEmbeddings = studentEmbeddings
            return recipe
        }

        /// `labels`: names, or `{name, description}` maps; unique.
        mutating func readLabels() throws -> [Label] {
            guard let labelNodes = try top.list("labels"), !labelNodes.isEmpty else { throw top.error("labels", nil, "is required: a list of label names") }
            var labels: [Label] = []
            for (i, n) in labelNodes.enumerated() {
                if let name = n.string, n.scalar != nil {
                    labels.append(Label(name: name, description: ""))
                } else {
                    var m = try YAMLMap(n, path: "labels[\(i)]", file: file)
                    labels.append(Label(name: try m.requiredString("name"), description: try m.string("description") ?? ""))
                    try m.finish()
                }
            }
            if Set(labels.map(\.name)).count != labels.count { throw top.error("labels", nil, "label names must be unique") }
            return labels
        }

        /// `data`: the labelled, unlabelled, dev and test files.
        mutating func readData() throws -> Data {
            guard var dataMap = try top.map("data") else { throw top.error("data", nil, "is required") }
            let data = Data(labelled: try path(&dataMap, "labelled"), unlabelled: try path(&dataMap, "unlabelled"),
                            dev: try path(&dataMap, "dev"), test: try path(&dataMap, "test"))
            try dataMap.finish()
            if data.labelled == nil && data.unlabelled == nil { throw top.error("data", nil, "needs labelled and/or unlabelled data") }
            return data
        }

        /// `teachers`: a list of `{name, kind, weight, ...}`.
        mutating func readTeachers(labels: [Label], data: Data) throws -> [Teacher] {
            var teachers: [Teacher] = []
            for (i, n) in (try top.list("teachers") ?? []).enumerated() {
                var m = try YAMLMap(n, path: "teachers[\(i)]", file: file)
                let kindName = try m.requiredString("kind")
                let name = try m.string("name") ?? "teacher\(i + 1)"
                let kind: TeacherKind
                var fineTune: TeacherFineTune?
                switch kindName {
                case "bert" where m.has("finetune"):
                    guard let checkpoint = try path(&m, "path") else { throw m.error("path", nil, "is required: the checkpoint to fine-tune") }
                    guard data.labelled != nil else { throw m.error("finetune", nil, "needs data.labelled (the lines it is fine-tuned on)") }
                    fineTune = try readFineTune(&m, base: checkpoint, defaultOutput: outputFolder().appendingPathComponent("teachers/\(name)-finetuned"))
                    kind = .bert(fineTune!.output)
                case "bert", "soft-labels":
                    guard let location = try path(&m, "path") else { throw m.error("path", nil, "is required") }
                    kind = kindName == "bert" ? .bert(location) : .softLabels(location)
                case "openai":
                    // `examples: labelled` is the recipe's labelled file; any other value a path.
                    let examples: URL?
                    if try m.string("examples") == "labelled" {
                        guard let labelled = data.labelled else { throw m.error("examples", nil, "'labelled' needs data.labelled") }
                        examples = labelled
                    } else {
                        examples = try path(&m, "examples")
                    }
                    kind = .openAI(try llmTeacherSpec(&m, labels: labels.map(\.name), file: file, examples: examples))
                default: throw m.error("kind", nil, "'\(kindName)' is not a teacher kind (bert, soft-labels, openai)")
                }
                let weight = try m.float("weight") ?? 1
                if weight < 0 { throw m.error("weight", nil, "must be >= 0") }
                guard !teachers.contains(where: { $0.name == name }) else { throw m.error("name", nil, "teacher name '\(name)' is used twice") }
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                    throw m.error("name", nil, "'\(name)' may hold only letters, digits, '-', '_' and '.' (it names cache files)")
                }
                teachers.append(Teacher(name: name, kind: kind, weight: weight, fineTune: fineTune))
                try m.finish()
            }
            if data.unlabelled != nil && teachers.isEmpty { throw top.error("teachers", nil, "unlabelled data needs at least one teacher") }
            return teachers
        }

        /// `finetune: {epochs, patience, learning_rate, max_length, class_weights, pooling, seed, out}` of a `bert` teacher.
        mutating func readFineTune(_ m: inout YAMLMap, base checkpoint: URL, defaultOutput: URL) throws -> TeacherFineTune {
            guard var f = try m.map("finetune") else { throw m.error("finetune", nil, "expected a map") }
            var spec = TeacherFineTune(base: checkpoint, output: try path(&f, "out", mustExist: false) ?? defaultOutput)
            spec.epochs = try f.int("epochs", in: 1...1000) ?? spec.epochs
            if f.has("patience") { spec.patience = try f.int("patience", in: 1...1000) }
            if let rate = try f.float("learning_rate") {
                guard rate > 0, rate.isFinite else { throw f.error("learning_rate", nil, "must be > 0") }
                spec.learningRate = rate
            }
            spec.maxLength = try f.int("max_length", in: 8...ModelLimits.positions.upperBound) ?? spec.maxLength
            spec.classBalance = try f.choice("class_weights", spec.classBalance)
            spec.pooling = try f.choice("pooling", spec.pooling)
            spec.seed = try f.int("seed", in: 0...Int.max).map(UInt64.init)
            try f.finish()
            return spec
        }

        /// `output` as `recipe()` reads it (the run folder), for defaults that live in it.
        func outputFolder() -> URL {
            var copy = top
            return ((try? path(&copy, "output", mustExist: false)) ?? nil) ?? base.appendingPathComponent("runs/distill")
        }

        /// `aggregation`: how several teachers' distributions combine.
        mutating func readAggregation() throws -> TeacherAggregation {
            let aggregationName = try top.string("aggregation") ?? "weighted-mean"
            guard let aggregation = TeacherAggregation(rawValue: aggregationName) else {
                throw top.error("aggregation", nil, "'\(aggregationName)' is not one of \(TeacherAggregation.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return aggregation
        }

        /// `student`: the model to train, how its embeddings start, and the learning rate and length it implies.
        mutating func readStudent(teachers: [Teacher], labels: [Label], training: inout TrainingConfig) throws -> (StudentSpec, StudentEmbeddingInitialization) {
            guard var s = try top.map("student") else { throw top.error("student", nil, "is required") }
            let studentKind = try s.requiredString("kind")
            let student: StudentSpec
            switch studentKind {
            case "bert" where s.has("from_teacher"):
                student = try bertFromTeacher(&s, teachers: teachers)
            case "bert":
                let hidden = try s.int("hidden", in: ModelLimits.width) ?? 128, heads = try s.int("heads", in: ModelLimits.heads) ?? 2
                guard hidden > 0, heads > 0, hidden % heads == 0 else { throw s.error("heads", nil, "hidden (\(hidden)) must be a positive multiple of heads (\(heads))") }
                let pooling = try s.choice("pooling", Pooling.mean)
                student = .bert(layers: try s.int("layers", in: ModelLimits.layers) ?? 2, hidden: hidden, heads: heads,
                                intermediate: try s.int("intermediate", in: ModelLimits.intermediate) ?? 4 * hidden,
                                vocabularySize: try s.int("vocab_size", in: 16...ModelLimits.vocabulary.upperBound) ?? 8000, pooling: pooling)
            case "ngram-bag":
                var f = NGramFeaturizer()
                f.buckets = try s.int("buckets", in: ModelLimits.buckets) ?? f.buckets
                f.maxWordNGram = try s.int("word_ngrams", in: 1...8) ?? f.maxWordNGram
                if let chars = try s.list("char_ngrams") {
                    guard chars.count == 2, let lo = chars[0].int, let hi = chars[1].int, lo >= 0, hi >= lo, hi <= 16 else {
                        throw s.error("char_ngrams", nil, "expected [min, max] with 0 <= min <= max <= 16")
                    }
                    f.minCharNGram = lo
                    f.maxCharNGram = hi
                }
                student = .ngramBag(f, embeddingSize: try s.int("embedding_size", in: ModelLimits.width) ?? 64,
                                    hiddenSize: try s.int("hidden_size", in: 0...ModelLimits.width.upperBound) ?? 0)
            default:
                throw s.error("kind", nil, "'\(studentKind)' is not a student kind (bert, ngram-bag)")
            }
            var studentEmbeddings = StudentEmbeddingInitialization.standard
            if let name = try s.string("embeddings_from") {
                if case .bertFromTeacher = student { throw s.error("embeddings_from", nil, "a student cut from a teacher already has its embeddings; remove it") }
                guard let t = teachers.first(where: { $0.name == name }), case .bert = t.kind else {
                    throw s.error("embeddings_from", nil, "'\(name)' is not the name of a `kind: bert` teacher of this recipe")
                }
                studentEmbeddings = .teacherStatic(teacher: name)
            }
            switch student {
            case .ngramBag: training.learningRate = TrainingConfig.ngramBagLearningRate
            case .bertFromTeacher: training.learningRate = TrainingConfig.teacherCutLearningRate
            case .bert: break
            }
            training.maxLength = try s.int("max_length") ?? training.maxLength
            let tokens = ModelLimits.tokensPerLine
            guard tokens.contains(training.maxLength) else {
                throw s.error("max_length", nil, "must be within \(tokens.lowerBound)...\(tokens.upperBound) tokens, got \(training.maxLength)")
            }
            // Training holds each parameter four times (weights, gradients, two AdamW moments): refuse a student that
            // cannot fit in this machine's memory before allocating it.
            if let count = student.parameterCount(labels: max(labels.count, 1), maxLength: training.maxLength) {
                let needed = Double(count) * 16, available = Double(ProcessInfo.processInfo.physicalMemory)
                guard needed < available else {
                    throw s.error("kind", nil, String(format: "this student has %.2f billion parameters; training it needs about %.1f GB, more than this machine's %.1f GB (make buckets, hidden, layers or vocab_size smaller)",
                                                       Double(count) / 1e9, needed / 1e9, available / 1e9))
                }
            }
            try s.finish()

            return (student, studentEmbeddings)
        }

        /// The intermediate losses and layer map of `losses` (the rest of the section goes into `training`).
        struct Losses {
            var hidden: IntermediateLoss<HiddenStateLossKind>?
            var attention: IntermediateLoss<AttentionLossKind>?
            var valueRelation: IntermediateLoss<ValueRelationLossKind>?
            var layerMap: LayerMap?
        }

        /// `losses`: the KD mix, class weights, intermediate losses and the layer map.
        mutating func readLosses(teachers: [Teacher], student: StudentSpec, labels: [Label], training: inout TrainingConfig) throws -> Losses {
            var hiddenLoss: IntermediateLoss<HiddenStateLossKind>?, attentionLoss: IntermediateLoss<AttentionLossKind>?
            var valueRelationLoss: IntermediateLoss<ValueRelationLossKind>?, layerMap: LayerMap?
            /// A number, or {start, end, steps} for a linear schedule.
            func schedule(_ m: inout YAMLMap, _ key: String) throws -> LossSchedule? {
                guard let n = m.node(key), n.null == nil else { return nil }
                if let v = n.float { return .constant(Float(v)) }
                var sm = try YAMLMap(n, path: m.keyPath(key), file: file)
                let value = LossSchedule.linear(start: try sm.float("start") ?? 1, end: try sm.float("end") ?? 1, steps: try sm.int("steps") ?? 1000)
                try sm.finish()
                return value
            }
            if var l = try top.map("losses") {
                training.alpha = try schedule(&l, "alpha") ?? training.alpha
                if case let .linear(a, b, _) = training.alpha, !(0...1).contains(a) || !(0...1).contains(b) { throw l.error("alpha", nil, "must stay within [0, 1]") }
                if case let .constant(a) = training.alpha, !(0...1).contains(a) { throw l.error("alpha", nil, "must be within [0, 1], got \(a)") }
                training.temperature = try schedule(&l, "temperature") ?? training.temperature
                let temperatures: [Float] = { if case let .linear(a, b, _) = training.temperature { return [a, b] }; return [training.temperature.value(at: 0)] }()
                if temperatures.contains(where: { $0 <= 0 }) { throw l.error("temperature", nil, "must be > 0") }
                training.labelSmoothing = try l.float("label_smoothing") ?? 0
                guard (0..<1).contains(training.labelSmoothing) else { throw l.error("label_smoothing", nil, "must be within [0, 1), got \(training.labelSmoothing)") }
                if let n = l.node("class_weights"), n.scalar != nil, let word = n.string {
                    guard let balance = ClassBalance(rawValue: word) else {
                        throw l.error("class_weights", n, "expected a list of numbers (one per label), balanced, sqrt or none; found '\(word)'")
                    }
                    training.classBalance = balance
                } else if let w = try l.list("class_weights") {
                    training.classWeights = try w.map { n in
                        guard let v = n.float else { throw l.error("class_weights", n, "expected numbers") }
                        return Float(v)
                    }
                    if training.classWeights!.count != labels.count { throw l.error("class_weights", nil, "needs one weight per label (\(labels.count))") }
                }
                /// `losses.KEY`: `{weight, kind}`, the kind one of `Kind`'s cases.
                func intermediate<Kind: RawRepresentable & CaseIterable & Sendable & Equatable>(_ key: String, standard: Kind) throws -> IntermediateLoss<Kind>?
                where Kind.RawValue == String {
                    guard var m = try l.map(key) else { return nil }
                    let word = try m.string("kind") ?? standard.rawValue
                    guard let kind = Kind(rawValue: word) else {
                        throw m.error("kind", nil, "'\(word)' is not one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    let loss = IntermediateLoss(weight: try schedule(&m, "weight") ?? 1, kind: kind)
                    try m.finish()
                    return loss
                }
                hiddenLoss = try intermediate("hidden", standard: HiddenStateLossKind.standard)
                attentionLoss = try intermediate("attention", standard: AttentionLossKind.standard)
                valueRelationLoss = try intermediate("value_relation", standard: ValueRelationLossKind.standard)
                if let mapNode = l.node("layer_map"), mapNode.string != "uniform" {
                    guard let pairs = mapNode.sequence else { throw l.error("layer_map", mapNode, "expected 'uniform' or a list of [student, teacher] pairs") }
                    layerMap = LayerMap(pairs: try pairs.map { p in
                        guard let pair = p.sequence, pair.count == 2, let a = pair[0].int, let b = pair[1].int else {
                            throw l.error("layer_map", p, "each entry must be [student_layer, teacher_layer]")
                        }
                        return LayerMap.Pair(student: a, teacher: b)
                    })
                }
                try l.finish()
            }
            if (hiddenLoss != nil || attentionLoss != nil || valueRelationLoss != nil) && !teachers.contains(where: { if case .bert = $0.kind { return true }; return false }) {
                throw top.error("losses", nil, "hidden and attention losses need a white-box teacher (kind: bert)")
            }
            if case .ngramBag = student, hiddenLoss != nil || attentionLoss != nil || valueRelationLoss != nil {
                throw top.error("losses", nil, "hidden and attention losses need a BERT student")
            }

            return Losses(hidden: hiddenLoss, attention: attentionLoss, valueRelation: valueRelationLoss, layerMap: layerMap)
        }

        /// What `augmentation` asks for.
        struct Augmentation {
            var options: LogAugmenter.Options?
            var teacherFilter: Float?
            var paraphrases = 0
            var paraphraseTeacher: String?
        }

        /// `augmentation`: rule-based copies of the labelled lines and LLM paraphrases.
        mutating func readAugmentation(teachers: [Teacher]) throws -> Augmentation {
            var augmentation: LogAugmenter.Options?
            var augmentationTeacherFilter: Float?
            var paraphrases = 0
            var paraphraseTeacher: String?
            if var a = try top.map("augmentation"), !a.mapping.isEmpty {
                paraphrases = try a.int("paraphrases") ?? 0
                paraphraseTeacher = try a.string("paraphrase_teacher")
                guard (0...10).contains(paraphrases) else { throw a.error("paraphrases", nil, "must be within 0...10") }
                if paraphrases > 0 {
                    guard let name = paraphraseTeacher ?? teachers.first(where: { if case .openAI = $0.kind { return true }; return false })?.name else {
                        throw a.error("paraphrases", nil, "needs an openai teacher to write them (name it with paraphrase_teacher)")
                    }
                    guard let t = teachers.first(where: { $0.name == name }), case .openAI = t.kind else {
                        throw a.error("paraphrase_teacher", nil, "'\(name)' is not an openai teacher of this recipe")
                    }
                    paraphraseTeacher = name
                }
                var o = LogAugmenter.Options()
                o.copies = try a.int("copies") ?? (paraphrases > 0 ? 0 : o.copies)
                o.resampleVariables = try a.bool("resample_variables") ?? o.resampleVariables
                o.tokenDropout = Double(try a.float("token_dropout") ?? Float(o.tokenDropout))
                o.synonyms = try a.bool("synonyms") ?? o.synonyms
                o.envelopes = try a.bool("envelopes") ?? o.envelopes
                augmentationTeacherFilter = try a.float("teacher_filter")
                guard (0...20).contains(o.copies) else { throw a.error("copies", nil, "must be within 0...20") }
                guard (0..<1).contains(o.tokenDropout) else { throw a.error("token_dropout", nil, "must be within [0, 1)") }
                if let f = augmentationTeacherFilter, !(0...1).contains(f) { throw a.error("teacher_filter", nil, "must be within [0, 1]") }
                try a.finish()
                augmentation = o
            }

            return Augmentation(options: augmentation, teacherFilter: augmentationTeacherFilter, paraphrases: paraphrases, paraphraseTeacher: paraphraseTeacher)
        }

        /// `input`: raw, logs, or `{kind: logs, masks: [...]}`.
        mutating func readInput() throws -> TextInput {
            var input = TextInput.raw
            if let node = top.node("input") {
                if let kind = node.string {
                    guard let k = TextInput.Kind(rawValue: kind) else { throw top.error("input", node, "'\(kind)' is not raw or logs") }
                    input = TextInput(kind: k)
                } else if var m = try top.map("input") {
                    let kind = try m.string("kind") ?? "logs"
                    guard let k = TextInput.Kind(rawValue: kind) else { throw m.error("kind", nil, "'\(kind)' is not raw or logs") }
                    input = TextInput(kind: k)
                    if let masks = try m.list("masks") {
                        input.masks = try masks.map { node in
                            guard let name = node.string, LogMasks.names.contains(where: { $0.0 == name }) else {
                                throw m.error("masks", node, "'\(node.string ?? "?")' is not a mask (\(LogMasks.names.map(\.0).joined(separator: ", ")))")
                            }
                            return name
                        }
                    }
                    try m.finish()
                } else {
                    throw top.error("input", node, "expected raw, logs or {kind: logs, masks: [...]}")
                }
            }

            return input
        }

        /// `training`: epochs, batches, optimizer, schedule, checkpoints, duplicates and early stopping.
        mutating func readTraining(student: StudentSpec, training: inout TrainingConfig) throws {
            if var t = try top.map("training") {
                training.epochs = try t.int("epochs", in: 1...1_000_000) ?? training.epochs
                training.maxSteps = try t.int("max_steps")
                if let m = training.maxSteps, m < 1 { throw t.error("max_steps", nil, "must be at least 1, got \(m)") }
                training.batchSize = try t.int("batch_size", in: 1...1_000_000) ?? training.batchSize
                training.optimizer = try t.choice("optimizer", training.optimizer)
                if training.optimizer == .sgd {
                    guard case let .ngramBag(_, _, hidden) = student, hidden == 0 else {
                        throw t.error("optimizer", nil, "sgd is fastText's optimizer for an n-gram bag without a hidden layer (student.kind: ngram-bag, hidden_size: 0)")
                    }
                    training.learningRate = TrainingConfig.sgdLearningRate
                }
                training.learningRate = try t.float("learning_rate") ?? training.learningRate
                guard training.learningRate > 0 else { throw t.error("learning_rate", nil, "must be > 0, got \(training.learningRate)") }
                training.warmupSteps = try t.int("warmup_steps") ?? training.warmupSteps
                guard training.warmupSteps >= 0 else { throw t.error("warmup_steps", nil, "must be >= 0, got \(training.warmupSteps)") }
                training.weightDecay = try t.float("weight_decay") ?? training.weightDecay
                guard training.weightDecay >= 0 else { throw t.error("weight_decay", nil, "must be >= 0, got \(training.weightDecay)") }
                if let n = t.mapping.first(where: { $0.key.string == "clip_norm" })?.value, n.null != nil {
                    _ = t.node("clip_norm")
                    training.clipNorm = nil  // `clip_norm: null` turns clipping off
                } else if let c = try t.float("clip_norm") {
                    training.clipNorm = c > 0 ? c : nil
                }
                training.evaluateEvery = try t.int("evaluate_every")
                if let e = training.evaluateEvery, e < 1 { throw t.error("evaluate_every", nil, "must be at least 1") }
                training.checkpointEvery = try t.int("checkpoint_every") ?? training.checkpointEvery
                training.checkpointSeconds = Double(try t.float("checkpoint_seconds") ?? Float(training.checkpointSeconds))
                guard training.checkpointSeconds > 0 else { throw t.error("checkpoint_seconds", nil, "must be > 0, got \(training.checkpointSeconds)") }
                training.embeddingUpdates = try t.choice("embedding_updates", training.embeddingUpdates)
                training.duplicates = try t.choice("duplicates", training.duplicates)
                training.duplicateWeightCap = try t.float("duplicate_weight_cap") ?? training.duplicateWeightCap
                guard training.duplicateWeightCap >= 1 && training.duplicateWeightCap.isFinite else {
                    throw t.error("duplicate_weight_cap", nil, "must be a number >= 1, got \(training.duplicateWeightCap)")
                }
                training.minEpochExamples = try t.int("min_epoch_examples") ?? training.minEpochExamples
                guard training.minEpochExamples >= 1 else { throw t.error("min_epoch_examples", nil, "must be at least 1, got \(training.minEpochExamples)") }
                if var e = try t.map("early_stopping") {
                    training.earlyStoppingPatience = try e.int("patience")
                    let metric = try e.string("metric") ?? "macro_f1"
                    guard let m = TrainingConfig.Metric(rawValue: metric) else {
                        throw e.error("metric", nil, "'\(metric)' is not one of macro_f1, accuracy, agreement")
                    }
                    training.earlyStoppingMetric = m
                    try e.finish()
                }
                try t.finish()
                for (key, value) in [("epochs", training.epochs), ("batch_size", training.batchSize), ("checkpoint_every", training.checkpointEvery ?? 1)] where value < 1 {
                    throw t.error(key, nil, "must be at least 1")
                }
            }
        }
    }
}

/// `decision: {calibrate: true, alert_target: 0.1, normal_label: normal, min_confidence: 0.5}` (nil when absent).
private func decisionSettings(_ top: inout YAMLMap, labels: [String], hasDev: Bool) throws -> DecisionSettings? {
    guard var d = try top.map("decision") else { return nil }
    var settings = DecisionSettings()
    settings.calibrate = try d.bool("calibrate") ?? settings.calibrate
    if let target = try d.float("alert_target") {
        guard target.isFinite, (0...1).contains(target) else { throw d.error("alert_target", nil, "must be within [0, 1], got \(target)") }
        settings.alertTarget = Double(target)
    }
    settings.normalLabel = try d.string("normal_label") ?? settings.normalLabel
    if settings.alertTarget != nil, !labels.contains(settings.normalLabel) {
        throw d.error("normal_label", nil, "'\(settings.normalLabel)' is not one of the labels (\(labels.joined(separator: ", ")))")
    }
    if let floor = try d.float("min_confidence") {
        guard floor.isFinite, (0...1).contains(floor) else { throw d.error("min_confidence", nil, "must be within [0, 1], got \(floor)") }
        settings.minimumConfidence = floor
    }
    try d.finish()
    if (settings.calibrate || settings.alertTarget != nil) && !hasDev {
        throw top.error("decision", nil, "calibration and alert_target are fitted on the dev lines: set data.dev")
    }
    return settings
}

/// `student: {kind: bert, from_teacher: NAME, layers: N, teacher_layers: [...]}`: the architecture comes from the
/// teacher, so its size keys are refused.
private func bertFromTeacher(_ s: inout YAMLMap, teachers: [Recipe.Teacher]) throws -> Recipe.StudentSpec {
    let name = try s.requiredString("from_teacher")
    guard let t = teachers.first(where: { $0.name == name }), case .bert = t.kind else {
        throw s.error("from_teacher", nil, "'\(name)' is not the name of a `kind: bert` teacher of this recipe")
    }
    for key in ["hidden", "heads", "intermediate", "vocab_size", "pooling"] where s.has(key) {
        throw s.error(key, nil, "comes from the teacher when `from_teacher` is set; remove it")
    }
    let layers = try s.int("layers")
    var teacherLayers: [Int]?
    if let list = try s.list("teacher_layers") {
        let values = list.compactMap(\.int)
        guard values.count == list.count, !values.isEmpty, values.allSatisfy({ $0 >= 0 }), zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw s.error("teacher_layers", nil, "expected increasing 0-based teacher layer indices, e.g. [2, 5]")
        }
        if let layers, layers != values.count { throw s.error("layers", nil, "is \(layers) but teacher_layers lists \(values.count)") }
        teacherLayers = values
    }
    let count = layers ?? teacherLayers?.count ?? 2
    guard count > 0 else { throw s.error("layers", nil, "must be positive") }
    return .bertFromTeacher(teacher: name, layers: count, teacherLayers: teacherLayers)
}

private func llmTeacherSpec(_ m: inout YAMLMap, labels: [String], file: String, examples: URL?) throws -> LLMTeacherSpec {
    guard let urls = try m.strings("base_url") else { throw m.error("base_url", nil, "is required") }
    var spec = LLMTeacherSpec(baseURLs: urls, model: try m.string("model") ?? "default")
    spec.examplesFile = examples?.path
    spec.nearestExamples = try m.int("nearest_examples") ?? (examples == nil ? 0 : LLMTeacherSpec.defaultNearestExamples)
    spec.endpoint = try m.choice("endpoint", spec.endpoint)
    spec.constraint = try m.choice("constrain", spec.constraint)
    spec.verbalizer = try m.choice("verbalizer", spec.verbalizer)
    spec.fallback = try m.choice("fallback", spec.fallback)
    spec.groupBy = try m.choice("group_by", spec.groupBy)
    spec.apiKeyEnvironment = try m.string("api_key_env")
    spec.topLogprobs = try m.int("top_logprobs") ?? spec.topLogprobs
    spec.samples = try m.int("samples") ?? spec.samples
    spec.smoothing = try m.float("smoothing") ?? spec.smoothing
    spec.instructions = try m.string("instructions")
    spec.maxConcurrency = try m.int("max_concurrency") ?? spec.maxConcurrency
    spec.reproducible = try m.bool("reproducible") ?? spec.reproducible
    spec.requestsPerSecond = (try m.float("requests_per_second")).map(Double.init)
    spec.timeoutSeconds = Double(try m.float("timeout") ?? Float(spec.timeoutSeconds))
    spec.maxRetries = try m.int("max_retries") ?? spec.maxRetries
    spec.maxTextCharacters = try m.int("max_text_chars") ?? spec.maxTextCharacters
    spec.seed = try m.int("seed") ?? spec.seed
    for (i, n) in (try m.list("few_shot") ?? []).enumerated() {
        var e = try YAMLMap(n, path: m.keyPath("few_shot") + "[\(i)]", file: file)
        spec.fewShot.append(.init(text: try e.requiredString("text"), label: try e.requiredString("label")))
        try e.finish()
    }
    do { try spec.validate(labels: labels) } catch let TeacherError.configuration(key, detail) {
        throw m.error(key.components(separatedBy: "[").first ?? key, nil, detail)
    }
    return spec
}

private func yamlErrorLine(_ error: YamlError) -> Int {
    switch error {
    case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _): return mark.line
    default:
        // Other Yams errors (e.g. duplicate keys) carry their position in the description: "...line:column...".
        let text = "\(error)"
        if let r = text.range(of: #"(\d+):\d+"#, options: .regularExpression), let line = Int(text[r].split(separator: ":")[0]) { return line }
        return 0
    }
}
