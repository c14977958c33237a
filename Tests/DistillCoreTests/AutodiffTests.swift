import DistillCore
import Testing

@Suite("Tape autodiff")
struct AutodiffTests {
    @Test("a parameter used twice gets the sum of both paths")
    func reuseAccumulates() {
        let x = Tensor(shape: [3], scalars: [1, -2, 3])
        let (value, grads) = valueAndGradient(of: [x]) { sum(x * x) + sum(scale(x, by: 3)) }
        #expect(value == 1 + 4 + 9 + 3 * 2)
        #expect(grads[x]?.scalars == [2 + 3, -4 + 3, 6 + 3])
    }

    @Test("frozen parameters get no gradient, the others are unchanged")
    func frozen() {
        let w = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), b = Tensor(shape: [2], scalars: [0.5, -0.5])
        let x = Tensor(shape: [1, 2], scalars: [1, 1])
        let (_, all) = valueAndGradient(of: [w, b]) { sum(matmul(x, w) + b) }
        b.requiresGrad = false
        let (_, some) = valueAndGradient(of: [w, b]) { sum(matmul(x, w) + b) }
        #expect(some[b] == nil)
        #expect(some[w]?.scalars == all[w]?.scalars)
        #expect(all[b]?.scalars == [1, 1])
        #expect(some.count == 1)
    }

    @Test("no-grad mode records nothing")
    func noGrad() {
        let w = Tensor(shape: [2], scalars: [1, 2])
        let (_, grads) = valueAndGradient(of: [w]) {
            let frozenPath = withoutGradients { w * w }   // constant inside the tape
            return sum(frozenPath * w)
        }
        // d/dw (w_const^2 * w) = w^2 (the no-grad branch contributes nothing).
        #expect(grads[w]?.scalars == [1, 4])
        #expect(Tape.active == nil)
    }

    @Test("gradient accumulation over micro-batches equals the full-batch gradient")
    func accumulation() {
        var g = RandomGenerator(seed: 5)
        let w = Tensor.randomNormal([4, 3], using: &g)
        let x = Tensor.randomNormal([6, 4], using: &g)
        let targets = [0, 2, 1, 1, 0, 2]
        let (_, full) = valueAndGradient(of: [w]) { softmaxCrossEntropy(logits: matmul(x, w), targets: targets, reduction: .sum) }
        var accumulated = Gradients()
        for half in [0..<3, 3..<6] {
            let xs = slice(x, axis: 0, half)
            let (_, part) = valueAndGradient(of: [w]) {
                softmaxCrossEntropy(logits: matmul(xs, w), targets: Array(targets[half]), reduction: .sum)
            }
            accumulated.accumulate(part)
        }
        for (a, b) in zip(full[w]!.scalars, accumulated[w]!.scalars) { #expect(abs(a - b) <= 1e-5) }
        accumulated.scale(by: 0.5)
        #expect(abs(accumulated.globalNorm * 2 - full.globalNorm) <= 1e-4)
    }

    @Test("auxiliary values come back with the gradient")
    func aux() {
        let w = Tensor(shape: [1], scalars: [3])
        let (value, aux, grads) = valueAndGradient(of: [w]) { () -> (Tensor, [Float]) in
            let y = w * w
            return (sum(y), y.scalars)
        }
        #expect(value == 9 && aux == [9] && grads[w]?.scalars == [6])
    }

    @Test("parameters not on the loss's path have no gradient")
    func unused() {
        let a = Tensor(shape: [2], scalars: [1, 2]), b = Tensor(shape: [2], scalars: [3, 4])
        let (_, grads) = valueAndGradient(of: [a, b]) { sum(a) }
        #expect(grads[a]?.scalars == [1, 1])
        #expect(grads[b] == nil)
    }

    @Test("reshape and detached views share storage; copy does not")
    func views() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let r = a.reshaped([3, -1])
        #expect(r.shape == [3, 2])
        a.withUnsafeMutableBufferPointer { $0[0] = 10 }
        #expect(r.scalars[0] == 10 && a.detached().scalars[0] == 10)
        let c = a.copy()
        a.withUnsafeMutableBufferPointer { $0[0] = 11 }
        #expect(c.scalars[0] == 10)
    }
}

@Suite("Buffer pool")
struct BufferPoolTests {
    @Test("a freed buffer is handed out again for the same size")
    func reuse() {
        let size = 12_347  // a size no other test uses
        var first: UnsafeMutablePointer<Float>?
        do {
            let s = TensorStorage(count: size, zeroed: true)
            first = s.pointer
        }
        let again = TensorStorage(count: size, zeroed: true)
        #expect(again.pointer == first)
        #expect(again.pointer[size - 1] == 0)
    }

    @Test("large buffers come in size classes: a slightly different size reuses a freed one; small sizes stay exact")
    func sizeClasses() {
        #expect(BufferPool.capacity(for: 1000) == 1000 && BufferPool.capacity(for: 0) == 1)
        #expect(BufferPool.capacity(for: 1 << 16) == 1 << 16)
        #expect(BufferPool.capacity(for: (1 << 16) + 1) == 3 << 15)
        #expect(BufferPool.capacity(for: 3 << 15) == 3 << 15 && BufferPool.capacity(for: (3 << 15) + 1) == 1 << 17)
        #expect(BufferPool.capacity(for: 1 << 17) == 1 << 17)
        let rows = 7_777 * 64, other = 7_001 * 64  // both in the class of 2^19 (a size no other test uses)
        #expect(BufferPool.capacity(for: rows) == 1 << 19 && BufferPool.capacity(for: other) == 1 << 19)
        var first: UnsafeMutablePointer<Float>?
        do {
            let s = TensorStorage(count: rows, zeroed: true)
            first = s.pointer
            s.pointer[rows - 1] = 5
        }
        let again = TensorStorage(count: other, zeroed: true)
        #expect(again.pointer == first)
        #expect(again.pointer[other - 1] == 0)
    }

    @Test("a training step's buffers are reused on the next step")
    func stepReuse() {
        var g = RandomGenerator(seed: 2)
        let w = Tensor.randomNormal([33, 17], using: &g), x = Tensor.randomNormal([29, 33], using: &g)
        func step() { _ = valueAndGradient(of: [w]) { mean(gelu(matmul(x, w))) } }
        step()
        let before = BufferPool.shared.statistics
        step()
        let after = BufferPool.shared.statistics
        // Other tests run concurrently, so only a lower bound on reuse is asserted.
        #expect(after.reused - before.reused >= 5)
    }
}

@Suite("Random generator")
struct RandomTests {
    @Test("same seed, same stream; restored state continues it")
    func reproducible() {
        var a = RandomGenerator(seed: 99), b = RandomGenerator(seed: 99)
        let xs = (0..<10).map { _ in a.next() }
        #expect(xs == (0..<10).map { _ in b.next() })
        let saved = a.state
        let next = (0..<5).map { _ in a.nextNormal() }
        var restored = RandomGenerator(state: saved)
        #expect(next == (0..<5).map { _ in restored.nextNormal() })
        #expect(RandomGenerator(seed: 1).state != RandomGenerator(seed: 2).state)
    }

    @Test("distributions have the right moments")
    func moments() {
        var g = RandomGenerator(seed: 7)
        let n = 200_000
        let u = Tensor.randomUniform([n], low: -1, high: 3, using: &g).scalars
        let z = Tensor.randomNormal([n], mean: 2, std: 0.5, using: &g).scalars
        let b = Tensor.randomBernoulli([n], p: 0.3, using: &g).scalars
        func meanVar(_ v: [Float]) -> (Double, Double) {
            let m = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
            return (m, v.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(v.count))
        }
        let (mu, vu) = meanVar(u), (mz, vz) = meanVar(z), (mb, _) = meanVar(b)
        #expect(abs(mu - 1) < 0.02 && abs(vu - 16.0 / 12) < 0.02)
        #expect(abs(mz - 2) < 0.01 && abs(vz - 0.25) < 0.01)
        #expect(abs(mb - 0.3) < 0.01)
        #expect(u.allSatisfy { $0 >= -1 && $0 < 3 })
    }
}
