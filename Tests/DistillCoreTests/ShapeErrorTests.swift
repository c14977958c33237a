import DistillCore
import Testing

@Suite("Shape misuse is reported with both shapes")
struct ShapeErrorTests {
    @Test("broadcast errors name both shapes")
    func broadcastMessage() throws {
        #expect(throws: ShapeError.notBroadcastable([3, 4], [5], op: "add")) { try Shapes.broadcast([3, 4], [5], op: "add") }
        let message = ShapeError.notBroadcastable([3, 4], [5], op: "add").errorDescription ?? ""
        #expect(message.contains("[3, 4]") && message.contains("[5]"))
        #expect(try Shapes.broadcast([3, 1, 5], [4, 1]) == [3, 4, 5])
        #expect(try Shapes.broadcast([], [2, 3]) == [2, 3])
    }

    @Test("checked construction throws instead of trapping")
    func checkedInit() {
        #expect(throws: ShapeError.self) { try Tensor.checked(shape: [2, 3], scalars: [1, 2, 3]) }
        #expect((try? Tensor.checked(shape: [3], scalars: [1, 2, 3]))?.shape == [3])
    }

    @Test("matmul with mismatched inner dimensions traps")
    func matmulTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = matmul(Tensor(zeros: [2, 3]), Tensor(zeros: [4, 5]))
        }
    }

    @Test("elementwise ops refuse shapes that do not broadcast")
    func addTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor(zeros: [3, 4]) + Tensor(zeros: [3])
        }
    }

    @Test("wrong rank traps")
    func rankTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = layerNorm(Tensor(zeros: [2, 4]), gamma: Tensor(zeros: [3]), beta: Tensor(zeros: [3]))
        }
        await #expect(processExitsWith: .failure) {
            _ = softmaxCrossEntropy(logits: Tensor(zeros: [4]), targets: [0])
        }
    }

    @Test("the trap message names both shapes")
    func trapMessage() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor(zeros: [2, 3]), Tensor(zeros: [4, 5]))
        }
        let text = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(text.contains("[2, 3]") && text.contains("[4, 5]") && text.contains("matmul"))
    }
}
