import DistillExamples
import DistillNN
import DistillRuntime
import DistillText
import DistillRecipes
import DistillTeachers
import DistillTraining
import Foundation
import Testing

@Suite("Evaluation report")
struct EvaluationTests {
    @Test("accuracy, per-class P/R/F1, macro-F1, confusion, agreement and ECE against hand-computed values")
    func metrics() throws {
        // gold:      0 0 1 1 2 2
        // predicted: 0 1 1 1 2 0
        let probabilities: [[Float]] = [[0.92, 0.08, 0], [0.37, 0.63, 0], [0.1, 0.82, 0.08], [0.26, 0.74, 0], [0, 0.04, 0.96], [0.52, 0.2, 0.28]]
        let report = EvaluationReport.compute(probabilities: probabilities, gold: [0, 0, 1, 1, 2, 2], labels: ["db", "net", "ok"],
                                              teacherPredictions: [0, 0, 1, 1, 2, 0], calibrationBins: 10)
        #expect(abs(report.accuracy - 4.0 / 6) < 1e-12)
        // class 0: P = 1/2, R = 1/2, F1 = .5; class 1: P = 2/3, R = 1, F1 = .8; class 2: P = 1, R = .5, F1 = 2/3
        #expect(abs(report.perClass[0].f1 - 0.5) < 1e-12 && abs(report.perClass[1].f1 - 0.8) < 1e-12 && abs(report.perClass[2].f1 - 2.0 / 3) < 1e-12)
        #expect(abs(report.macroF1 - (0.5 + 0.8 + 2.0 / 3) / 3) < 1e-12)
        #expect(report.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
        #expect(abs(report.agreementWithTeacher! - 5.0 / 6) < 1e-12)
        // bins of 0.1: {0.92 ✓, 0.96 ✓} → |2 − 1.88|; {0.63 ✗} → 0.63; {0.82 ✓} → 0.18; {0.74 ✓} → 0.26; {0.52 ✗} → 0.52
        let ece = (0.12 + 0.63 + 0.18 + 0.26 + 0.52) / 6
        #expect(abs(report.expectedCalibrationError - ece) < 1e-6)
        let json = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode(EvaluationReport.self, from: json) == report)
        let table = report.table()
        #expect(table.contains("macro-F1 0.6556") && table.contains("agreement with teacher 0.8333"))
    }

    @Test("a student's report over repeated texts (each distinct text run once) equals the line-by-line report")
    func repeatedTextsOnce() throws {
        let student = Student(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 256), embeddingSize: 8, labels: ["db", "net", "ok"]),
                                       seed: 3))
        let texts = ["disk full on <num>", "connection refused", "disk full on <num>", "all good", "connection refused", "disk full on <num>"]
        let examples = texts.enumerated().map { i, t in TrainingExample(text: t, label: i % 3, teacher: [0.2, 0.3, 0.5]) }
            + [TrainingExample(text: "no label")]
        let report = EvaluationReport.evaluate(student, on: examples)
        let lineByLine = EvaluationReport.compute(probabilities: texts.map { student.probabilities([$0])[0] }, gold: texts.indices.map { $0 % 3 },
                                                  labels: ["db", "net", "ok"], teacherPredictions: Array(repeating: 2, count: texts.count))
        #expect(report == lineByLine)
        #expect(report.examples == 6)
    }
}
