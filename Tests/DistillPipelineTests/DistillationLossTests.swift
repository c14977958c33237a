import DistillCore
import DistillExamples
import DistillNN
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

private func check(_ inputs: [Tensor], step: Float = 1e-2, _ f: () -> Tensor, _ name: String) {
    for r in GradientCheck.check(inputs, step: step, maxElementsPerInput: 48, f) {
        #expect(r.maxRelativeError <= 2e-2, "\(name): \(r)")
    }
}

@Suite("Distillation losses")
struct DistillationLossTests {
    @Test("mixed KD + CE: gradient check with soft-only, hard-only, both and neither examples")
    func mixedGradients() {
        var g = RandomGenerator(seed: 1)
        let s = Tensor.randomNormal([5, 4], using: &g), t = Tensor.randomNormal([5, 4], using: &g)
        let p = softmax(Tensor.randomNormal([5, 4], using: &g))
        let labels: [Int?] = [0, nil, 3, nil, 2]
        let hasSoft = [true, true, false, false, true]
        check([s], { distillationLoss(studentLogits: s, softTargets: .logits(t), hasSoftTarget: hasSoft, hardLabels: labels,
                                      alpha: 0.7, temperature: 2, classWeights: [1, 2, 1, 0.5], labelSmoothing: 0.1).total }, "teacher logits")
        check([s], { distillationLoss(studentLogits: s, softTargets: .probabilities(p), hardLabels: labels, alpha: 0.3, temperature: 3).total }, "teacher probabilities")
    }

    @Test("the mix equals its definition: alpha·soft + (1−alpha)·hard per example, averaged over contributing examples")
    func mixedValue() {
        var g = RandomGenerator(seed: 2)
        let s = Tensor.randomNormal([4, 3], using: &g), t = Tensor.randomNormal([4, 3], using: &g)
        let labels: [Int?] = [0, nil, 2, nil]
        let hasSoft = [true, true, false, false]
        let loss = distillationLoss(studentLogits: s, softTargets: .logits(t), hasSoftTarget: hasSoft, hardLabels: labels, alpha: 0.25, temperature: 2)
        let soft = klDivergence(studentLogits: s, teacherLogits: t, temperature: 2, reduction: .perExample).scalars
        let hard = softmaxCrossEntropy(logits: s, targets: [0, -100, 2, -100], reduction: .perExample).scalars
        let expected = (0.25 * soft[0] + 0.75 * hard[0] + soft[1] + hard[2]) / 3
        #expect(abs(loss.total.item - expected) < 1e-5)
        #expect(loss.counted == 3)
        #expect(abs(loss.soft - (soft[0] + soft[1]) / 2) < 1e-5 && abs(loss.hard - (hard[0] + hard[2]) / 2) < 1e-5)
    }

    @Test("T² keeps the soft gradient's magnitude comparable across temperatures")
    func temperatureScaling() {
        var g = RandomGenerator(seed: 3)
        let s = Tensor.randomNormal([64, 6], std: 2, using: &g), t = Tensor.randomNormal([64, 6], std: 2, using: &g)
        func norm(_ temperature: Float, scaled: Bool) -> Float {
            let (_, grads) = valueAndGradient(of: [s]) {
                let kd = klDivergence(studentLogits: s, teacherLogits: t, temperature: temperature)
                return scaled ? kd : scale(kd, by: 1 / (temperature * temperature))
            }
            return grads.globalNorm
        }
        let with = [2, 4, 8].map { norm(Float($0), scaled: true) }
        let without = [2, 4, 8].map { norm(Float($0), scaled: false) }
        #expect(with.max()! / with.min()! < 1.6, "with T²: \(with)")
        #expect(without.max()! / without.min()! > 10, "without T²: \(without)")
    }

    @Test("hidden-state loss through a learned projection: gradients for student states and projection (MSE, cosine)")
    func hiddenGradients() {
        var g = RandomGenerator(seed: 4)
        let student = Tensor.randomNormal([2, 3, 4], using: &g), teacher = Tensor.randomNormal([2, 3, 6], using: &g)
        let projection = Linear(inputSize: 4, outputSize: 6, std: 0.5, generator: &g)
        projection.bias!.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = 0.1 * Float(i) } }
        let mask = [1, 1, 0, 1, 1, 1]
        for kind in HiddenStateLossKind.allCases {
            check([student, projection.weight, projection.bias!], {
                hiddenStateLoss(student: student, teacher: teacher, projection: projection, attentionMask: mask, kind: kind)
            }, "hidden \(kind)")
        }
        // Padding does not count: changing a padded teacher token leaves the loss unchanged.
        let before = hiddenStateLoss(student: student, teacher: teacher, projection: projection, attentionMask: mask).item
        teacher.withUnsafeMutableBufferPointer { for j in 12..<18 { $0[j] += 5 } }  // batch 0, token 2 (padded)
        #expect(hiddenStateLoss(student: student, teacher: teacher, projection: projection, attentionMask: mask).item == before)
    }

    @Test("attention loss: KL and MSE, heads matched, grouped and averaged; zero when equal", arguments: [(2, 2), (2, 4), (3, 4)])
    func attentionGradients(heads: (student: Int, teacher: Int)) {
        var g = RandomGenerator(seed: 5)
        let q = Tensor.randomNormal([2, heads.student, 4, 3], using: &g), k = Tensor.randomNormal([2, heads.student, 4, 3], using: &g)
        let mask = [1, 1, 1, 0, 1, 1, 1, 1]
        let additive = additiveAttentionMask(paddingMask: Tensor(shape: [2, 4], scalars: mask.map(Float.init)))
        let teacher = attentionProbabilities(query: Tensor.randomNormal([2, heads.teacher, 4, 3], using: &g),
                                             key: Tensor.randomNormal([2, heads.teacher, 4, 3], using: &g), mask: additive)
        for kind in AttentionLossKind.allCases {
            check([q, k], {
                attentionLoss(student: attentionProbabilities(query: q, key: k, mask: additive), teacher: teacher, attentionMask: mask, kind: kind)
            }, "attention \(kind) \(heads)")
            let value = attentionLoss(student: attentionProbabilities(query: q, key: k, mask: additive), teacher: teacher, attentionMask: mask, kind: kind).item
            #expect(value >= -1e-6)
        }
        if heads.student == heads.teacher {
            #expect(abs(attentionLoss(student: teacher, teacher: teacher, attentionMask: mask).item) < 1e-5)
        }
    }

    @Test("MiniLM value-relation loss: gradient check w.r.t. student values, zero for identical values")
    func valueRelationGradients() {
        var g = RandomGenerator(seed: 6)
        let student = Tensor.randomNormal([2, 2, 4, 3], using: &g), teacherValues = Tensor.randomNormal([2, 4, 4, 5], using: &g)
        let mask = [1, 1, 1, 0, 1, 1, 1, 1]
        let relation = valueRelation(teacherValues, attentionMask: mask)
        check([student], { valueRelationLoss(studentValues: student, teacherRelation: relation, attentionMask: mask) }, "value relation")
        let same = valueRelation(student, attentionMask: mask)
        #expect(abs(valueRelationLoss(studentValues: student, teacherRelation: same, attentionMask: mask).item) < 1e-5)
    }

    @Test("TinyBERT uniform layer map, validation, schedules")
    func layerMapAndSchedules() throws {
        #expect(LayerMap.uniform(studentLayers: 2, teacherLayers: 6).pairs.map { [$0.student, $0.teacher] } == [[1, 3], [2, 6]])
        #expect(LayerMap.uniform(studentLayers: 4, teacherLayers: 12, includeEmbeddings: true).pairs.map(\.teacher) == [0, 3, 6, 9, 12])
        #expect(throws: DistillError.self) { try LayerMap(pairs: [.init(student: 3, teacher: 1)]).validate(studentLayers: 2, teacherLayers: 6) }
        #expect(LossSchedule.linear(start: 4, end: 1, steps: 30).value(at: 15) == 2.5)
        #expect(LossSchedule.linear(start: 4, end: 1, steps: 30).value(at: 100) == 1)
        #expect(LossSchedule.constant(0.5).value(at: 7) == 0.5)
    }
}

@Suite("Multi-teacher aggregation")
struct TeacherAggregationTests {
    let a: [[Float]] = [[0.9, 0.05, 0.05], [0.2, 0.7, 0.1]]
    let b: [[Float]] = [[0.34, 0.33, 0.33], [0.1, 0.1, 0.8]]

    @Test("weighted mean")
    func weightedMean() {
        let out = aggregateTeachers([a, b], weights: [3, 1], strategy: .weightedMean)
        #expect(abs(out[0][0] - (3 * 0.9 + 0.34) / 4) < 1e-6)
        #expect(out.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-5 })
    }

    @Test("confidence weighting favours the sharper teacher per example")
    func confidence() {
        let out = aggregateTeachers([a, b], weights: [1, 1], strategy: .confidence)
        let mean = aggregateTeachers([a, b], weights: [1, 1], strategy: .weightedMean)
        #expect(out[0][0] > mean[0][0])  // a is confident on example 0, b near uniform
        #expect(out[1][2] > mean[1][2])  // b is the more confident one on example 1
    }

    @Test("class reliability from a labelled dev set, and per-teacher agreement")
    func reliability() {
        // On the dev set teacher a gets class 0 right but misses class 2; teacher b gets class 2 right but misses class 0.
        let devA: [[Float]] = [[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.8, 0.1, 0.1]]
        let devB: [[Float]] = [[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
        let table = classReliability(devDistributions: [devA, devB], devLabels: [0, 0, 2], classes: 3)
        #expect(table[1][2] > table[0][2] && table[0][0] > table[1][0])
        let out = aggregateTeachers([a, b], weights: [1, 1], strategy: .classReliability, reliability: table)
        #expect(out.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-5 })
        #expect(teacherAgreement([a, b], aggregate: out).count == 2)
        #expect(teacherAgreement([a, a], aggregate: a) == [1, 1])
    }
}

@Suite("Merged duplicates")
struct MergedDuplicateTests {
    @Test("an example of weight k is k copies of it: the same loss and gradient; gradient check with weights")
    func weightIsCopies() {
        var g = RandomGenerator(seed: 11)
        let s = Tensor.randomNormal([4, 3], using: &g), t = Tensor.randomNormal([4, 3], using: &g)
        let labels: [Int?] = [0, nil, 2, 1]
        let hasSoft = [true, true, false, true]
        let weights: [Float] = [3, 1, 2, 1]
        let weighted = distillationLoss(studentLogits: s, softTargets: .logits(t), hasSoftTarget: hasSoft, hardLabels: labels,
                                        alpha: 0.4, temperature: 2, classWeights: [1, 2, 0.5], exampleWeights: weights)
        // The same batch with example i written weights[i] times.
        let rows = weights.enumerated().flatMap { i, w in Array(repeating: i, count: Int(w)) }
        func copies(_ x: Tensor) -> Tensor { Tensor(shape: [rows.count, 3], scalars: rows.flatMap { Array(x.scalars[($0 * 3)..<($0 * 3 + 3)]) }) }
        let copied = distillationLoss(studentLogits: copies(s), softTargets: .logits(copies(t)), hasSoftTarget: rows.map { hasSoft[$0] },
                                      hardLabels: rows.map { labels[$0] }, alpha: 0.4, temperature: 2, classWeights: [1, 2, 0.5])
        #expect(abs(weighted.total.item - copied.total.item) < 1e-5, "\(weighted.total.item) vs \(copied.total.item)")
        #expect(abs(weighted.soft - copied.soft) < 1e-5 && abs(weighted.hard - copied.hard) < 1e-5)
        #expect(weighted.counted == 4 && weighted.weight == 7 && copied.weight == 7)
        // With the training set's mean weight m, the sum is divided by n·m (4 contributing examples) instead of 7.
        let unbiased = distillationLoss(studentLogits: s, softTargets: .logits(t), hasSoftTarget: hasSoft, hardLabels: labels,
                                        alpha: 0.4, temperature: 2, classWeights: [1, 2, 0.5], exampleWeights: weights, meanWeight: 2.5)
        #expect(abs(unbiased.total.item - weighted.total.item * 7 / (4 * 2.5)) < 1e-5)
        #expect(unbiased.soft == weighted.soft && unbiased.hard == weighted.hard)
        check([s], { distillationLoss(studentLogits: s, softTargets: .logits(t), hasSoftTarget: hasSoft, hardLabels: labels,
                                      alpha: 0.4, temperature: 2, exampleWeights: weights, meanWeight: 2.5).total }, "mean-weight normalizer")
        check([s], { distillationLoss(studentLogits: s, softTargets: .logits(t), hasSoftTarget: hasSoft, hardLabels: labels,
                                      alpha: 0.4, temperature: 2, exampleWeights: weights).total }, "weighted examples")
        // Weights of 1 are the unweighted loss, bit for bit.
        let ones = distillationLoss(studentLogits: s, softTargets: .logits(t), hasSoftTarget: hasSoft, hardLabels: labels, alpha: 0.4,
                                    temperature: 2, exampleWeights: [1, 1, 1, 1])
        let none = distillationLoss(studentLogits: s, softTargets: .logits(t), hasSoftTarget: hasSoft, hardLabels: labels, alpha: 0.4, temperature: 2)
        #expect(ones.total.item == none.total.item)
    }

    @Test("distinct lines: one entry per prepared text and label, its count and first raw line; keep mode keeps every line")
    func distinctLines() throws {
        let file = temporaryFolder().appendingPathComponent("u.jsonl")
        let lines = ["disk sda1 failed at 10:00", "disk sdb2 failed at 10:01", "user 7 logged in", "disk sda1 failed at 10:02", "", "user 9 logged in"]
        try (lines.map { $0.isEmpty ? "" : #"{"text": "\#($0)"}"# }.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let mask = { (s: String) in String(s.map { $0.isNumber ? "#" : $0 }).replacingOccurrences(of: "##", with: "#") }
        let merged = try DistinctLines.read(file, labels: ["a"], requireLabel: false, readLabels: false, merging: true, prepare: mask)
        #expect(merged.lines == 5)
        #expect(merged.entries.map(\.text) == ["disk sda# failed at #:#", "disk sdb# failed at #:#", "user # logged in"])
        #expect(merged.entries.map(\.count) == [2, 1, 2])
        #expect(merged.entries.map(\.raw) == ["disk sda1 failed at 10:00", "disk sdb2 failed at 10:01", "user 7 logged in"])
        let kept = try DistinctLines.read(file, labels: ["a"], requireLabel: false, readLabels: false, merging: false, prepare: mask)
        #expect(kept.lines == 5 && kept.entries.count == 5 && kept.entries.allSatisfy { $0.count == 1 })
    }

    @Test("merging examples: same text and label merge (weights summed, capped; teacher rows averaged by weight); other labels stay apart")
    func mergeExamples() {
        let examples = [
            TrainingExample(text: "a", label: 0, teacher: [0.8, 0.2]),
            TrainingExample(text: "b", teacher: [0.5, 0.5], weight: 5),
            TrainingExample(text: "a", label: 0, teacher: [0.4, 0.6]),
            TrainingExample(text: "a", label: 1),
            TrainingExample(text: "b", teacher: [0.1, 0.9], weight: 3),
            TrainingExample(text: "c", teacher: [0.3, 0.7], weight: 1),
        ]
        let (merged, lines) = mergeDuplicateExamples(examples, cap: 6)
        #expect(merged.map(\.text) == ["a", "b", "a", "c"] && merged.map(\.label) == [0, nil, 1, nil])
        #expect(lines == [2, 8, 1, 1] && merged.map(\.weight) == [2, 6, 1, 1])
        #expect(zip(merged[0].teacher!, [0.6, 0.4]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(zip(merged[1].teacher!, [0.35, 0.65]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(merged[2].teacher == nil && merged[3].teacher == [0.3, 0.7])
    }
}
