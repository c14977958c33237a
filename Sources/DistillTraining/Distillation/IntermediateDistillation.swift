import DistillCore
import DistillNN
import DistillText

/// Hidden-state and attention distillation from one white-box BERT teacher: its mapped layers come from a
/// ``TeacherFeatureStore`` computed once (the teacher then leaves memory) or, above the store's size limit, are
/// recomputed per batch; they are compared with the student's through learned projections that train with the
/// student and are dropped at export.
///
/// Student and teacher must tokenize alike (the student uses the teacher's vocabulary), so token positions and
/// attention maps line up.
public final class IntermediateDistillation: Module {
    public let name: String
    /// The teacher, while features are recomputed per batch; nil once a ``TeacherFeatureStore`` serves them.
    public private(set) var teacher: BertModel?
    public let teacherConfig: BertConfig
    /// Stored teacher features, when the run built them (see ``useStore(_:)``).
    public private(set) var store: TeacherFeatureStore?
    public let layerMap: LayerMap
    /// One `student width → teacher width` projection per mapped pair (nil entries when widths are equal).
    public let projections: [Linear?]
    public let hiddenWeight: LossSchedule, hiddenKind: HiddenStateLossKind
    public let attentionWeight: LossSchedule, attentionKind: AttentionLossKind
    /// MiniLM's last-layer value-relation loss (0 = off).
    public let valueRelationWeight: LossSchedule
    let studentLayers: Int

    public init(name: String, teacher: BertModel, student: BertConfig, layerMap: LayerMap?, hiddenWeight: LossSchedule, hiddenKind: HiddenStateLossKind = .standard,
                attentionWeight: LossSchedule, attentionKind: AttentionLossKind = .standard, valueRelationWeight: LossSchedule = 0, seed: UInt64) throws {
        self.name = name
        self.teacher = teacher
        teacherConfig = teacher.config
        let map = try (layerMap ?? LayerMap.uniform(studentLayers: student.numHiddenLayers, teacherLayers: teacher.config.numHiddenLayers))
            .validate(studentLayers: student.numHiddenLayers, teacherLayers: teacher.config.numHiddenLayers)
        self.layerMap = map
        var g = RandomGenerator(seed: seed)
        projections = map.pairs.map { _ in
            student.hiddenSize == teacher.config.hiddenSize ? nil
                : Linear(inputSize: student.hiddenSize, outputSize: teacher.config.hiddenSize, std: (1 / Float(student.hiddenSize)).squareRoot(), generator: &g)
        }
        self.hiddenWeight = hiddenWeight
        self.hiddenKind = hiddenKind
        self.attentionWeight = attentionWeight
        self.attentionKind = attentionKind
        self.valueRelationWeight = valueRelationWeight
        studentLayers = student.numHiddenLayers
        teacher.freeze()
    }

    /// Only the projections are trainable parameters; the teacher is frozen and not part of checkpoints.
    public var children: [(String, ModuleChild)] {
        projections.enumerated().compactMap { i, p in p.map { ("\(i)", .module($0)) } }
    }

    /// Teacher layers whose hidden states the losses read.
    public var hiddenLayers: [Int] { hiddenWeight.isActive ? layerMap.pairs.map(\.teacher) : [] }
    /// Teacher layers whose attention maps the losses read.
    public var attentionLayers: [Int] { attentionWeight.isActive ? layerMap.pairs.filter { $0.student > 0 && $0.teacher > 0 }.map(\.teacher) : [] }
    /// The teacher layer whose value relation is read (its last), when that loss is on.
    public var valueRelationLayer: Int? { valueRelationWeight.isActive ? teacherConfig.numHiddenLayers : nil }
    /// Whether the student's forward pass must return value vectors.
    public var needsValues: Bool { valueRelationWeight.isActive }

    /// Serves teacher features from `store` from now on and lets go of the teacher model.
    public func useStore(_ store: TeacherFeatureStore) {
        self.store = store
        teacher = nil
    }

    /// The weighted hidden + attention loss for a batch, given the student's encoder output on it; `indices` are
    /// the batch's positions in the training set (used with a store).
    public func loss(student: BertOutput, batch: EncodedBatch, indices: [Int], step: Int = 0) throws -> (Tensor, hidden: Float, attention: Float) {
        var teacherHidden: [Int: Tensor] = [:], teacherAttention: [Int: Tensor] = [:]
        var teacherRelation: Tensor?
        if let store {
            for l in hiddenLayers { teacherHidden[l] = try store.hidden(layer: l, indices: indices, length: batch.sequenceLength) }
            for l in attentionLayers { teacherAttention[l] = try store.attention(layer: l, indices: indices, length: batch.sequenceLength) }
            if let l = valueRelationLayer { teacherRelation = try store.valueRelation(layer: l, indices: indices, length: batch.sequenceLength) }
        } else if let teacher {
            let t = withoutGradients { teacher(batch, outputHiddenStates: !hiddenLayers.isEmpty, outputAttentions: !attentionLayers.isEmpty, outputValues: needsValues) }
            for l in hiddenLayers { teacherHidden[l] = t.hiddenStates[l] }
            for l in attentionLayers { teacherAttention[l] = t.attentions[l - 1] }
            if let l = valueRelationLayer { teacherRelation = withoutGradients { valueRelation(t.values[l - 1], attentionMask: batch.attentionMask) } }
        }
        let hw = hiddenWeight.value(at: step), aw = attentionWeight.value(at: step), vw = valueRelationWeight.value(at: step)
        var total: Tensor?
        var hiddenSum: Float = 0, attentionSum: Float = 0
        if let teacherRelation, vw > 0 {
            let l = valueRelationLoss(studentValues: student.values[studentLayers - 1], teacherRelation: teacherRelation, attentionMask: batch.attentionMask)
            attentionSum += l.item
            total = scale(l, by: vw)
        }
        for (i, pair) in layerMap.pairs.enumerated() {
            if hiddenWeight.isActive {
                let l = hiddenStateLoss(student: student.hiddenStates[pair.student], teacher: teacherHidden[pair.teacher]!,
                                        projection: projections[i], attentionMask: batch.attentionMask, kind: hiddenKind)
                hiddenSum += l.item
                let w = scale(l, by: hw)
                total = total.map { $0 + w } ?? w
            }
            if attentionWeight.isActive && pair.student > 0 && pair.teacher > 0 {
                let l = attentionLoss(student: student.attentions[pair.student - 1], teacher: teacherAttention[pair.teacher]!,
                                      attentionMask: batch.attentionMask, kind: attentionKind)
                attentionSum += l.item
                let w = scale(l, by: aw)
                total = total.map { $0 + w } ?? w
            }
        }
        return (total ?? Tensor(0), hiddenSum, attentionSum)
    }
}
