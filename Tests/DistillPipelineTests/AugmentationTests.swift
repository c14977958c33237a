import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillText
import DistillTraining
import Foundation
import Testing

@Suite("Log augmentation")
struct AugmentationTests {
    let line = "2026-11-29T01:02:03Z ERROR [payments] connection to 10.0.3.17:5432 refused after 5000ms"

    @Test("copies are deterministic, differ from the source and from each other, and keep the meaning")
    func copies() {
        let augmenter = LogAugmenter(seed: 3)
        let a = augmenter.augment(line, index: 7), b = augmenter.augment(line, index: 7)
        #expect(a == b && a.count == 2)
        #expect(a[0] != a[1] && !a.contains(line))
        #expect(augmenter.augment(line, index: 8) != a)
        let normalizer = LogNormalizer()
        for copy in a {
            let n = normalizer.normalize(copy)
            #expect(n.format != .plain || copy.contains("ERROR"), "\(copy)")
            #expect(n.masked.contains("<IP>:<PORT>") || n.masked.contains("<IP>"), "variables keep their type: \(n.masked)")
            #expect(!copy.contains("10.0.3.17:5432"), "variables are resampled: \(copy)")
        }
    }

    @Test("each rule can be switched off; with all off the message is unchanged")
    func rules() {
        var options = LogAugmenter.Options()
        options.resampleVariables = false
        options.tokenDropout = 0
        options.synonyms = false
        options.envelopes = false
        options.copies = 3
        let copies = LogAugmenter(options: options, seed: 1).augment(line)
        #expect(copies == Array(repeating: "connection to 10.0.3.17:5432 refused after 5000ms", count: 3))
        options.synonyms = true
        let swapped = LogAugmenter(options: options, seed: 2).augment("database connection refused", index: 1)
        #expect(swapped.contains { $0 != "database connection refused" })
    }

    @Test("augmented corpus lines keep their template's label under the teacher filter bookkeeping")
    func teacherFilter() {
        let probabilities: [[Float]] = [[0.9, 0.1], [0.4, 0.6], [0.55, 0.45], [0.2, 0.8]]
        let (kept, dropped) = filterByTeacher(probabilities, labels: [0, 0, 0, 1], threshold: 0.6)
        #expect(kept == [0, 3] && dropped == 2)
    }
}
