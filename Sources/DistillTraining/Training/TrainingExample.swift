/// One example for the student: its text, its gold label if any, the teacher's stored distribution if any, and
/// its weight in the loss (a merged run of identical lines weighs their count, capped: ``TrainingConfig/duplicates``).
public struct TrainingExample: Sendable, Equatable, Codable {
    public var text: String
    /// Index into the label set, or nil for unlabelled data.
    public var label: Int?
    /// The teacher's probabilities over the label set, or nil when no teacher saw this example.
    public var teacher: [Float]?
    /// How much the example counts in the classification loss (> 0; 1 for one line).
    public var weight: Float

    public init(text: String, label: Int? = nil, teacher: [Float]? = nil, weight: Float = 1) {
        self.text = text
        self.label = label
        self.teacher = teacher
        self.weight = weight
    }
}
