import DistillCore
import Foundation
import Testing

/// Forward values checked against numpy (float64) references from `scripts/make_op_fixtures.py`.
@Suite("Forward values match numpy references")
struct ReferenceValueTests {
    struct Fixture: Decodable {
        struct Array: Decodable { let shape: [Int]; let data: [Double] }
        struct Case: Decodable {
            let name: String
            let inputs: [Array]
            let expected: Array
            let attrs: [String: Attr]
        }
        enum Attr: Decodable {
            case number(Double), numbers([Double])
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let v = try? c.decode(Double.self) { self = .number(v) } else { self = .numbers(try c.decode([Double].self)) }
            }
            var number: Double { if case let .number(v) = self { return v }; return .nan }
            var numbers: [Double] { if case let .numbers(v) = self { return v }; return [] }
        }
        let cases: [Case]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ops.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    static var names: [String] { fixture.cases.map(\.name) }

    func run(_ c: Fixture.Case) -> Tensor {
        let x = c.inputs.map { Tensor(shape: $0.shape, scalars: $0.data.map(Float.init)) }
        let targets = c.attrs["targets"]?.numbers.map { Int($0) } ?? []
        switch c.name {
        case "matmul": return matmul(x[0], x[1])
        case "matmul_batched_transposeB": return matmul(x[0], x[1], transposeB: true)
        case "add_broadcast": return x[0] + x[1]
        case "divide_broadcast": return x[0] / x[1]
        case "sum_axes_0_2_keepdims": return sum(x[0], axes: [0, 2], keepDims: true)
        case "max_axis_1": return max(x[0], axes: [1])
        case "permute_2_0_1": return permute(x[0], [2, 0, 1])
        case "gelu_erf": return gelu(x[0])
        case "tanh": return tanh(x[0])
        case "sigmoid": return sigmoid(x[0])
        case "softmax": return softmax(x[0])
        case "log_softmax": return logSoftmax(x[0])
        case "layer_norm": return layerNorm(x[0], gamma: x[1], beta: x[2], epsilon: Float(c.attrs["epsilon"]!.number))
        case "attention_probabilities":
            return attentionProbabilities(query: x[0], key: x[1], mask: additiveAttentionMask(paddingMask: x[2]))
        case "attention_output":
            return scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: additiveAttentionMask(paddingMask: x[3])).output
        case "cross_entropy_weighted_smoothed_mean", "cross_entropy_weighted_smoothed_none":
            return softmaxCrossEntropy(logits: x[0], targets: targets, classWeights: c.attrs["classWeights"]!.numbers.map(Float.init),
                                       labelSmoothing: Float(c.attrs["labelSmoothing"]!.number),
                                       reduction: c.name.hasSuffix("none") ? .perExample : .mean)
        case "kl_teacher_logits":
            return klDivergence(studentLogits: x[0], teacherLogits: x[1], temperature: Float(c.attrs["temperature"]!.number))
        case "kl_teacher_probabilities_none":
            return klDivergence(studentLogits: x[0], teacherProbabilities: x[1], temperature: Float(c.attrs["temperature"]!.number), reduction: .perExample)
        case "cosine_similarity": return cosineSimilarity(x[0], x[1])
        case "mse": return meanSquaredError(x[0], x[1])
        case "bce_with_logits": return binaryCrossEntropy(logits: x[0], targets: x[1])
        default: Issue.record("no runner for fixture case \(c.name)"); return Tensor(0)
        }
    }

    @Test("every fixture case has a runner and matches to 1e-5 relative", arguments: names)
    func matchesReference(_ name: String) throws {
        let c = try #require(Self.fixture.cases.first { $0.name == name })
        let y = run(c)
        #expect(y.shape == c.expected.shape, "\(name): shape \(y.shape) vs \(c.expected.shape)")
        var worst = 0.0
        for (got, want) in zip(y.scalars, c.expected.data) {
            worst = Swift.max(worst, abs(Double(got) - want) / Swift.max(1, abs(want)))
        }
        #expect(worst <= 1e-5, "\(name): max error \(worst)")
    }

    @Test("the fixture covers the fused ops")
    func fixtureCoverage() {
        #expect(Self.fixture.cases.count >= 22)
    }
}
