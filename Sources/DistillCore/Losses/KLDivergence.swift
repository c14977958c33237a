import Foundation

/// Knowledge-distillation divergence `T² · KL(p_t^T ‖ p_s^T)` between temperature-softened distributions
/// (Hinton et al. 2015), fused: `p^T = softmax(z / T)` for both sides.
///
/// - Parameters:
///   - studentLogits: `[N, C]`.
///   - teacherLogits: `[N, C]`. Usually constant; if it is tracked it gets its gradient too.
///   - temperature: T > 0.
///   - reduction: `.mean` is "batchmean" (sum over classes, mean over the `N` examples).
public func klDivergence(studentLogits: Tensor, teacherLogits: Tensor, temperature: Float = 1,
                         reduction: Reduction = .mean) -> Tensor {
    require(studentLogits.shape == teacherLogits.shape && studentLogits.rank == 2,
            .mismatch(op: "klDivergence", studentLogits.shape, teacherLogits.shape, detail: "student and teacher logits must both be [N, C]"))
    return fusedKL(student: studentLogits, teacher: teacherLogits, teacherIsProbability: false,
                   temperature: temperature, reduction: reduction)
}

/// ``klDivergence(studentLogits:teacherLogits:temperature:reduction:)`` with the teacher given as
/// probabilities (LLM teachers give these). Softening a distribution `p` at temperature T means
/// `p^(1/T)` renormalized, i.e. treating `log p` as the logits; zero probabilities stay zero.
public func klDivergence(studentLogits: Tensor, teacherProbabilities: Tensor, temperature: Float = 1,
                         reduction: Reduction = .mean) -> Tensor {
    require(studentLogits.shape == teacherProbabilities.shape && studentLogits.rank == 2,
            .mismatch(op: "klDivergence", studentLogits.shape, teacherProbabilities.shape, detail: "student logits and teacher probabilities must both be [N, C]"))
    return fusedKL(student: studentLogits, teacher: teacherProbabilities, teacherIsProbability: true,
                   temperature: temperature, reduction: reduction)
}

private func fusedKL(student: Tensor, teacher: Tensor, teacherIsProbability: Bool, temperature: Float,
                     reduction: Reduction) -> Tensor {
    precondition(temperature > 0, "klDivergence: temperature must be > 0, got \(temperature)")
    let (n, c) = (student.shape[0], student.shape[1])
    let invT = 1 / temperature, t2 = temperature * temperature
    let ps = student.storage.pointer, pt = teacher.storage.pointer
    let logS = TensorStorage(count: n * c, zeroed: false), logT = TensorStorage(count: n * c, zeroed: false)
    defer { withExtendedLifetime((logS, logT)) {} }  // used through raw pointers below
    let ls = logS.pointer, lt = logT.pointer
    var values = [Float](repeating: 0, count: n)
    for i in 0..<n {
        logSoftmaxRow(ps + i * c, ls + i * c, c, scale: invT)
        if teacherIsProbability {
            // log p scaled by 1/T, renormalized; zero entries map to -inf and stay at zero probability.
            let row = pt + i * c
            var m = -Float.infinity
            for j in 0..<c {
                precondition(row[j] >= 0 && row[j].isFinite, "klDivergence: teacher probability \(row[j]) at example \(i), class \(j) is not a finite value >= 0")
                if row[j] > 0 { m = max(m, Foundation.log(row[j]) * invT) }
            }
            precondition(m > -.infinity, "klDivergence: teacher probabilities of example \(i) are all zero")
            var total: Float = 0
            for j in 0..<c where row[j] > 0 { total += Foundation.exp(Foundation.log(row[j]) * invT - m) }
            let lse = m + Foundation.log(total)
            for j in 0..<c { lt[i * c + j] = row[j] > 0 ? Foundation.log(row[j]) * invT - lse : -.infinity }
        } else {
            logSoftmaxRow(pt + i * c, lt + i * c, c, scale: invT)
        }
        var kl: Float = 0
        for j in 0..<c {
            let l = lt[i * c + j]
            if l > -.infinity { kl += Foundation.exp(l) * (l - ls[i * c + j]) }
        }
        values[i] = t2 * kl
    }
    let (out, factor) = reducedLoss(values, reduction: reduction, normalizer: Float(n))
    recordIfNeeded(out, inputs: [student, teacher]) { tape, g in
        keepAlive(logS, logT)
        let gs = tape.gradient(of: student)
        let gt = teacherIsProbability ? nil : tape.gradient(of: teacher)
        if teacherIsProbability && tape.tracks(teacher) {
            // d/dp_j of T² Σ q log(q / s) through q = normalize(p^(1/T)): T q_j (a_j - KL) / p_j.
            if let gp = tape.gradient(of: teacher) {
                for i in 0..<n {
                    let f = factor(g, i)
                    var kl: Float = 0
                    for j in 0..<c where lt[i * c + j] > -.infinity { kl += Foundation.exp(lt[i * c + j]) * (lt[i * c + j] - ls[i * c + j]) }
                    for j in 0..<c where lt[i * c + j] > -.infinity {
                        let q = Foundation.exp(lt[i * c + j])
                        gp[i * c + j] += f * temperature * q * ((lt[i * c + j] - ls[i * c + j]) - kl) / pt[i * c + j]
                    }
                }
            }
        }
        for i in 0..<n {
            let f = factor(g, i)
            if let gs { // T² · (1/T) · (p_s - p_t)
                for j in 0..<c {
                    let q = lt[i * c + j] > -.infinity ? Foundation.exp(lt[i * c + j]) : 0
                    gs[i * c + j] += f * temperature * (Foundation.exp(ls[i * c + j]) - q)
                }
            }
            if let gt { // T² · (1/T) · p_t (a_j - KL), a = log p_t - log p_s
                var kl: Float = 0
                for j in 0..<c where lt[i * c + j] > -.infinity { kl += Foundation.exp(lt[i * c + j]) * (lt[i * c + j] - ls[i * c + j]) }
                for j in 0..<c where lt[i * c + j] > -.infinity {
                    let q = Foundation.exp(lt[i * c + j])
                    gt[i * c + j] += f * temperature * q * ((lt[i * c + j] - ls[i * c + j]) - kl)
                }
            }
        }
    }
    return out
}
