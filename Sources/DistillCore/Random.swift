import Foundation

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Its whole state is four words (``state``), so a training run can save it in a checkpoint and resume with
/// the very same stream of random numbers. It conforms to `RandomNumberGenerator`, so
/// `array.shuffle(using:)` works with it.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable, Codable {
    /// The generator's full state.
    public var state: [UInt64]

    /// A generator whose stream is a pure function of `seed`.
    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = [splitMix(), splitMix(), splitMix(), splitMix()]
    }

    /// Restores a generator from a saved ``state``.
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "RandomGenerator: state must be 4 words, not all zero")
        self.state = state
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Standard normal (Box–Muller, both draws consumed for a single value so the stream stays simple).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * log(max(u1, 1e-300))).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// True with probability `p`.
    public mutating func nextBernoulli(_ p: Float) -> Bool { nextUniform() < p }

    /// An independent generator derived from this one (e.g. one per data-loader worker).
    public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }
}

@inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

extension Tensor {
    /// Elements drawn from N(mean, std²).
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                                    using generator: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.storage.pointer[i] = mean + std * generator.nextNormal() }
        return t
    }

    /// Elements drawn uniformly from [low, high).
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                                     using generator: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.storage.pointer[i] = low + (high - low) * generator.nextUniform() }
        return t
    }

    /// Elements that are 1 with probability `p`, else 0.
    public static func randomBernoulli(_ shape: [Int], p: Float, using generator: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.storage.pointer[i] = generator.nextBernoulli(p) ? 1 : 0 }
        return t
    }
}
