import DistillCore
import DistillNN
import DistillText

/// Hidden-state and attention distillation from one white-box BERT teacher: its mapped layers are recomputed
/// per batch (the teacher stays in memory, inference only), compared with the student's through learned
/// projections that train with the student and are dropped at export.
///
/// Student and teacher must tokenize alike (the student uses the teacher's vocabulary), so token positions and
/// attention maps line up.
public final class IntermediateDistillation: Module {
    public let name: String
    public let teacher: BertModel
    public let layerMap: LayerMap
    /// One `student width → teacher width` projection per mapped pair (nil entries when widths are equal).
    public let projections: [Linear?]
    public let hiddenWeight: Float, hiddenKind: HiddenStateLossKind
    public let attentionWeight: Float, attentionKind: AttentionLossKind

    public init(name: String, teacher: BertModel, student: BertConfig, layerMap: LayerMap?, hiddenWeight: Float, hiddenKind: HiddenStateLossKind = .mse,
                attentionWeight: Float, attentionKind: AttentionLossKind = .kl, seed: UInt64) throws {
        self.name = name
        self.teacher = teacher
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
        teacher.freeze()
    }

    /// Only the projections are trainable parameters; the teacher is frozen and not part of checkpoints.
    public var children: [(String, ModuleChild)] {
        projections.enumerated().compactMap { i, p in p.map { ("\(i)", .module($0)) } }
    }

    /// The weighted hidden + attention loss for a batch, given the student's encoder output on it.
    public func loss(student: BertOutput, batch: EncodedBatch) -> (Tensor, hidden: Float, attention: Float) {
        let t = withoutGradients { teacher(batch, outputHiddenStates: hiddenWeight > 0, outputAttentions: attentionWeight > 0) }
        var total: Tensor?
        var hiddenSum: Float = 0, attentionSum: Float = 0
        for (i, pair) in layerMap.pairs.enumerated() {
            if hiddenWeight > 0 {
                let l = hiddenStateLoss(student: student.hiddenStates[pair.student], teacher: t.hiddenStates[pair.teacher],
                                        projection: projections[i], attentionMask: batch.attentionMask, kind: hiddenKind)
                hiddenSum += l.item
                let w = scale(l, by: hiddenWeight)
                total = total.map { $0 + w } ?? w
            }
            if attentionWeight > 0 && pair.student > 0 && pair.teacher > 0 {
                let l = attentionLoss(student: student.attentions[pair.student - 1], teacher: t.attentions[pair.teacher - 1],
                                      attentionMask: batch.attentionMask, kind: attentionKind)
                attentionSum += l.item
                let w = scale(l, by: attentionWeight)
                total = total.map { $0 + w } ?? w
            }
        }
        return (total ?? Tensor(0), hiddenSum, attentionSum)
    }
}
