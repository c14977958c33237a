/// One example for the student: its text, its gold label if any, and the teacher's stored distribution if any.
public struct TrainingExample: Sendable, Equatable, Codable {
    public var text: String
    /// Index into the label set, or nil for unlabelled data.
    public var label: Int?
    /// The teacher's probabilities over the label set, or nil when no teacher saw this example.
    public var teacher: [Float]?

    public init(text: String, label: Int? = nil, teacher: [Float]? = nil) {
        self.text = text
        self.label = label
        self.teacher = teacher
    }
}
