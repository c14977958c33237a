import DistillNN
import DistillRuntime
import DistillTeachers
import DistillText
import DistillTraining
import Foundation

/// Stage 0 of a recipe run: the `bert` teachers with `finetune:` become classifiers of the recipe's labels
/// before anything asks them.
public enum TeacherPreparation {
    /// The file beside a fine-tuned teacher that says what it was fine-tuned from (base, data, settings).
    static let stampName = "finetune.json"

    /// Fine-tunes every `finetune:` teacher of `recipe` whose folder does not already hold a classifier fine-tuned
    /// from the same checkpoint, labelled and dev lines, labels, input and settings (a rerun reuses it; a changed
    /// setting fine-tunes again). Resumable: a killed fine-tuning continues from its last epoch checkpoint.
    ///
    /// - Throws: ``RecipeError`` when `out` is a folder that holds anything but a fine-tuned teacher (it would be
    ///   replaced whole), or holds the recipe, its data or the checkpoint.
    public static func fineTune(_ recipe: Recipe, log: @escaping (String) -> Void) throws {
        for teacher in recipe.teachers {
            guard let spec = teacher.fineTune else { continue }
            let key = "teachers.\(teacher.name).finetune.out"
            guard let labelledFile = recipe.data.labelled else {
                throw RecipeError(file: recipe.file.path, line: 0, key: "teachers.\(teacher.name).finetune", detail: "needs data.labelled")
            }
            try checkOutput(spec, teacher: teacher.name, recipe: recipe, key: key)
            let fingerprint = try stamp(spec, recipe: recipe)
            if let stored = Stamp.read(folder: spec.output), stored.key == fingerprint,
               FileManager.default.fileExists(atPath: spec.output.appendingPathComponent("model.safetensors").path) {
                log("teacher \(teacher.name): fine-tuned classifier reused from \(spec.output.path) (dev macro-F1 \(stored.devMacroF1.map { String(format: "%.4f", $0) } ?? "-"))")
                continue
            }
            // Work files of a fine-tuning with other inputs or settings are not resumed.
            let work = TeacherFineTuning.workFolder(for: spec.output)
            let workStamp = work.appendingPathComponent("key")
            if FileManager.default.fileExists(atPath: work.path), (try? String(contentsOf: workStamp, encoding: .utf8)) != fingerprint {
                try FileManager.default.removeItem(at: work)
            }
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            try Data(fingerprint.utf8).write(to: workStamp, options: .atomic)
            let labels = recipe.labelNames
            var job = TeacherFineTuning(base: spec.base, labels: labels, train: try readDataset(labelledFile, labels: labels, requireLabel: true),
                                        dev: try recipe.data.dev.map { try readDataset($0, labels: labels, requireLabel: true) } ?? [],
                                        output: spec.output)
            job.epochs = spec.epochs
            job.patience = spec.patience
            job.learningRate = spec.learningRate
            job.maxLength = spec.maxLength
            job.classBalance = spec.classBalance
            job.pooling = spec.pooling
            job.input = recipe.input
            job.seed = spec.seed(in: recipe)
            log("teacher \(teacher.name): fine-tuning \(spec.base.path) on \(job.train.count) labelled lines (at most \(spec.epochs) epochs)")
            let result = try job.run(resume: true, onEpoch: { e in
                log(String(format: "teacher %@: epoch %d, dev accuracy %.4f, macro-F1 %.4f", teacher.name, e.epoch, e.accuracy, e.macroF1))
            })
            let stored = Stamp(key: fingerprint, base: spec.base.path, seconds: result.seconds, devMacroF1: result.dev?.macroF1, devAccuracy: result.dev?.accuracy)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(stored).write(to: spec.output.appendingPathComponent(stampName), options: .atomic)
            log(String(format: "teacher %@: fine-tuned in %.0f s -> %@", teacher.name, result.seconds, spec.output.path))
        }
    }

    /// `out` is replaced whole when the fine-tuned model is saved: it must be new, empty or a model folder (a
    /// fine-tuned teacher's), and hold neither the recipe, its data, the run folder, the checkpoint nor another
    /// teacher's folder, file, checkpoint or `out`.
    static func checkOutput(_ spec: Recipe.TeacherFineTune, teacher: String, recipe: Recipe, key: String) throws {
        var protected = [recipe.file, spec.base, recipe.data.labelled, recipe.data.unlabelled, recipe.data.dev, recipe.data.test, recipe.output]
        for other in recipe.teachers where other.name != teacher {
            switch other.kind {
            case let .bert(folder): protected.append(folder)
            case let .softLabels(file): protected.append(file)
            case .openAI: break
            }
            protected.append(other.fineTune?.base)
        }
        if let inside = protected.compactMap({ $0 }).first(where: { $0.isSameOrInside(spec.output) }) {
            throw RecipeError(file: recipe.file.path, line: 0, key: key,
                              detail: "\(spec.output.path) holds \(inside.path); the fine-tuned teacher replaces its folder whole: name a folder of its own")
        }
        // A fine-tuned teacher (or any model folder) may be replaced; a folder holding anything else may not.
        do { try Student.checkReplaceable(spec.output) } catch let error as ModelError {
            throw RecipeError(file: recipe.file.path, line: 0, key: key, detail: error.localizedDescription)
        }
    }

    /// What `finetune.json` holds: the fingerprint of what the weights depend on, and how the fine-tuning went.
    public struct Stamp: Codable, Sendable {
        public var key: String
        /// The checkpoint's folder.
        public var base: String
        public var seconds: Double
        public var devMacroF1: Double?
        public var devAccuracy: Double?

        /// The stamp of a fine-tuned teacher folder (nil when it has none).
        public static func read(folder: URL) -> Stamp? {
            try? JSONDecoder().decode(Stamp.self, from: Data(contentsOf: folder.appendingPathComponent(TeacherPreparation.stampName)))
        }
    }

    /// The fingerprint of everything the fine-tuned weights depend on.
    static func stamp(_ spec: Recipe.TeacherFineTune, recipe: Recipe) throws -> String {
        func contents(_ url: URL?) throws -> String {
            guard let url else { return "-" }
            return String(Fingerprint.of([String(decoding: try Data(contentsOf: url), as: UTF8.self)]), radix: 16)
        }
        let parts = [spec.base.standardizedFileURL.path, weightsIdentity(spec.base), try contents(recipe.data.labelled), try contents(recipe.data.dev),
                     recipe.labelNames.joined(separator: ","), recipe.input.kind.rawValue, recipe.input.masks.joined(separator: ","),
                     "\(spec.epochs)", "\(spec.patience ?? 0)", "\(spec.learningRate)", "\(spec.maxLength)", spec.classBalance.rawValue,
                     spec.pooling.rawValue, "\(spec.seed(in: recipe))"]
        return String(Fingerprint.of(parts), radix: 16)
    }
}
