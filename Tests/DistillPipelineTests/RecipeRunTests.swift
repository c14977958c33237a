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

let labelNames = ["database", "disk", "auth"]

/// Writes JSONL data files, trains a BERT teacher on the labelled part (the "bigger BERT" of the tests), and
/// returns the folder, ready for a recipe.
func makeProject(studentKind: String = "ngram-bag", epochs: Int = 4, checkpointEvery: Int = 50, intermediate: Bool = false) throws -> URL {
    let dir = temporaryFolder()
    let data = dir.appendingPathComponent("data")
    try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
    func write(_ name: String, _ rows: [(String, Int)], labelled: Bool) throws {
        let lines = rows.map { r -> String in
            let object: [String: Any] = labelled ? ["text": r.0, "label": labelNames[r.1]] : ["text": r.0]
            return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: data.appendingPathComponent(name))
    }
    let labelled = syntheticLogs(count: 60, seed: 21)
    try write("labelled.jsonl", labelled, labelled: true)
    try write("unlabelled.jsonl", syntheticLogs(count: 240, seed: 22), labelled: false)
    try write("dev.jsonl", syntheticLogs(count: 40, seed: 23), labelled: true)
    try write("test.jsonl", syntheticLogs(count: 60, seed: 24), labelled: true)
    // Teacher: a 2-layer, 32-wide BERT trained on the labelled set.
    let vocabulary = WordPieceTrainer(vocabularySize: 150, minimumFrequency: 1).train(syntheticLogs(count: 300, seed: 25).map(\.0))
    var config = BertConfig(vocabSize: vocabulary.count, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64,
                            maxPositionEmbeddings: 64, labels: labelNames)
    config.hiddenDropoutProb = 0
    config.attentionProbsDropoutProb = 0
    let teacher = Student.bert(BertForSequenceClassification(config: config, seed: 8), try WordPieceTokenizer(vocabulary: vocabulary))
    var training = TrainingConfig()
    training.epochs = 12
    training.batchSize = 16
    training.learningRate = 3e-3
    try DistillationTrainer(student: teacher, config: training, train: labelled.map { TrainingExample(text: $0.0, label: $0.1) },
                            output: dir.appendingPathComponent("teacher-run")).run()
    try teacher.save(to: dir.appendingPathComponent("teachers/big-bert"))
    let student = switch studentKind {
    case "bert": "  kind: bert\n  layers: 1\n  hidden: 16\n  heads: 2\n  intermediate: 32\n  vocab_size: 120\n  max_length: 32\n"
    case "bert-from-teacher": "  kind: bert\n  from_teacher: big-bert\n  layers: 1\n  max_length: 32\n"
    default: "  kind: ngram-bag\n  buckets: 4096\n  embedding_size: 16\n"
    }
    let recipe = """
    labels:
      - name: database
      - name: disk
        description: storage problems
      - auth
    data:
      labelled: data/labelled.jsonl
      unlabelled: data/unlabelled.jsonl
      dev: data/dev.jsonl
      test: data/test.jsonl
    teachers:
      - name: big-bert
        kind: bert
        path: teachers/big-bert
    student:
    \(student)losses:
      alpha: 0.5
      temperature: 2
    \(intermediate ? "  hidden: {weight: 1.0, kind: mse}\n  attention: {weight: 1.0, kind: kl}\n  layer_map: [[1, 2]]\n" : "")
    training:
      epochs: \(epochs)
      batch_size: 16
      learning_rate: \(studentKind == "bert-from-teacher" ? "0.003" : "0.02")
      warmup_steps: 5
      checkpoint_every: \(checkpointEvery)
    augmentation:
      copies: 1
      teacher_filter: 0.3
    seed: 7
    output: run
    """
    try Data(recipe.utf8).write(to: dir.appendingPathComponent("recipe.yaml"))
    return dir
}

@Suite("Recipes and the train / eval / classify commands", .serialized)
struct RecipeRunTests {
    @Test("distill train runs a recipe end to end: teacher labels cached, student trained, report written")
    func trainEndToEnd() throws {
        let dir = try makeProject()
        let result = try runDistill(["train", "--recipe", dir.appendingPathComponent("recipe.yaml").path])
        #expect(result.status == 0, "\(result.stderr)")
        let run = dir.appendingPathComponent("run")
        for file in ["final/model.safetensors", "best/config.json", "train.jsonl", "report.json", "report.md", "teachers.json",
                     "teachers/big-bert.safetensors", "checkpoint/state.json"] {
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), "\(file)")
        }
        let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: run.appendingPathComponent("report.json")))
        #expect(report.examples == 60 && report.accuracy > 0.7, "\(report.table())")
        #expect(result.stdout.contains("macro-F1") && result.stderr.contains("teacher big-bert: labelling 360 texts"))
        #expect(result.stderr.contains("teacher big-bert: 360/360 texts") && result.stderr.contains("done in"), "labelling progress: \(result.stderr)")
        #expect(result.stderr.contains("steps/s") && result.stderr.contains("ETA"))
        #expect(result.stderr.contains("augmentation: 60 copies of 60 labelled lines") && result.stderr.contains("teacher filter kept"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("teachers.json"))) as! [String: Any]
        let counts = try #require(summary["augmentation"] as? [String: Int])
        #expect(counts["made"] == 60 && counts["kept"]! + counts["dropped"]! == 60)
        // The run's checks: student, teachers and a gold-only baseline trained in the same run (on the labelled
        // lines and the copies the teacher filter kept), scored on the dev lines.
        let checks = try #require(report.checks)
        let goldLines = 60 + counts["kept"]!
        #expect(checks.student != nil && checks.teachers != nil && checks.goldBaseline != nil && checks.goldBaselineLines == goldLines)
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("baseline/final/model.safetensors").path))
        #expect(try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8).contains("## Checks (dev lines)"))
        #expect(result.stderr.contains("gold-only baseline: an n-gram bag on the \(goldLines) labelled lines alone"))
        // eval and classify on the trained student
        let evaluation = try runDistill(["eval", "--model", run.appendingPathComponent("final").path,
                                         "--data", dir.appendingPathComponent("data/test.jsonl").path, "--json", run.appendingPathComponent("eval.json").path])
        #expect(evaluation.status == 0 && evaluation.stdout.contains("latency p50"))
        let evalReport = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: run.appendingPathComponent("eval.json")))
        #expect(evalReport.speed != nil && evalReport.parameters == 4096 * 16 + 16 * 3 + 3)
        let classified = try runDistill(["classify", "--model", run.appendingPathComponent("final").path, "--top-k", "2"],
                                        stdin: Data("connection refused by postgres database query\ndisk full inode filesystem mount\n\u{FF}\n".utf8.map { $0 } + [0xFF, 0x0A]))
        let lines = classified.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(lines.count == 4)
        #expect(lines[0]["label"] as? String == "database" && lines[1]["label"] as? String == "disk")
        #expect((lines[0]["top"] as? [[String: Any]])?.count == 2)
        #expect(lines[3]["error"] as? String == "not valid UTF-8" && classified.status == 2)
        #expect((lines[0]["template"] as? String)?.count == 16)
        // int8: a quarter of the weight bytes, the accuracy change measured on the test lines, the same answers here.
        let int8 = dir.appendingPathComponent("int8")
        let quantized = try runDistill(["quantize", "--model", run.appendingPathComponent("final").path, "--out", int8.path,
                                        "--calibration", dir.appendingPathComponent("data/test.jsonl").path])
        #expect(quantized.status == 0, "\(quantized.stderr)")
        let q = try JSONDecoder().decode(StudentQuantization.Report.self, from: Data(contentsOf: int8.appendingPathComponent("quantization.json")))
        // 1 byte per weight + a 4-byte scale per 16-wide row: (1 + 4/16) / 4 = 0.31 of the F32 bytes.
        #expect(Double(q.int8WeightBytes) < 0.33 * Double(q.fp32WeightBytes) && q.lines > 0)
        #expect(abs(q.int8Accuracy! - q.fp32Accuracy!) <= 0.05 && q.agreement! >= 0.9 && q.maxProbabilityChange! < 0.1)
        #expect(quantized.stdout.contains("accuracy F32"))
        let int8Classified = try runDistill(["classify", "--model", int8.path, "--top-k", "2"],
                                            stdin: Data("connection refused by postgres database query\ndisk full inode filesystem mount\n".utf8))
        let int8Lines = int8Classified.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(int8Lines.map { $0["label"] as? String } == lines.prefix(2).map { $0["label"] as? String })
    }

    @Test("a BERT student with hidden and attention losses: teacher features stored once, losses logged")
    func intermediateRecipe() throws {
        let dir = try makeProject(studentKind: "bert", epochs: 2, intermediate: true)
        let result = try runDistill(["train", "--recipe", dir.appendingPathComponent("recipe.yaml").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("FP16 features stored for"))
        let run = dir.appendingPathComponent("run")
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("teachers/big-bert.features.safetensors").path))
        let first = try String(contentsOf: run.appendingPathComponent("train.jsonl"), encoding: .utf8).split(separator: "\n")[0]
        let entry = try JSONSerialization.jsonObject(with: Data(first.utf8)) as! [String: Any]
        #expect((entry["hidden"] as? Double ?? 0) > 0 && (entry["attention"] as? Double ?? 0) > 0)
        // The exported student has no projection tensors and uses the teacher's vocabulary.
        let student = try Student.load(from: run.appendingPathComponent("final"))
        #expect(!student.module.stateDict().keys.contains { $0.contains("projection") })
        let model = try #require(student.model as? BertClassifier, "not a BERT student").model
        let teacherConfig = try BertConfig.read(from: dir.appendingPathComponent("teachers/big-bert/config.json"))
        #expect(model.config.vocabSize == teacherConfig.vocabSize)
    }

    @Test("a BERT student cut from the teacher: one of its two layers, its vocabulary, head and labels")
    func studentFromTeacher() throws {
        let dir = try makeProject(studentKind: "bert-from-teacher", epochs: 4)
        let result = try runDistill(["train", "--recipe", dir.appendingPathComponent("recipe.yaml").path])
        #expect(result.status == 0, "\(result.stderr)")
        let run = dir.appendingPathComponent("run")
        let studentBert = try #require(try Student.load(from: run.appendingPathComponent("final")).model as? BertClassifier, "not a BERT student")
        let teacherBert = try #require(try Student.load(from: dir.appendingPathComponent("teachers/big-bert")).model as? BertClassifier, "not a BERT teacher")
        let (model, tokenizer) = (studentBert.model, studentBert.tokenizer)
        let (teacher, teacherTokenizer) = (teacherBert.model, teacherBert.tokenizer)
        #expect(model.config.numHiddenLayers == 1 && model.config.hiddenSize == teacher.config.hiddenSize)
        #expect(model.config.maxPositionEmbeddings == 32 && tokenizer.vocabulary == teacherTokenizer.vocabulary)
        #expect(model.config.labels == labelNames && model.pooling == teacher.pooling)
        // It answers about as well as the two-layer teacher it came from, on the same test lines.
        let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: run.appendingPathComponent("report.json")))
        let teacherEval = try runDistill(["eval", "--model", dir.appendingPathComponent("teachers/big-bert").path,
                                          "--data", dir.appendingPathComponent("data/test.jsonl").path, "--json", dir.appendingPathComponent("teacher-eval.json").path])
        #expect(teacherEval.status == 0, "\(teacherEval.stderr)")
        let teacherReport = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: dir.appendingPathComponent("teacher-eval.json")))
        #expect(report.accuracy >= teacherReport.accuracy - 0.1 && report.accuracy > 0.5, "student \(report.accuracy), teacher \(teacherReport.accuracy)")
    }

    @Test("a decision block: temperature and bar fitted on dev, decision.json shipped (and quantized), applied by eval and classify")
    func decisionRule() throws {
        let dir = try makeProject(epochs: 2)
        let recipeURL = dir.appendingPathComponent("recipe.yaml")
        let recipe = try String(contentsOf: recipeURL, encoding: .utf8) + "\ndecision:\n  alert_target: 0\n  normal_label: auth\n  min_confidence: 0.99\n"
        try Data(recipe.utf8).write(to: recipeURL)
        let result = try runDistill(["train", "--recipe", recipeURL.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("decision: temperature"))
        let run = dir.appendingPathComponent("run")
        let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: run.appendingPathComponent("report.json")))
        let fit = try #require(report.decision)
        #expect(fit.rule.temperature > 0 && fit.rule.minimumConfidence == 0.99 && fit.devLines == 40 && fit.testECEBefore != nil)
        #expect(fit.devMissedAlertsAfter.map { $0 <= fit.devMissedAlertsBefore! } == true)
        if fit.rule.normalThreshold != nil { #expect(fit.devMissedAlertsAfter == 0 && fit.rule.normalLabel == "auth") }
        #expect(try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8).contains("## Decision rule"))
        let model = try #require(["best", "final"].map { run.appendingPathComponent($0) }.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("decision.json").path) })
        let saved = try #require(try DecisionRule.load(folder: model))
        #expect(saved == fit.rule)
        // classify: the floor answers unknown for most of these lines; --ignore-decision gives labels; an override applies.
        let lines = Data("connection refused by postgres database query\ndisk full inode filesystem mount\nlogin failed for user\n".utf8)
        func labels(_ extra: [String], model folder: URL) throws -> [String] {
            let out = try runDistill(["classify", "--model", folder.path] + extra, stdin: lines)
            #expect(out.status == 0, "\(out.stderr)")
            return out.stdout.split(separator: "\n").map { (try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["label"] as! String }
        }
        let floored = try labels([], model: model)
        #expect(floored.count == 3 && floored.contains("unknown"))
        #expect(try labels(["--ignore-decision"], model: model).allSatisfy { labelNames.contains($0) })
        #expect(try labels(["--min-confidence", "0"], model: model).allSatisfy { labelNames.contains($0) })
        let bad = try runDistill(["classify", "--model", model.path, "--normal-threshold", "0.5", "--normal-label", "nope"], stdin: lines)
        #expect(bad.status != 0 && bad.stderr.contains("key 'normal_label'") && bad.stderr.contains("decision.json"))
        // eval decides with the folder's rule: the run's test report and eval agree.
        let evalJSON = dir.appendingPathComponent("eval.json")
        #expect(try runDistill(["eval", "--model", model.path, "--data", dir.appendingPathComponent("data/test.jsonl").path, "--json", evalJSON.path]).status == 0)
        let evaluated = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: evalJSON))
        #expect(evaluated.confusion == report.confusion && evaluated.expectedCalibrationError == report.expectedCalibrationError)
        // The int8 copy keeps the rule.
        let int8 = dir.appendingPathComponent("int8")
        #expect(try runDistill(["quantize", "--model", model.path, "--out", int8.path]).status == 0)
        #expect(try DecisionRule.load(folder: int8) == saved)
        #expect(try labels([], model: int8).contains("unknown"))
    }

    @Test("one writer per run folder: a second train is refused naming the owner; a finished folder needs --resume or --restart")
    func runFolderLock() throws {
        let dir = try makeProject(epochs: 2, checkpointEvery: 25)
        let recipe = dir.appendingPathComponent("recipe.yaml").path
        var lock: RunLock? = try RunLock.runFolder(dir.appendingPathComponent("run"))
        let busy = try runDistill(["train", "--recipe", recipe])
        #expect(busy.status == 1 && busy.stderr.contains("in use by pid \(getpid()) on ") && !busy.stderr.contains("USAGE"), "\(busy.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/checkpoint").path))
        #expect { try RunLock.runFolder(dir.appendingPathComponent("run")) } throws: { error in
            guard case RuntimeError.busy(_, let holder)? = error as? RuntimeError else { return false }
            return holder.hasPrefix("pid \(getpid()) on ")
        }
        lock = nil
        _ = lock
        #expect(try runDistill(["train", "--recipe", recipe]).status == 0)
        let finalWeights = dir.appendingPathComponent("run/final/model.safetensors")
        let before = try Data(contentsOf: finalWeights)
        let refused = try runDistill(["train", "--recipe", recipe])
        #expect(refused.status == 1 && refused.stderr.contains("holds the checkpoint of a finished run") && refused.stderr.contains("--restart"), "\(refused.stderr)")
        #expect(try Data(contentsOf: finalWeights) == before)
        let both = try runDistill(["train", "--recipe", recipe, "--resume", "--restart"])
        #expect(both.status != 0 && both.stderr.contains("exclude each other"))
        let resumed = try runDistill(["train", "--recipe", recipe, "--resume"])
        #expect(resumed.status == 0)
        #expect(try Data(contentsOf: finalWeights) == before, "a finished run resumed changes nothing")
        let restarted = try runDistill(["train", "--recipe", recipe, "--restart"])
        #expect(restarted.status == 0)
        #expect(try Data(contentsOf: finalWeights) == before, "same seed: the run again gives the same weights")
    }

    @Test("kill -9 in the middle of training, then --resume: same final weights and log as an uninterrupted run")
    func killAndResume() throws {
        let dir = try makeProject(epochs: 40, checkpointEvery: 25)
        let recipe = dir.appendingPathComponent("recipe.yaml")
        // Uninterrupted reference run into another folder.
        let reference = try String(contentsOf: recipe, encoding: .utf8).replacingOccurrences(of: "output: run", with: "output: reference")
        try Data(reference.utf8).write(to: dir.appendingPathComponent("reference.yaml"))
        #expect(try runDistill(["train", "--recipe", dir.appendingPathComponent("reference.yaml").path]).status == 0)

        // The debug build on purpose: slow enough to be killed mid-run even when the reference above ran on the
        // release binary (make test); the final comparison then also shows the two builds give the same bits.
        let process = Process()
        process.executableURL = projectRoot.appendingPathComponent(".build/debug/distill")
        process.arguments = ["train", "--recipe", recipe.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let log = dir.appendingPathComponent("run/train.jsonl")
        let deadline = Date().addingTimeInterval(120)
        var steps = 0
        while Date() < deadline && process.isRunning {
            steps = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").count ?? 0
            if steps >= 120 { break }
            usleep(20_000)
        }
        #expect(process.isRunning, "the run finished before it could be killed (\(steps) log lines)")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        // Without --resume the checkpoint is not silently discarded: refused, and the checkpoint is still there.
        let again = try runDistill(["train", "--recipe", recipe.path])
        #expect(again.status == 1 && again.stderr.contains("holds the checkpoint of an unfinished run") && again.stderr.contains("pass --resume"), "\(again.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/checkpoint/state.json").path))
        let resumed = try runDistill(["train", "--recipe", recipe.path, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let a = try SafetensorsFile(url: dir.appendingPathComponent("reference/final/model.safetensors"))
        let b = try SafetensorsFile(url: dir.appendingPathComponent("run/final/model.safetensors"))
        #expect(a.names == b.names)
        for name in a.names { #expect(try a.tensor(name).scalars == b.tensor(name).scalars, "\(name)") }
        #expect(try String(contentsOf: log, encoding: .utf8) == String(contentsOf: dir.appendingPathComponent("reference/train.jsonl"), encoding: .utf8))
    }

    @Test("recipe errors name the file, line and key", arguments: [
        ("unknown key", "labels: [a, b]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\n  bukets: 10\n", "6: key 'student.bukets': unknown key"),
        ("wrong type", "labels: [a, b]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  epochs: many\n", "7: key 'training.epochs': expected an integer"),
        ("missing file", "labels: [a, b]\ndata:\n  labelled: nope.jsonl\nstudent:\n  kind: ngram-bag\n", "3: key 'data.labelled': file not found"),
        ("bad student kind", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: gpt\n", "key 'student.kind': 'gpt' is not a student kind"),
        ("no labels", "data:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\n", "key 'labels': is required"),
        ("unlabelled without teacher", "labels: [a]\ndata:\n  unlabelled: x.jsonl\nstudent:\n  kind: ngram-bag\n", "key 'teachers': unlabelled data needs at least one teacher"),
        ("not YAML", "labels: [a\n", "not valid YAML"),
        ("alpha out of range", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\nlosses:\n  alpha: 1.5\n", "7: key 'losses.alpha': must be within [0, 1]"),
        ("evaluate_every 0", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  evaluate_every: 0\n", "7: key 'training.evaluate_every': must be at least 1"),
        ("bad input kind", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ninput: words\n", "6: key 'input': 'words' is not raw or logs"),
        ("bad mask", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ninput:\n  kind: logs\n  masks: [ip, ipv9]\n", "key 'input.masks': 'ipv9' is not a mask"),
        ("bad class_weights word", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\nlosses:\n  class_weights: equal\n", "7: key 'losses.class_weights': expected a list of numbers (one per label), balanced, sqrt or none; found 'equal'"),
        ("from_teacher not a bert teacher", "labels: [a]\ndata:\n  labelled: x.jsonl\nteachers:\n  - {name: t, kind: soft-labels, path: x.jsonl}\nstudent:\n  kind: bert\n  from_teacher: t\n", "8: key 'student.from_teacher': 't' is not the name of a `kind: bert` teacher"),
        ("from_teacher with a size", "labels: [a]\ndata:\n  labelled: x.jsonl\nteachers:\n  - {name: t, kind: bert, path: .}\nstudent:\n  kind: bert\n  from_teacher: t\n  hidden: 64\n", "9: key 'student.hidden': comes from the teacher when `from_teacher` is set"),
        ("teacher_layers out of order", "labels: [a]\ndata:\n  labelled: x.jsonl\nteachers:\n  - {name: t, kind: bert, path: .}\nstudent:\n  kind: bert\n  from_teacher: t\n  teacher_layers: [3, 1]\n", "9: key 'student.teacher_layers': expected increasing 0-based teacher layer indices"),
        ("layers disagree with teacher_layers", "labels: [a]\ndata:\n  labelled: x.jsonl\nteachers:\n  - {name: t, kind: bert, path: .}\nstudent:\n  kind: bert\n  from_teacher: t\n  layers: 3\n  teacher_layers: [1, 5]\n", "9: key 'student.layers': is 3 but teacher_layers lists 2"),
        ("decision without dev", "labels: [normal, a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ndecision:\n  alert_target: 0.1\n", "key 'decision': calibration and alert_target are fitted on the dev lines"),
        ("decision bad normal label", "labels: [a, b]\ndata:\n  labelled: x.jsonl\n  dev: x.jsonl\nstudent:\n  kind: ngram-bag\ndecision:\n  alert_target: 0.1\n", "8: key 'decision.normal_label': 'normal' is not one of the labels"),
        ("decision target out of range", "labels: [normal, a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ndecision:\n  alert_target: 2\n", "7: key 'decision.alert_target': must be within [0, 1]"),
        ("negative learning rate", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  learning_rate: -1\n", "7: key 'training.learning_rate': must be > 0, got -1"),
        ("NaN learning rate", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  learning_rate: .nan\n", "7: key 'training.learning_rate': expected a finite number, found '.nan'"),
        ("infinite weight decay", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  weight_decay: .inf\n", "7: key 'training.weight_decay': expected a finite number"),
        ("negative weight decay", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  weight_decay: -0.1\n", "7: key 'training.weight_decay': must be >= 0"),
        ("label smoothing 1", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\nlosses:\n  label_smoothing: 1\n", "7: key 'losses.label_smoothing': must be within [0, 1)"),
        ("max_steps 0", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  max_steps: 0\n", "7: key 'training.max_steps': must be at least 1"),
        ("max_length 0", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: bert\n  max_length: 0\n", "6: key 'student.max_length': must be within 8...8192"),
        ("output is a file", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\noutput: x.jsonl\n", "6: key 'output':"),
        ("output holds the recipe and its data", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\noutput: .\n", "6: key 'output':"),
        ("huge buckets", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\n  buckets: 1099511627776\n", "6: key 'student.buckets': must be in 1...16777216, got 1099511627776"),
        ("huge layers", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: bert\n  layers: 100000\n", "6: key 'student.layers': must be in 1...128"),
        ("more parameters than memory", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\n  buckets: 16777216\n  embedding_size: 16384\n", "training it needs about"),
        ("list for an integer", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  batch_size: [16]\n", "7: key 'training.batch_size': expected an integer, found a list"),
        ("embeddings_from not a bert teacher", "labels: [a]\ndata:\n  labelled: x.jsonl\nteachers:\n  - {name: t, kind: soft-labels, path: x.jsonl}\nstudent:\n  kind: ngram-bag\n  embeddings_from: t\n", "8: key 'student.embeddings_from': 't' is not the name of a `kind: bert` teacher"),
        ("embeddings_from on a cut student", "labels: [a]\ndata:\n  labelled: x.jsonl\nteachers:\n  - {name: t, kind: bert, path: .}\nstudent:\n  kind: bert\n  from_teacher: t\n  embeddings_from: t\n", "9: key 'student.embeddings_from': a student cut from a teacher already has its embeddings"),
        ("bad embedding_updates", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  embedding_updates: lazy\n", "7: key 'training.embedding_updates': 'lazy' is not one of sparse, dense"),
        ("bad duplicates", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  duplicates: drop\n", "7: key 'training.duplicates': 'drop' is not one of merge, keep"),
        ("duplicate_weight_cap below 1", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  duplicate_weight_cap: 0.5\n", "7: key 'training.duplicate_weight_cap': must be a number >= 1, got 0.5"),
        ("min_epoch_examples 0", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  min_epoch_examples: 0\n", "7: key 'training.min_epoch_examples': must be at least 1, got 0"),
        ("bad hidden loss kind", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: bert\nlosses:\n  hidden:\n    kind: l2\n", "key 'losses.hidden.kind': 'l2' is not one of mse, cosine"),
        ("bad attention loss kind", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: bert\nlosses:\n  attention: {kind: cosine}\n", "key 'losses.attention.kind': 'cosine' is not one of kl, mse"),
        ("checkpoint_seconds 0", "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\ntraining:\n  checkpoint_seconds: 0\n", "7: key 'training.checkpoint_seconds': must be > 0"),
        ("finetune without labelled lines", "labels: [a]\ndata:\n  unlabelled: x.jsonl\nteachers:\n  - {name: t, kind: bert, path: ., finetune: {epochs: 2}}\nstudent:\n  kind: ngram-bag\n", "key 'teachers[0].finetune': needs data.labelled"),
        ("finetune unknown key", "labels: [a]\ndata:\n  labelled: x.jsonl\nteachers:\n  - {name: t, kind: bert, path: ., finetune: {epoch: 2}}\nstudent:\n  kind: ngram-bag\n", "key 'teachers[0].finetune.epoch': unknown key"),
        ("finetune seed < 0", "labels: [a]\ndata:\n  labelled: x.jsonl\nteachers:\n  - {name: t, kind: bert, path: ., finetune: {seed: -1}}\nstudent:\n  kind: ngram-bag\n", "key 'teachers[0].finetune.seed': must be in 0..."),
        ("finetune epochs 0", "labels: [a]\ndata:\n  labelled: x.jsonl\nteachers:\n  - {name: t, kind: bert, path: ., finetune: {epochs: 0}}\nstudent:\n  kind: ngram-bag\n", "key 'teachers[0].finetune.epochs': must be in 1...1000"),
        ("duplicate teacher", "labels: [a]\ndata:\n  labelled: x.jsonl\nteachers:\n  - {name: t, kind: soft-labels, path: x.jsonl}\n  - {name: t, kind: soft-labels, path: x.jsonl}\nstudent:\n  kind: ngram-bag\n", "key 'teachers[1].name': teacher name 't' is used twice"),
    ])
    func recipeErrors(_ c: (String, String, String)) throws {
        let dir = temporaryFolder()
        try Data("{\"text\": \"a\", \"label\": \"a\"}\n".utf8).write(to: dir.appendingPathComponent("x.jsonl"))
        let url = dir.appendingPathComponent("recipe.yaml")
        try Data(c.1.utf8).write(to: url)
        do {
            _ = try Recipe.load(url)
            Issue.record("\(c.0): accepted")
        } catch let error as RecipeError {
            #expect(error.localizedDescription.contains(c.2), "\(c.0): \(error.localizedDescription)")
            #expect(error.localizedDescription.hasPrefix(url.path))
        }
    }

    @Test("a bert teacher with finetune: fine-tuned on the labelled lines into its folder once (by default in the run folder), reused by a rerun, fine-tuned again when a setting changes; the report scores it on the test lines")
    func fineTunedTeacher() throws {
        let dir = try makeProject()
        let url = dir.appendingPathComponent("recipe.yaml")
        func recipe(epochs: Int, seed: Int? = nil) throws {
            let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: #"    path: teachers/big-bert\n(    finetune: .*\n)?"#, with: """
                    path: teachers/big-bert
                    finetune: {epochs: \(epochs), max_length: 32, learning_rate: 0.003\(seed.map { ", seed: \($0)" } ?? "")}

                """, options: .regularExpression)
            try Data(text.utf8).write(to: url)
        }
        try recipe(epochs: 2)
        let recipeFolderBefore = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        let first = try runDistill(["train", "--recipe", url.path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("teacher big-bert: fine-tuning \(dir.appendingPathComponent("teachers/big-bert").path) on 60 labelled lines (at most 2 epochs)"), "\(first.stderr)")
        #expect(first.stderr.contains("teacher big-bert: epoch 2, dev accuracy"))
        // The default folder is in the run folder; nothing beside the recipe was replaced.
        let tuned = dir.appendingPathComponent("run/teachers/big-bert-finetuned")
        let weights = tuned.appendingPathComponent("model.safetensors")
        #expect(FileManager.default.fileExists(atPath: tuned.appendingPathComponent("finetune.json").path))
        #expect(Set(recipeFolderBefore).isSubset(of: Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))))
        // A classifier of the recipe's labels whose encoder moved away from the checkpoint's.
        #expect(try BertConfig.read(from: tuned.appendingPathComponent("config.json")).labels == labelNames)
        let name = "bert.encoder.layer.1.attention.self.query.weight"
        let base = try SafetensorsFile(url: dir.appendingPathComponent("teachers/big-bert/model.safetensors"))
        #expect(try SafetensorsFile(url: weights).tensor(name).scalars != base.tensor(name).scalars)
        // The report scores the teacher on the test lines as the fine-tuned folder answers them, and the baseline too.
        let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: dir.appendingPathComponent("run/report.json")))
        let teacherReport = try #require(report.teacherReports?["big-bert"])
        let test = try readDataset(dir.appendingPathComponent("data/test.jsonl"), labels: labelNames, requireLabel: true)
        let own = EvaluationReport.compute(probabilities: try Student.load(from: tuned).probabilities(test.map(\.text)), gold: test.map { $0.label! }, labels: labelNames)
        #expect(teacherReport.examples == 60 && teacherReport.confusion == own.confusion)
        #expect(report.agreementWithTeacher != nil && report.checks?.goldBaselineTest != nil)
        #expect(try String(contentsOf: dir.appendingPathComponent("run/report.md"), encoding: .utf8).contains("| teacher big-bert | 60 |"))
        let modified = try FileManager.default.attributesOfItem(atPath: weights.path)[.modificationDate] as? Date
        // A rerun reuses the fine-tuned folder; a changed setting fine-tunes again.
        let second = try runDistill(["train", "--recipe", url.path, "--restart"])
        #expect(second.status == 0 && second.stderr.contains("teacher big-bert: fine-tuned classifier reused from"), "\(second.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: weights.path)[.modificationDate] as? Date == modified)
        try recipe(epochs: 1)
        let third = try runDistill(["train", "--recipe", url.path, "--restart"])
        #expect(third.status == 0 && third.stderr.contains("/teachers/big-bert on 60 labelled lines (at most 1 epochs)"), "\(third.stderr)")
        // A seed of its own (`finetune.seed`, not the recipe's) is a setting too: another head, data order and dropout.
        let oneEpoch = try SafetensorsFile(url: weights).tensor(name).scalars
        try recipe(epochs: 1, seed: 8)  // the recipe's `seed` is 7
        let fourth = try runDistill(["train", "--recipe", url.path, "--restart"])
        #expect(fourth.status == 0 && fourth.stderr.contains("/teachers/big-bert on 60 labelled lines (at most 1 epochs)"), "\(fourth.stderr)")
        #expect(try SafetensorsFile(url: weights).tensor(name).scalars != oneEpoch)
    }

    @Test("finetune.out is replaced whole, so a folder that holds other files, the recipe or its data is refused and left as it was")
    func fineTuneOutputGuard() throws {
        let dir = try makeProject()
        let url = dir.appendingPathComponent("recipe.yaml")
        let original = try String(contentsOf: url, encoding: .utf8)
        let keep = dir.appendingPathComponent("notes")
        try FileManager.default.createDirectory(at: keep, withIntermediateDirectories: true)
        try Data("keep me\n".utf8).write(to: keep.appendingPathComponent("todo.txt"))
        for (out, expected) in [("notes", "notes: not replaced"), (".", "recipe.yaml"), ("data", "holds "), ("teachers/big-bert", "holds ")] {
            let text = original.replacingOccurrences(of: "    path: teachers/big-bert\n", with: "    path: teachers/big-bert\n    finetune: {epochs: 1, out: \(out)}\n")
            try Data(text.utf8).write(to: url)
            let result = try runDistill(["train", "--recipe", url.path])
            #expect(result.status != 0 && result.stderr.contains("teachers.big-bert.finetune.out") && result.stderr.contains(expected), "\(out): \(result.stderr)")
        }
        #expect(try String(contentsOf: keep.appendingPathComponent("todo.txt"), encoding: .utf8) == "keep me\n")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("data/labelled.jsonl").path))
    }

    @Test("a teacher that says one label for everything: the run warns that the student collapsed and lost to the gold-only baseline")
    func collapseWarnings() async throws {
        let dir = temporaryFolder()
        func lines(_ n: Int, offset: Int) -> [(String, String)] {
            (0..<n).map { i in i % 2 == 0 ? ("disk sda\(i + offset) failed with io error", "b") : ("request \(i + offset) served ok", "a") }
        }
        let labelled = lines(40, offset: 0), unlabelled = lines(80, offset: 100), dev = lines(20, offset: 300)
        func jsonl(_ rows: [(String, String)], label: Bool) -> String {
            rows.map { label ? #"{"text": "\#($0.0)", "label": "\#($0.1)"}"# : #"{"text": "\#($0.0)"}"# }.joined(separator: "\n") + "\n"
        }
        try jsonl(labelled, label: true).write(to: dir.appendingPathComponent("labelled.jsonl"), atomically: true, encoding: .utf8)
        try jsonl(unlabelled, label: false).write(to: dir.appendingPathComponent("unlabelled.jsonl"), atomically: true, encoding: .utf8)
        try jsonl(dev, label: true).write(to: dir.appendingPathComponent("dev.jsonl"), atomically: true, encoding: .utf8)
        let soft = (labelled + unlabelled + dev).map { #"{"text": "\#($0.0)", "probabilities": {"a": 0.99, "b": 0.01}}"# }.joined(separator: "\n") + "\n"
        try soft.write(to: dir.appendingPathComponent("teacher.jsonl"), atomically: true, encoding: .utf8)
        let recipe = """
        labels: [a, b]
        data: {labelled: labelled.jsonl, unlabelled: unlabelled.jsonl, dev: dev.jsonl, test: dev.jsonl}
        teachers:
          - {name: always-a, kind: soft-labels, path: teacher.jsonl}
        student: {kind: ngram-bag, buckets: 4096, embedding_size: 8}
        losses: {alpha: 1.0}
        training: {epochs: 3, batch_size: 16, learning_rate: 0.05}
        output: run
        """
        try recipe.write(to: dir.appendingPathComponent("recipe.yaml"), atomically: true, encoding: .utf8)
        let logged = LogLines()
        let outcome = try await DistillationRun.execute(try Recipe.load(dir.appendingPathComponent("recipe.yaml")), start: .new, log: { logged.append($0) })
        let checks = outcome.checks
        #expect(checks.goldBaseline!.macroF1 > 0.9, "the labelled lines alone separate the two labels")
        #expect(checks.teachers!.accuracy == 0.5 && checks.student!.macroF1 < checks.goldBaseline!.macroF1)
        #expect(checks.warnings.contains { $0.hasPrefix("the student's dev macro-F1") && $0.contains("below the gold-only baseline's") })
        #expect(checks.warnings.contains { $0.hasPrefix("the teachers' dev macro-F1") })
        #expect(checks.warnings.contains { $0.contains("answers 'a' for every one of the 40 dev and test lines: it collapsed to one class") })
        #expect(logged.lines.filter { $0.hasPrefix("warning: ") }.count == checks.warnings.count)
        #expect(try String(contentsOf: dir.appendingPathComponent("run/report.md"), encoding: .utf8).contains("- **warning**: the student answers 'a'"))
    }

    @Test("stored soft labels of raw lines (distill label output) teach a recipe with input: logs; a file that covers no line is refused")
    func softLabelsOfRawLines() async throws {
        let dir = temporaryFolder()
        // Raw log lines with envelopes and variables: prepared, they no longer equal the texts in the soft-label file.
        let unlabelled = (0..<60).map { i in i % 2 == 0 ? "2026-12-01T10:00:\(String(format: "%02d", i % 60))Z ERROR disk /dev/sd\(i) failed with io error"
                                                      : "2026-12-01T10:00:\(String(format: "%02d", i % 60))Z INFO request \(i) served in \(i)ms" }
        func object(_ text: String, _ extra: String) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: ["text": text]), as: UTF8.self).dropLast() + extra + "}"
        }
        try (unlabelled.map { object($0, "") }.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("unlabelled.jsonl"), atomically: true, encoding: .utf8)
        let soft = unlabelled.map { object($0, $0.contains("ERROR") ? #", "probabilities": {"a": 0.05, "b": 0.95}"# : #", "probabilities": {"a": 0.95, "b": 0.05}"#) }
        try (soft.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("teacher.jsonl"), atomically: true, encoding: .utf8)
        let test = [object("2026-12-02T11:00:00Z ERROR disk /dev/sdz9 failed with io error", #", "label": "b""#),
                    object("2026-12-02T11:00:01Z INFO request 77 served in 3ms", #", "label": "a""#)]
        try (test.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("test.jsonl"), atomically: true, encoding: .utf8)
        func recipe(_ teacherFile: String, duplicates: String = "merge") throws -> Recipe {
            let text = """
            labels: [a, b]
            data: {unlabelled: unlabelled.jsonl, test: test.jsonl}
            teachers:
              - {name: llm, kind: soft-labels, path: \(teacherFile)}
            student: {kind: ngram-bag, buckets: 4096, embedding_size: 8}
            input: logs
            training: {epochs: 8, batch_size: 8, learning_rate: 0.05, duplicates: \(duplicates)}
            output: run
            """
            try text.write(to: dir.appendingPathComponent("recipe.yaml"), atomically: true, encoding: .utf8)
            return try Recipe.load(dir.appendingPathComponent("recipe.yaml"))
        }
        // Every line kept: the teacher's answer on each of the 60 raw lines.
        let logged = LogLines()
        let outcome = try await DistillationRun.execute(try recipe("teacher.jsonl", duplicates: "keep"), start: .new, log: { logged.append($0) })
        #expect(logged.contains("teacher llm: stored soft labels for 60 of 60 training texts"), "\(logged)")
        #expect(outcome.test?.accuracy == 1, "\(outcome.test?.table() ?? "")")
        // Merged (the default): the 60 lines read as two texts once masked, each asked as its first raw line and
        // trained once with the weight of its 30 lines.
        logged.clear()
        let merged = try await DistillationRun.execute(try recipe("teacher.jsonl"), start: .restart, log: { logged.append($0) })
        #expect(logged.contains("data: 0 labelled, 60 unlabelled (2 distinct texts), 0 dev, 2 test"), "\(logged)")
        #expect(logged.contains("teacher llm: stored soft labels for 2 of 2 training texts"), "\(logged)")
        #expect(logged.contains("training: 2 distinct examples for 60 lines (weights capped at 64), 60 examples an epoch"), "\(logged)")
        #expect(merged.test?.accuracy == 1, "\(merged.test?.table() ?? "")")
        // Soft labels for other lines only: refused, naming the teachers key, instead of training on nothing.
        try (test.joined(separator: "\n").replacingOccurrences(of: #""label""#, with: #""probabilities": {"a": 1, "b": 0}, "x""#) + "\n")
            .write(to: dir.appendingPathComponent("other.jsonl"), atomically: true, encoding: .utf8)
        await #expect(throws: RecipeError.self) { try await DistillationRun.execute(try recipe("other.jsonl"), start: .restart) }
        do { _ = try await DistillationRun.execute(try recipe("other.jsonl"), start: .restart) } catch {
            #expect(error.localizedDescription.contains("key 'teachers'") && error.localizedDescription.contains("holds no soft label"), "\(error.localizedDescription)")
        }
    }

    @Test("an empty labelled file is refused when nothing else teaches; an empty file beside other data is a warning")
    func emptyFiles() async throws {
        let dir = temporaryFolder()
        try Data().write(to: dir.appendingPathComponent("empty.jsonl"))
        try Data("{\"text\": \"disk full\", \"label\": \"a\"}\n{\"text\": \"user login\", \"label\": \"b\"}\n".utf8).write(to: dir.appendingPathComponent("two.jsonl"))
        func recipe(_ labelled: String, dev: String?) throws -> Recipe {
            let text = "labels: [a, b]\ndata: {labelled: \(labelled)\(dev.map { ", dev: \($0)" } ?? "")}\nstudent: {kind: ngram-bag, buckets: 256, embedding_size: 4}\n"
                + "training: {epochs: 1}\noutput: run-\(labelled)\n"
            try text.write(to: dir.appendingPathComponent("recipe.yaml"), atomically: true, encoding: .utf8)
            return try Recipe.load(dir.appendingPathComponent("recipe.yaml"))
        }
        do { _ = try await DistillationRun.execute(try recipe("empty.jsonl", dev: nil), start: .new); Issue.record("trained on an empty file") } catch let error as RecipeError {
            #expect(error.localizedDescription.contains("key 'data': nothing to train on: no labelled lines and no teachers"), "\(error.localizedDescription)")
        }
        let logged = LogLines()
        _ = try await DistillationRun.execute(try recipe("two.jsonl", dev: "empty.jsonl"), start: .new, log: { logged.append($0) })
        #expect(logged.contains { $0.hasPrefix("warning: data.dev (") && $0.hasSuffix("empty.jsonl) holds no lines") }, "\(logged)")
        // Early stopping says that it ended the run.
        let stopping = "labels: [a, b]\ndata: {labelled: two.jsonl, dev: two.jsonl}\nstudent: {kind: ngram-bag, buckets: 256, embedding_size: 4}\n"
            + "training: {epochs: 200, batch_size: 2, evaluate_every: 1, early_stopping: {patience: 2}}\noutput: run-stop\n"
        try stopping.write(to: dir.appendingPathComponent("stop.yaml"), atomically: true, encoding: .utf8)
        logged.clear()
        _ = try await DistillationRun.execute(try Recipe.load(dir.appendingPathComponent("stop.yaml")), start: .new, log: { logged.append($0) })
        #expect(logged.contains { $0.hasPrefix("early stopping: 2 dev evaluations without a better macro_f1; stopped at step ") && $0.contains(" of 200,") },
                "\(logged)")
    }

    @Test("class_weights: balanced weighs each class n / (classes x count) of the gold labels; explicit weights win")
    func balancedClassWeights() throws {
        let gold: [Int?] = [0, 0, 0, 1, nil, 2, 2, 2, 2, 2, 2, 2]
        let expected: [Float] = [11.0 / 9, 11.0 / 3, 11.0 / 21, 1]
        #expect(ClassBalance.balanced.weights(labels: gold, classes: 4) == expected)
        #expect(ClassBalance.none.weights(labels: [0, 1], classes: 2) == nil)
        #expect(ClassBalance.sqrt.weights(labels: gold, classes: 4) == expected.map { $0.squareRoot() })
        #expect(ClassBalance.balanced.weights(labels: [nil, nil], classes: 2) == nil)
        let dir = temporaryFolder()
        let rows = (0..<9).map { #"{"text": "routine line \#($0)", "label": "a"}"# } + [#"{"text": "disk failed", "label": "b"}"#]
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: dir.appendingPathComponent("x.jsonl"))
        let url = dir.appendingPathComponent("recipe.yaml")
        try Data("labels: [a, b]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\n  buckets: 512\nlosses:\n  class_weights: balanced\ntraining:\n  epochs: 1\noutput: run\n".utf8).write(to: url)
        let recipe = try Recipe.load(url)
        #expect(recipe.training.classBalance == .balanced && recipe.training.classWeights == nil)
        let examples = rows.indices.map { TrainingExample(text: "t\($0)", label: $0 < 9 ? 0 : 1) }
        let student = Student.ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 512), embeddingSize: 4, labels: ["a", "b"]), seed: 1))
        let trainer = try DistillationTrainer(student: student, config: recipe.training, train: examples, output: dir.appendingPathComponent("t"))
        let balanced: [Float] = [10.0 / 18, 10.0 / 2]
        #expect(trainer.config.classWeights == balanced)
        var explicit = recipe.training
        explicit.classWeights = [1, 3]
        #expect(try DistillationTrainer(student: student, config: explicit, train: examples, output: dir.appendingPathComponent("u")).config.classWeights == [1, 3])
    }

    @Test("input: logs prepares every line with the chosen masks, and the student keeps that preparation")
    func logInput() async throws {
        let dir = temporaryFolder()
        let lines = [("E1129 01:02:03.000001 1 db.go:1] connection to 10.0.0.1:5432 refused after 30s", "a"), ("I1129 01:02:03.000001 1 web.go:1] served /index.html", "b")]
        let data = lines.map { #"{"text": "\#($0.0)", "label": "\#($0.1)"}"# }.joined(separator: "\n") + "\n"
        try Data(data.utf8).write(to: dir.appendingPathComponent("x.jsonl"))
        let url = dir.appendingPathComponent("recipe.yaml")
        try Data("labels: [a, b]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: ngram-bag\n  buckets: 512\ninput:\n  kind: logs\n  masks: [ip, duration]\ntraining:\n  epochs: 1\noutput: run\n".utf8).write(to: url)
        let recipe = try Recipe.load(url)
        #expect(recipe.input.kind == .logs && recipe.input.masks == ["ip", "duration"])
        #expect(recipe.input.preparer().prepare(lines[0].0) == "error db.go connection to <IP>:<PORT> refused after <DURATION>")
        let outcome = try await DistillationRun.execute(recipe, start: .new)
        let saved = try Student.load(from: outcome.model)
        #expect(saved.input == recipe.input)
    }

    @Test("bad data lines name file:line: unknown label, not JSON, missing text")
    func dataErrors() throws {
        let dir = temporaryFolder()
        let url = dir.appendingPathComponent("d.jsonl")
        for (content, expected) in [("{\"text\": \"a\", \"label\": \"database\"}\n{\"text\": \"b\", \"label\": \"cpu\"}\n", ":2: label 'cpu' is not in the label set"),
                                    ("{\"text\": \"a\", \"label\": \"disk\"}\n\nnot json\n", ":3: not valid JSON: "),
                                    ("{\"txt\": \"a\"}\n", ":1: the string field 'text' is missing")] {
            try Data(content.utf8).write(to: url)
            do { _ = try readDataset(url, labels: labelNames, requireLabel: true); Issue.record("accepted \(content)") } catch let error as DistillError {
                #expect(error.localizedDescription.contains(url.path + expected), "\(error.localizedDescription)")
            }
        }
    }

    @Test("distill init writes a recipe that parses once its data exists")
    func initTemplate() throws {
        let dir = temporaryFolder()
        let url = dir.appendingPathComponent("recipe.yaml")
        #expect(try runDistill(["init", "--out", url.path]).status == 0)
        #expect(try runDistill(["init", "--out", url.path]).status != 0)  // no overwrite without --force
        for f in ["data/labelled.jsonl", "data/unlabelled.jsonl", "data/dev.jsonl", "data/test.jsonl", "teachers/big-bert/config.json"] {
            let p = dir.appendingPathComponent(f)
            try FileManager.default.createDirectory(at: p.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: p)
        }
        let recipe = try Recipe.load(url)
        #expect(recipe.training.clipNorm == 1)
        #expect(recipe.augmentation?.copies == 2 && recipe.augmentationTeacherFilter == 0.5)
        #expect(recipe.labelNames == ["database", "network", "auth", "normal"])
        #expect(recipe.training.earlyStoppingPatience == 3 && recipe.teachers.count == 1)
    }
}
