import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillText
import DistillTraining
import Foundation
import Testing

@Suite("Log corpus generator")
struct LogCorpusTests {
    @Test("14 sources, 200+ templates, every label; deterministic by seed, different across seeds")
    func shape() {
        let templates = LogCorpusGenerator.templates
        #expect(templates.count >= 200 && Set(templates.map(\.source)).count >= 12)
        #expect(Set(templates.map(\.label)) == Set(LogTaxonomy.labels))
        let a = LogCorpusGenerator(seed: 4).generate(count: 500), b = LogCorpusGenerator(seed: 4).generate(count: 500)
        #expect(a == b)
        #expect(LogCorpusGenerator(seed: 5).generate(count: 500) != a)
        #expect(a.allSatisfy { !$0.text.contains("{") || $0.text.contains("\"") })  // no unfilled {variables}
    }

    @Test("held-out templates never appear in train lines, and every label keeps training templates")
    func noLeakage() {
        let generator = LogCorpusGenerator(seed: 6)
        let records = generator.generate(count: 6000)
        let train = Set(records.filter { $0.split == "train" }.map(\.template))
        let test = Set(records.filter { $0.split == "test" }.map(\.template))
        #expect(train.isDisjoint(with: test))
        #expect(!test.isEmpty && test.isSubset(of: generator.heldOutTemplates()))
        for label in LogTaxonomy.labels { #expect(records.contains { $0.split == "train" && $0.label == label }, "\(label)") }
    }

    @Test("mostly normal, with the configured label noise")
    func mix() {
        var generator = LogCorpusGenerator(seed: 7)
        generator.labelNoise = 0.1
        let records = generator.generate(count: 20_000)
        let normal = Double(records.filter { $0.trueLabel == "normal" }.count) / 20_000
        let noisy = Double(records.filter { $0.label != $0.trueLabel }.count) / 20_000
        #expect(abs(normal - 0.6) < 0.02 && abs(noisy - 0.1) < 0.01)
    }

    @Test("the normalizer recognizes the generated envelopes")
    func envelopes() {
        let normalizer = LogNormalizer()
        let records = LogCorpusGenerator(seed: 8).generate(count: 3000)
        let plain = records.filter { normalizer.normalize($0.text).format == .plain }.count
        #expect(Double(plain) / 3000 < 0.1, "\(plain) plain lines")  // Redis's "pid:M dd Mon yyyy" envelope is not parsed yet
        let formats = Set(records.map { normalizer.normalize($0.text).format })
        #expect(formats.isSuperset(of: [.json, .syslog3164, .klog, .accessLog, .nginxError, .timestamped]))
    }
}
