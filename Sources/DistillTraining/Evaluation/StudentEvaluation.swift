import DistillRuntime

extension EvaluationReport {
    /// `student` on the labelled `examples` (inference mode), against their gold labels and, where every example
    /// has one, the teacher's argmax; BERT inputs truncated at `maxLength` tokens (nil: the folder's). Each distinct
    /// text runs once (prepared log lines repeat: the real-logs dev set is 602 lines of 133 texts).
    public static func evaluate(_ student: Student, on examples: [TrainingExample], maxLength: Int? = nil) -> EvaluationReport {
        let labelled = examples.filter { $0.label != nil }
        var slotOf: [String: Int] = [:], distinct: [String] = []
        let slots = labelled.map { e in
            if let slot = slotOf[e.text] { return slot }
            slotOf[e.text] = distinct.count
            distinct.append(e.text)
            return distinct.count - 1
        }
        let distinctProbabilities = student.probabilities(distinct, maxLength: maxLength)
        let probabilities = slots.map { distinctProbabilities[$0] }
        let teacher = labelled.allSatisfy { $0.teacher != nil } ? labelled.map { argmax($0.teacher!) } : nil
        return compute(probabilities: probabilities, gold: labelled.map { $0.label! }, labels: student.labels, teacherPredictions: teacher)
    }
}
