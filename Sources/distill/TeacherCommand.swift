import ArgumentParser
import DistillExamples
import DistillNN
import DistillTeachers
import DistillText
import DistillTraining
import Foundation

/// `distill teacher …`: work on teachers.
struct TeacherCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "teacher", abstract: "Prepare teachers.",
                                                    subcommands: [TeacherFineTuneCommand.self])
}

/// `distill teacher finetune`: a BERT-family checkpoint with a new classification head, fine-tuned on labelled lines.
struct TeacherFineTuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a BERT-family checkpoint (e.g. all-MiniLM-L6-v2) into a classifier teacher; saves a Hugging Face folder.",
        discussion: "Resumable: a killed run started again with the same arguments continues from its last epoch checkpoint."
    )

    @Option(help: "Hugging Face BERT folder (config.json, model.safetensors, vocab.txt).")
    var base: String

    @Option(help: "Labelled JSONL: {\"text\": …, \"label\": …} per line.")
    var train: String

    @Option(help: "Labelled dev JSONL for per-epoch metrics and choosing the best epoch.")
    var dev: String?

    @Option(help: "Label file or comma-separated list (order = the head's id2label).")
    var labels: String

    @Option(help: "Output folder (Hugging Face layout).")
    var out: String

    @Option(name: .customLong("freeze-layers"), help: "Freeze the embeddings and the first N encoder layers.")
    var freezeLayers = 0

    @Option(help: "At most this many epochs (with --dev, early stopping on dev macro-F1 may end sooner).")
    var epochs = TeacherFineTuning.Defaults.epochs

    @Option(help: "With --dev: stop after this many epochs without a better dev macro-F1 (0: run every epoch).")
    var patience = TeacherFineTuning.Defaults.patience

    @Option(name: .customLong("class-balance"), help: "Loss weights per class: sqrt (the square root of balanced, the default), balanced (n / (classes x count)) or none.")
    var classBalance = TeacherFineTuning.Defaults.classBalance

    @Option(name: .customLong("learning-rate"), help: "Peak learning rate (AdamW, warmup then linear decay).")
    var learningRate = TeacherFineTuning.Defaults.learningRate

    @Option(name: .customLong("batch-size"), help: "Examples per step.")
    var batchSize = TeacherFineTuning.Defaults.batchSize

    @Option(name: .customLong("max-length"), help: "Tokens per text.")
    var maxLength = TeacherFineTuning.Defaults.maxLength

    @Option(help: "mean (sentence-transformers checkpoints), pooler or cls.")
    var pooling = TeacherFineTuning.Defaults.pooling

    @Option(help: "raw (lines as they are) or logs (envelope parsed, variables masked, as a recipe's `input: logs`); saved with the teacher.")
    var input: TextInput.Kind = .raw

    @Option(help: "Seed for the new head, data order and dropout.")
    var seed: UInt64 = 1

    @Flag(help: "Start over instead of resuming an interrupted run.")
    var restart = false

    @OptionGroup var compute: ComputeOptions

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard epochs >= 1, batchSize >= 1, maxLength >= 8, learningRate > 0 else { throw ValidationError("--epochs, --batch-size >= 1, --max-length >= 8, --learning-rate > 0") }
        guard patience >= 0 else { throw ValidationError("--patience must be 0 (off) or more, got \(patience)") }
    }

    func run() throws {
        compute.apply()
        output.apply()
        let labelNames = try readLabelSet(labels).map(\.name)
        let trainSet = try readDataset(URL(fileURLWithPath: train), labels: labelNames, requireLabel: true)
        let devSet = try dev.map { try readDataset(URL(fileURLWithPath: $0), labels: labelNames, requireLabel: true) } ?? []
        var job = TeacherFineTuning(base: URL(fileURLWithPath: base), labels: labelNames, train: trainSet, dev: devSet, output: URL(fileURLWithPath: out))
        job.freezeLayers = freezeLayers
        job.epochs = epochs
        job.patience = patience > 0 ? patience : nil
        job.classBalance = classBalance
        job.input = TextInput(kind: input)
        job.learningRate = learningRate
        job.batchSize = batchSize
        job.maxLength = maxLength
        job.pooling = pooling
        job.seed = seed
        var lastPrint = Date.distantPast
        let result = try job.run(resume: !restart, progress: { p in
            guard Verbosity.level == .verbose || Date().timeIntervalSince(lastPrint) >= 1 || p.step == p.totalSteps else { return }
            lastPrint = Date()
            progressLine(p.line)
        }, onEpoch: { e in
            endProgressLines()
            note(String(format: "epoch %d: dev accuracy %.4f, macro-F1 %.4f", e.epoch, e.accuracy, e.macroF1))
        })
        if let d = result.dev {
            print(String(format: "saved %@ (epoch %d): dev accuracy %.4f, macro-F1 %.4f; %d parameters (%d trained), %.0f s",
                         out, d.epoch, d.accuracy, d.macroF1, result.parameters, result.trainableParameters, result.seconds))
        } else {
            print(String(format: "saved %@: %d parameters (%d trained), %.0f s", out, result.parameters, result.trainableParameters, result.seconds))
        }
    }
}

extension ClassBalance: ExpressibleByArgument {}
extension TextInput.Kind: ExpressibleByArgument {}
