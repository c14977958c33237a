import DistillNN

/// Knobs of a distillation run (the `training` and `losses` blocks of a recipe).
public struct TrainingConfig: Sendable, Equatable, Codable {
    public var epochs = 3
    /// Stop after this many optimizer steps even if epochs remain (nil: run all epochs).
    public var maxSteps: Int?
    public var batchSize = 32
    public var learningRate: Float = 5e-4
    /// The peak learning rate an n-gram bag student gets when a recipe names none: its hashed embedding rows see
    /// few updates each, and at 5e-4 a bag distilled on real logs stayed far from its teacher on dev (macro-F1 0.70
    /// against 1.0); at 5e-3 it matched it.
    public static let ngramBagLearningRate: Float = 5e-3
    /// The peak learning rate of a student cut from its teacher's layers when a recipe names none: it starts
    /// from pretrained weights, so it gets a fine-tuning rate rather than the from-scratch default.
    public static let teacherCutLearningRate: Float = 1e-4
    /// Linear warmup steps, then linear decay to 0 at the last step.
    public var warmupSteps = 0
    public var weightDecay: Float = 0.01
    /// Global-norm clipping (nil: none).
    public var clipNorm: Float? = 1.0
    public var seed: UInt64 = 42
    /// Weight of the soft (KD) part where an example has both: `alpha · soft + (1 − alpha) · hard` (a schedule).
    public var alpha: LossSchedule = 0.5
    public var temperature: LossSchedule = .constant(2)
    public var labelSmoothing: Float = 0
    /// Explicit per-class loss weights; they take precedence over ``classBalance``.
    public var classWeights: [Float]?
    /// Weights computed from the training set's gold labels when ``classWeights`` is nil (nil: ``ClassBalance/none``).
    public var classBalance: ClassBalance?
    /// Evaluate on the dev set every this many steps (nil: at the end of each epoch).
    public var evaluateEvery: Int?
    /// Stop when the dev metric has not improved for this many evaluations (nil: never).
    public var earlyStoppingPatience: Int?
    public var earlyStoppingMetric: Metric = .macroF1
    /// Write a resumable checkpoint every this many steps and at every evaluation; nil: every
    /// ``checkpointSeconds`` of training instead (a bag trains hundreds of steps a second, and a checkpoint of
    /// its table and moments is 200 MB written and flushed to disk).
    public var checkpointEvery: Int?
    /// With no ``checkpointEvery``: seconds of training between checkpoints, so a kill -9 loses at most this much work.
    public var checkpointSeconds: Double = 60
    /// Maximum tokens per example for BERT students.
    public var maxLength = 64
    /// Examples sorted by length within windows of this many batches, so batches need little padding.
    public var bucketWindow = 50

    /// How the n-gram bag's embedding table is updated (`training.embedding_updates`).
    public var embeddingUpdates: EmbeddingUpdates = .sparse

    /// The optimizer (`training.optimizer`).
    public var optimizer: Optimizer = .adamw
    /// The peak learning rate of ``Optimizer/sgd`` when a recipe names none: fastText's, per example.
    public static let sgdLearningRate: Float = 0.1

    /// How the weights move.
    public enum Optimizer: String, Sendable, Codable, CaseIterable {
        /// AdamW (lazy on the bag's table, ``EmbeddingUpdates``), with clipping and weight decay.
        case adamw
        /// fastText's plain SGD for an n-gram bag without a hidden layer: no optimizer state, each example moving
        /// the weights by the learning rate times its gradient, no clipping or decay (`BagStep`).
        case sgd
    }

    /// What a run does with training lines that read the same once prepared (`training.duplicates`).
    public var duplicates: Duplicates = .merge
    /// The most a merged example weighs however many lines it stands for (`training.duplicate_weight_cap`).
    public var duplicateWeightCap: Float = 64
    /// With merged duplicates, an epoch still covers this many examples — cycling through the distinct ones — when
    /// the data has that many lines (`training.min_epoch_examples`): merging never cuts the optimization of a small
    /// set (on 9,379 real lines, 841 distinct, one pass per epoch left a bag untrained), while a large one's epoch is
    /// its distinct texts.
    public var minEpochExamples = 20_000
    /// Examples per epoch, set by a run that merged duplicates (``mergedEpochExamples(distinct:lines:)``); nil: one
    /// pass over the examples.
    public var epochExamples: Int?

    /// An epoch's examples for `distinct` merged examples standing for `lines` lines: the lines up to
    /// ``minEpochExamples``, and never fewer than one pass.
    public func mergedEpochExamples(distinct: Int, lines: Int) -> Int { max(distinct, min(lines, minEpochExamples)) }

    /// Training lines whose prepared text (and gold label) are identical: on real logs most lines of a template
    /// read the same once their variables are masked.
    public enum Duplicates: String, Sendable, Codable, CaseIterable {
        /// One example per distinct (prepared text, label), weighing its number of lines up to
        /// ``TrainingConfig/duplicateWeightCap``; teachers label each distinct text once. An epoch covers the lines
        /// up to ``TrainingConfig/minEpochExamples`` and the distinct texts beyond, so a large set's training costs
        /// what its templates cost, not what its lines cost.
        case merge
        /// One example per line, as read.
        case keep
    }

    public enum Metric: String, Sendable, Codable, CaseIterable { case macroF1 = "macro_f1", accuracy, agreement }

    /// The update of an n-gram bag's embedding table, whose 262,144 rows a batch touches a few thousand of.
    public enum EmbeddingUpdates: String, Sendable, Codable, CaseIterable {
        /// Only the rows the batch read: their gradient, Adam moments and weight decay (lazy Adam). A step costs what
        /// the batch touched.
        case sparse
        /// Every row every step (AdamW on the whole table; rows the batch did not read still move with their momentum
        /// and decay). A step costs the whole table.
        case dense
    }

    public init() {}
}
