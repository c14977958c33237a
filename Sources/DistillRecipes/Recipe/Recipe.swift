import DistillNN
import DistillTeachers
import DistillText
import DistillTraining
import Foundation
import Yams

/// A distillation recipe: everything a run needs, in one YAML file (`distill init` writes a commented example).
///
/// Paths are relative to the recipe's folder. Unknown keys, wrong types and missing files are errors naming the
/// key and its line.
public struct Recipe: Sendable {
    /// A label of the task: its name and what it means (``TaskLabel``).
    public typealias Label = TaskLabel

    public struct Data: Sendable, Equatable {
        /// JSONL with `text` and `label` (a label name).
        public var labelled: URL?
        /// JSONL with `text` (a `label`, if present, is ignored).
        public var unlabelled: URL?
        public var dev: URL?
        public var test: URL?
    }

    public enum TeacherKind: Sendable, Equatable {
        /// A local Hugging Face BERT classifier folder (white-box).
        case bert(URL)
        /// A JSONL file of stored distributions: `{"text": …, "probabilities": {"label": p, …}}`.
        case softLabels(URL)
        /// An LLM behind an OpenAI-compatible API (black-box; ``OpenAITeacher``, asked through the label store).
        case openAI(LLMTeacherSpec)
    }

    public struct Teacher: Sendable, Equatable {
        public var name: String
        /// With ``fineTune``: `.bert` of the folder the fine-tuned classifier is written to.
        public var kind: TeacherKind
        public var weight: Float
        /// A `bert` teacher the run fine-tunes first on the labelled lines (`finetune:`), nil for a ready classifier.
        public var fineTune: TeacherFineTune?
        public init(name: String, kind: TeacherKind, weight: Float, fineTune: TeacherFineTune? = nil) {
            self.name = name; self.kind = kind; self.weight = weight; self.fineTune = fineTune
        }
    }

    /// `teachers[i].finetune`: the run turns the checkpoint at `path` into a classifier of the recipe's labels,
    /// fine-tuned on `data.labelled` (dev: `data.dev`) with the recipe's `input`, before any teacher labels
    /// anything; a folder already fine-tuned with the same base, data and settings is reused.
    public struct TeacherFineTune: Sendable, Equatable {
        /// The checkpoint (a Hugging Face BERT folder).
        public var base: URL
        /// Where the classifier goes (`out`; default `OUTPUT/teachers/NAME-finetuned`). Replaced whole when saved.
        public var output: URL
        public var epochs = TeacherFineTuning.Defaults.epochs
        public var patience: Int? = TeacherFineTuning.Defaults.patience
        public var learningRate = TeacherFineTuning.Defaults.learningRate
        public var maxLength = TeacherFineTuning.Defaults.maxLength
        public var classBalance = TeacherFineTuning.Defaults.classBalance
        public var pooling = TeacherFineTuning.Defaults.pooling
        /// Seed of the new head, data order and dropout (nil: the recipe's `seed`). Teachers fine-tuned from one
        /// checkpoint with different seeds fail on different unseen templates, so their mean is a steadier teacher.
        public var seed: UInt64?
        public init(base: URL, output: URL) { self.base = base; self.output = output }
        /// The seed the fine-tuning uses: its own, else the recipe's.
        public func seed(in recipe: Recipe) -> UInt64 { seed ?? recipe.training.seed }
    }

    public enum StudentSpec: Sendable, Equatable {
        case bert(layers: Int, hidden: Int, heads: Int, intermediate: Int, vocabularySize: Int, pooling: Pooling)
        /// A BERT student cut from a `bert` teacher: its tokenizer, embeddings, pooling and classification head,
        /// and `layers` of the teacher's layers (`teacherLayers`, 0-based, in order) as the student's encoder.
        /// (`teacherLayers` nil: `layers` evenly spaced, ending with the last.)
        case bertFromTeacher(teacher: String, layers: Int, teacherLayers: [Int]?)
        case ngramBag(NGramFeaturizer, embeddingSize: Int, hiddenSize: Int)

        /// Parameters of a freshly initialized student of this size (nil for a cut student: the teacher sets it).
        public func parameterCount(labels: Int, maxLength: Int) -> Int? {
            switch self {
            case let .bert(layers, h, _, inter, vocab, _):
                let embeddings = (vocab + maxLength + 2) * h
                return embeddings + layers * (4 * h * h + 2 * h * inter + 9 * h + inter) + h * h + labels * h
            case let .ngramBag(f, e, hidden):
                return f.buckets * e + hidden * e + labels * (hidden > 0 ? hidden : e)
            case .bertFromTeacher: return nil
            }
        }
    }

    /// A hidden, attention or value-relation loss of a recipe: its weight (a schedule) and how it compares.
    public struct IntermediateLoss<Kind: Sendable & Equatable>: Sendable, Equatable {
        public var weight: LossSchedule
        public var kind: Kind
    }

    public var file: URL
    public var labels: [Label]
    public var data: Data
    public var teachers: [Teacher]
    public var aggregation: TeacherAggregation
    public var student: StudentSpec
    public var hiddenLoss: IntermediateLoss<HiddenStateLossKind>?
    public var attentionLoss: IntermediateLoss<AttentionLossKind>?
    /// MiniLM's last-layer value-relation loss.
    public var valueRelationLoss: IntermediateLoss<ValueRelationLossKind>?
    /// nil: TinyBERT's uniform map.
    public var layerMap: LayerMap?
    public var training: TrainingConfig
    public var output: URL
    /// Rule-based augmentation of the labelled lines (nil: none).
    public var augmentation: LogAugmenter.Options?
    /// With teachers: keep an augmented line only if the teachers give its source label at least this probability.
    public var augmentationTeacherFilter: Float?
    /// LLM paraphrases per labelled line (0: none), written by the teacher named `paraphraseTeacher` (kind openai).
    public var paraphrases = 0
    public var paraphraseTeacher: String?
    /// How every line is prepared before teachers and student read it, saved with the student
    /// (`input: logs` or `input: {kind: logs, masks: [ip, number, ...]}`; default raw).
    public var input: TextInput = .raw
    /// The decision rule fitted on dev after training (`decision`; nil: the plain argmax, no `decision.json`).
    public var decision: DecisionSettings?
    /// How the student's token or n-gram embeddings start (`student.embeddings_from: TEACHER`; default random).
    public var studentEmbeddings = StudentEmbeddingInitialization.standard

    public var labelNames: [String] { labels.map(\.name) }

    /// Reads and validates a recipe file.
    ///
    /// `${NAME}` anywhere in the file (comment lines aside) is replaced by `variables[NAME]`, else by the
    /// environment variable `NAME` (an error naming the line when neither is set), so that one recipe serves several
    /// folders or servers (`${DEMO}/split/labelled.jsonl`, `base_url: ${LLM_URL}`).
    public static func load(_ url: URL, variables: [String: String] = [:]) throws -> Recipe {
        var reader = try Reader(url: url, variables: variables)
        return try reader.recipe()
    }
}
