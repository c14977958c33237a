/// Which teacher layer each student layer learns from. Indices count hidden states as Hugging Face's
/// `hidden_states` does: 0 is the embedding output, `i` the output of layer `i` (1-based).
public struct LayerMap: Sendable, Equatable, Codable {
    /// Pairs (student hidden-state index, teacher hidden-state index).
    public var pairs: [Pair]

    public struct Pair: Sendable, Equatable, Codable {
        public var student: Int
        public var teacher: Int
        public init(student: Int, teacher: Int) { self.student = student; self.teacher = teacher }
    }

    public init(pairs: [Pair]) { self.pairs = pairs }

    /// TinyBERT's uniform map: student layer `i` (1-based) ← teacher layer `i·k` with `k = teacher/student`
    /// (the paper's `(i+1)k − 1` in 0-based layer numbers); optionally the embeddings (0 ← 0) too.
    public static func uniform(studentLayers: Int, teacherLayers: Int, includeEmbeddings: Bool = false) -> LayerMap {
        precondition(studentLayers >= 1 && teacherLayers >= studentLayers,
                     "LayerMap.uniform: needs 1 <= student layers (\(studentLayers)) <= teacher layers (\(teacherLayers))")
        let k = teacherLayers / studentLayers
        var pairs = (1...studentLayers).map { Pair(student: $0, teacher: $0 * k) }
        if includeEmbeddings { pairs.insert(Pair(student: 0, teacher: 0), at: 0) }
        return LayerMap(pairs: pairs)
    }

    /// Checks every index against the layer counts; the message names the offending pair.
    public func validate(studentLayers: Int, teacherLayers: Int) throws -> LayerMap {
        for (i, p) in pairs.enumerated() {
            guard (0...studentLayers).contains(p.student), (0...teacherLayers).contains(p.teacher) else {
                throw DistillError.invalidLayerMap(index: i, detail: "pair \(p.student) <- \(p.teacher) is outside student 0...\(studentLayers) / teacher 0...\(teacherLayers)")
            }
        }
        return self
    }
}
