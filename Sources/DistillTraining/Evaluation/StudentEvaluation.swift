import DistillRuntime

extension EvaluationReport {
    /// `student` on the labelled `examples` (inference mode), against their gold labels and, where every example
    /// has one, the teacher's argmax; BERT inputs truncated at `maxLength` tokens (nil: the folder's).
    public static func evaluate(_ student: Student, on examples: [TrainingExample], maxLength: Int? = nil) -> EvaluationReport {
        let labelled = examples.filter { $0.label != nil }
        let probabilities = student.probabilities(labelled.map(\.text), maxLength: maxLength)
        let teacher = labelled.allSatisfy { $0.teacher != nil } ? labelled.map { argmax($0.teacher!) } : nil
        return compute(probabilities: probabilities, gold: labelled.map { $0.label! }, labels: student.labels, teacherPredictions: teacher)
    }
}
