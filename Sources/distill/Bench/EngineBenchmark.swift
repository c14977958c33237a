import DistillCore
import DistillExamples
import DistillNN
import DistillText
import DistillTraining
import Foundation
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// The engine benchmark: GEMM throughput (engine matmul vs raw `cblas_sgemm` vs numpy, measured in the
/// same `make bench` run) and one transformer block's forward+backward against the sgemm peak.
struct EngineBenchmark {
    struct GemmShape {
        let label: String
        let batch: Int, m: Int, k: Int, n: Int
        var flops: Double { 2 * Double(batch * m * k * n) }
        var key: String { label }
    }

    /// The shapes from the foundation issue; "64x32,128,512" is a batch of 64 sequences of 32 tokens
    /// through a 128 -> 512 projection, i.e. [64, 32, 128] x [128, 512].
    static let shapes = [
        GemmShape(label: "512,512,512", batch: 1, m: 512, k: 512, n: 512),
        GemmShape(label: "2048,384,384", batch: 1, m: 2048, k: 384, n: 384),
        GemmShape(label: "64x32,128,512", batch: 64, m: 32, k: 128, n: 512),
    ]

    struct Peers: Decodable {
        struct Numpy: Decodable { let version: String; let blas: String?; let gflops: [String: Double] }
        struct Torch: Decodable {
            let version: String
            let threads: Int
            let minilmSecondsPerBatch: Double
            enum CodingKeys: String, CodingKey { case version, threads, minilmSecondsPerBatch = "minilm_seconds_per_batch" }
        }
        struct TorchTrain: Decodable {
            let version: String
            let threads: Int
            let secondsPerStep: Double
            /// The matrix products' share of a step (torch.profiler), in seconds.
            let gemmSecondsPerStep: Double?
            /// The operators taking most of a profiled step, with their share.
            let topOps: [TopOp]?
            struct TopOp: Decodable { let op: String; let share: Double }
            enum CodingKeys: String, CodingKey {
                case version, threads, secondsPerStep = "seconds_per_step", gemmSecondsPerStep = "gemm_seconds_per_step", topOps = "top_ops"
            }
        }
        struct Drain3: Decodable {
            let version: String
            let linesPerSecond: Double
            enum CodingKeys: String, CodingKey { case version, linesPerSecond = "lines_per_second" }
        }
        var numpy: Numpy?
        var torch: Torch?
        var torchTrain: TorchTrain?
        var drain3: Drain3?
        struct Drain3Miner: Decodable {
            let messagesPerSecond: Double, groupingAccuracy: Double, templates: Int
            enum CodingKeys: String, CodingKey { case messagesPerSecond = "messages_per_second", groupingAccuracy = "grouping_accuracy", templates }
        }
        var drain3Miner: Drain3Miner?
        enum CodingKeys: String, CodingKey { case numpy, torch, torchTrain = "torch_train", drain3, drain3Miner = "drain3_miner" }
    }

    var peers: Peers?
    /// all-MiniLM-L6-v2 folder for the model benchmark (skipped when nil).
    var miniLM: URL?
    var trials = 5
    var blockSteps = 5

    /// Sections to run (default all): "gemm", "block", "minilm". The sgemm peak comes from "gemm".
    var sections: Set<String> = ["gemm", "block", "minilm", "train", "logs", "miner"]
    /// (template id, message) pairs for the miner benchmark (the file the Drain3 peer mined).
    var minerSample: [(Int, String)]?
    /// Log lines for the normalizer benchmark (the same file the Drain3 peer read).
    var logLines: [String]?

    func run() -> String {
        var out = "Distill engine benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, "
            + "compute threads \(ComputeThreads.count), BLAS threads \(ComputeThreads.blasThreads), OpenBLAS kernel \(BLASKernel.coreName)\n\n"
        var peak = 0.0
        if sections.contains("gemm") {
            let (gemmTable, p) = gemm()
            peak = p
            out += "GEMM throughput (GFLOP/s, median of \(trials) trials; higher is better)\n" + gemmTable + "\n\n"
        }
        if sections.contains("block") {
            out += "Transformer block forward+backward (batch 32, seq 48, width 384, 12 heads, FFN 1536)\n"
            out += block(peak: peak)
        }
        if sections.contains("logs") {
            out += "\n\nLog normalization, one core (envelope parsing + variable masking), \(logLines?.count ?? 0) mixed lines\n"
            out += logNormalization()
        }
        if sections.contains("miner") {
            out += "\n\nTemplate mining (Drain-style, one core), \(minerSample?.count ?? 0) generated messages with known templates\n"
            out += templateMining()
        }
        if sections.contains("train") {
            out += "\n\nStudent training step (BERT 2x128, batch 64 x seq 48; soft + hidden + attention losses vs stored 6x384 teacher outputs; AdamW)\n"
            out += studentTraining()
        }
        if let miniLM, sections.contains("minilm") {
            out += "\n\nall-MiniLM-L6-v2 forward (inference, batch 32 x seq 64, no padding)\n"
            out += (try? miniLMForward(folder: miniLM, peak: peak)) ?? "could not load \(miniLM.path)"
        }
        return out
    }

    private func gemm() -> (String, Double) {
        var table = TextTable(["shape (M,K,N)", "engine matmul", "raw cblas_sgemm (\(ComputeThreads.count) BLAS threads)", "numpy", "engine/raw", "engine/numpy"])
        var peak = 0.0
        var generator = RandomGenerator(seed: 1)
        for s in Self.shapes {
            let a = Tensor.randomNormal(s.batch == 1 ? [s.m, s.k] : [s.batch, s.m, s.k], using: &generator)
            let b = Tensor.randomNormal([s.k, s.n], using: &generator)
            let c = Tensor(zeros: [s.batch * s.m, s.n])
            // Engine and raw BLAS alternate trial by trial so that machine noise hits both alike.
            // Raw cblas_sgemm uses OpenBLAS's own threads (as many as the engine's compute threads).
            let rows = Int32(s.batch * s.m)
            var engineTimes: [Double] = [], rawTimes: [Double] = []
            for _ in 0..<trials {
                engineTimes.append(medianSecondsPerCall(trials: 1) { _ = matmul(a, b) })
                setBLASThreads(ComputeThreads.count)
                rawTimes.append(medianSecondsPerCall(trials: 1) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, Int32(s.n), Int32(s.k), 1,
                                a.storage.pointer, Int32(s.k), b.storage.pointer, Int32(s.n), 0, c.storage.pointer, Int32(s.n))
                })
                setBLASThreads(1)
                // OpenBLAS's idle workers spin for ~2^28 cycles after a call; let them park before the
                // engine's next trial so they do not steal its cores.
                usleep(300_000)
            }
            let engine = s.flops / median(engineTimes) / 1e9
            let raw = s.flops / median(rawTimes) / 1e9
            peak = max(peak, raw)
            let numpy = peers?.numpy?.gflops[s.key]
            table.add([s.label, fmt(engine), fmt(raw), numpy.map(fmt) ?? "n/a", pct(engine / raw),
                       numpy.map { pct(engine / $0) } ?? "n/a"])
        }
        var text = table.render()
        if let np = peers?.numpy { text += "\nnumpy \(np.version)\(np.blas.map { " (\($0))" } ?? ""), same shapes, same run" }
        else { text += "\nnumpy: not measured (run through `make bench`, which passes --peers)" }
        return (text, peak)
    }

    private func block(peak: Double) -> String {
        let (b, s, d, h, f) = (32, 48, 384, 12, 1536)
        var g = RandomGenerator(seed: 2)
        func w(_ shape: [Int]) -> Tensor { Tensor.randomNormal(shape, std: 0.02, using: &g) }
        let x = Tensor.randomNormal([b, s, d], using: &g)
        let wq = w([d, d]), wk = w([d, d]), wv = w([d, d]), wo = w([d, d]), w1 = w([d, f]), w2 = w([f, d])
        let bq = w([d]), bk = w([d]), bv = w([d]), bo = w([d]), b1 = w([f]), b2 = w([d])
        let g1 = Tensor(repeating: 1, shape: [d]), be1 = Tensor(zeros: [d]), g2 = Tensor(repeating: 1, shape: [d]), be2 = Tensor(zeros: [d])
        let params = [x, wq, wk, wv, wo, w1, w2, bq, bk, bv, bo, b1, b2, g1, be1, g2, be2]
        let pad = Tensor(shape: [b, s], scalars: (0..<(b * s)).map { ($0 % s) < s - ($0 / s) % 8 ? 1 : 0 })
        let mask = additiveAttentionMask(paddingMask: pad)
        let target = Tensor.randomNormal([b, s, d], using: &g)
        func step() {
            _ = valueAndGradient(of: params) { () -> Tensor in
                func heads(_ t: Tensor) -> Tensor { permute(t.reshaped([b, s, h, d / h]), [0, 2, 1, 3]) }
                let q = heads(matmul(x, wq) + bq), k = heads(matmul(x, wk) + bk), v = heads(matmul(x, wv) + bv)
                let context = scaledDotProductAttention(query: q, key: k, value: v, mask: mask).output
                let merged = permute(context, [0, 2, 1, 3]).reshaped([b, s, d])
                let a = layerNorm(x + matmul(merged, wo) + bo, gamma: g1, beta: be1)
                let y = layerNorm(a + matmul(gelu(matmul(a, w1) + b1), w2) + b2, gamma: g2, beta: be2)
                return meanSquaredError(y, target)
            }
        }
        let t = Double(b * s)
        let forwardFlops = 8 * t * Double(d * d) + 4 * t * Double(d * f) + 4 * t * Double(s * d)
        let flops = 3 * forwardFlops  // backward computes both GEMM operand gradients: 2x forward
        step()
        BLAS.resetCounters()
        BufferPool.shared.resetCounters()
        var times: [Double] = []
        for _ in 0..<blockSteps {
            let start = DispatchTime.now().uptimeNanoseconds
            step()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let total = times.reduce(0, +)
        let stepTime = times.sorted()[times.count / 2]
        let gemmShare = BLAS.gemmSeconds / total
        let pool = BufferPool.shared.statistics
        let achieved = flops / stepTime / 1e9
        var table = TextTable(["metric", "value"])
        table.add(["step time (median of \(blockSteps))", String(format: "%.1f ms", stepTime * 1000)])
        table.add(["FLOPs per step (GEMM, fwd+bwd)", String(format: "%.2f G", flops / 1e9)])
        table.add(["achieved GFLOP/s", fmt(achieved)])
        table.add(["sgemm peak GFLOP/s (this run)", fmt(peak)])
        table.add(["achieved / peak", pct(achieved / peak) + "  (goal >= 50%)"])
        table.add(["time in GEMM", pct(gemmShare)])
        table.add(["time outside GEMM", pct(1 - gemmShare)])
        table.add(["buffers reused / allocated", "\(pool.reused) / \(pool.allocated)"])
        return table.render()
    }
}

extension EngineBenchmark {
    /// Forward throughput of the real checkpoint against PyTorch on the same ids (bench/torch_minilm.py).
    func miniLMForward(folder: URL, peak: Double) throws -> String {
        let model = try BertModel.load(folder: folder)
        let c = model.config
        let (b, s) = (32, 64)
        let ids = (0..<b).flatMap { i in (0..<s).map { j in (i * 7919 + j * 104_729) % 29_000 + 1000 } }
        let batch = EncodedBatch(inputIDs: ids, tokenTypeIDs: Array(repeating: 0, count: b * s),
                                 attentionMask: Array(repeating: 1, count: b * s), batchSize: b, sequenceLength: s)
        let seconds = medianSeconds(repeats: max(3, trials)) { _ = model(batch) }
        // The same batch on the tape-free inference engine (what teachers and classify run).
        let engine = BertInference(encoder: model, pooling: .mean)
        let sequences = (0..<b).map { Array(ids[($0 * s)..<(($0 + 1) * s)]) }
        let engineSeconds = medianSeconds(repeats: max(3, trials)) {
            engine.run(count: b, output: .lastHiddenState, sequence: { sequences[$0] }, write: { _, _ in })
        }
        // One 24-token sentence (a teacher answering a single line): latency, median of 30.
        let one = Array(sequences[0].prefix(24))
        let oneBatch = EncodedBatch(inputIDs: one, tokenTypeIDs: Array(repeating: 0, count: one.count), attentionMask: Array(repeating: 1, count: one.count),
                                    batchSize: 1, sequenceLength: one.count)
        let moduleSingle = 1000 * medianSeconds(repeats: 30) { _ = model(oneBatch) }
        let engineSingle = 1000 * medianSeconds(repeats: 30) { engine.run(count: 1, output: .lastHiddenState, sequence: { _ in one }, write: { _, _ in }) }
        let t = Double(b * s), d = Double(c.hiddenSize), f = Double(c.intermediateSize)
        let flops = Double(c.numHiddenLayers) * (8 * t * d * d + 4 * t * d * f + 4 * t * Double(s) * d)
        var table = TextTable(["engine", "ms / batch", "sentences/s", "GFLOP/s", "of sgemm peak", "vs PyTorch"])
        let torch = peers?.torch
        for (name, time) in [("Distill modules (tape-free)", seconds), ("Distill inference engine", engineSeconds)] {
            table.add([name, String(format: "%.1f", time * 1000), fmt(Double(b) / time), fmt(flops / time / 1e9),
                       peak > 0 ? pct(flops / time / 1e9 / peak) : "n/a", torch.map { String(format: "%.2fx", $0.minilmSecondsPerBatch / time) } ?? "n/a"])
        }
        if let torch {
            let ts = torch.minilmSecondsPerBatch
            table.add(["PyTorch \(torch.version) (\(torch.threads) threads)", String(format: "%.1f", ts * 1000), fmt(Double(b) / ts),
                       fmt(flops / ts / 1e9), peak > 0 ? pct(flops / ts / 1e9 / peak) : "n/a", "1.00x"])
        }
        return table.render() + String(format: "\n%.1f GFLOP per batch; goal: Distill >= 1.0x PyTorch", flops / 1e9)
            + String(format: "\none sentence of 24 tokens: modules %.2f ms, inference engine %.2f ms (median of 30)", moduleSingle, engineSingle)
            + (torch == nil ? "\nPyTorch: not measured (run through `make bench`)" : "")
    }
}

extension EngineBenchmark {
    /// The distillation step the recipes run, on the shapes of bench/torch_train.py, on a ``WorkerTeam`` as in
    /// `distill train`.
    func studentTraining() -> String {
        WorkerTeam.run { studentTrainingTable() }
    }

    private func studentTrainingTable() -> String {
        let (b, s, classes) = (64, 48, 6)
        var config = BertConfig(vocabSize: 30522, hiddenSize: 128, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 512,
                                maxPositionEmbeddings: 64, labels: (0..<classes).map { "c\($0)" })
        config.distillPooling = .mean
        let student = BertForSequenceClassification(config: config, seed: 1)
        var g = RandomGenerator(seed: 3)
        let projections = (0..<2).map { _ in Linear(inputSize: 128, outputSize: 384, std: 0.05, generator: &g) }
        let ids = (0..<(b * s)).map { _ in 1000 + Int(g.next() % 28000) }
        let batch = EncodedBatch(inputIDs: ids, tokenTypeIDs: Array(repeating: 0, count: b * s), attentionMask: Array(repeating: 1, count: b * s),
                                 batchSize: b, sequenceLength: s)
        let teacherProbabilities = softmax(Tensor.randomNormal([b, classes], using: &g))
        let teacherHidden = (0..<2).map { _ in Tensor.randomNormal([b, s, 384], using: &g) }
        let teacherAttention = (0..<2).map { _ in softmax(Tensor.randomNormal([b, 12, s, s], using: &g)) }
        let parameters = student.namedParameters() + projections.enumerated().flatMap { i, p in p.namedParameters(prefix: "projection.\(i)") }
        let optimizer = AdamW(learningRate: 5e-4, weightDecay: 0.01)
        let context = ForwardContext(training: true, seed: 5)
        func step() {
            var (_, grads) = valueAndGradient(of: parameters.map(\.tensor)) { () -> Tensor in
                let out = student(batch, outputHiddenStates: true, outputAttentions: true, context: context)
                var loss = klDivergence(studentLogits: out.logits, teacherProbabilities: teacherProbabilities, temperature: 2)
                for i in 0..<2 {
                    loss = loss + hiddenStateLoss(student: out.encoder.hiddenStates[i + 1], teacher: teacherHidden[i], projection: projections[i],
                                                  attentionMask: batch.attentionMask)
                    loss = loss + attentionLoss(student: out.encoder.attentions[i], teacher: teacherAttention[i], attentionMask: batch.attentionMask)
                }
                return loss
            }
            clipGradientsByGlobalNorm(&grads, maxNorm: 1)
            optimizer.update(parameters, gradients: grads)
        }
        step(); step()
        var times: [Double] = [], gemmTimes: [Double] = []
        var gemmFlops = 0
        for _ in 0..<max(5, trials) {
            BLAS.resetCounters()
            let start = DispatchTime.now().uptimeNanoseconds
            step()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            gemmTimes.append(BLAS.gemmSeconds)
            gemmFlops = BLAS.gemmFlops
        }
        let seconds = median(times), gemm = median(gemmTimes)
        var table = TextTable(["engine", "ms / step", "matrix products ms", "the rest ms", "examples/s", "vs PyTorch"])
        let torch = peers?.torchTrain
        table.add(["Distill", String(format: "%.1f", seconds * 1000), String(format: "%.1f", gemm * 1000), String(format: "%.1f", (seconds - gemm) * 1000),
                   fmt(Double(b) / seconds), torch.map { String(format: "%.2fx", $0.secondsPerStep / seconds) } ?? "n/a"])
        var notes = String(format: "\nmatrix products: %.1f GFLOP per step, %.0f GFLOP/s in Distill (OpenBLAS sgemm, wall time inside the calls)",
                           Double(gemmFlops) / 1e9, Double(gemmFlops) / 1e9 / gemm)
        if let torch {
            let torchGemm = torch.gemmSecondsPerStep
            table.add(["PyTorch \(torch.version) (\(torch.threads) threads)", String(format: "%.1f", torch.secondsPerStep * 1000),
                       torchGemm.map { String(format: "%.1f", $0 * 1000) } ?? "n/a", torchGemm.map { String(format: "%.1f", (torch.secondsPerStep - $0) * 1000) } ?? "n/a",
                       fmt(Double(b) / torch.secondsPerStep), "1.00x"])
            let target = torch.secondsPerStep / 1.5
            notes += String(format: "\n1.5x PyTorch is %.1f ms a step; Distill's matrix products alone take %.1f ms (%.0f%% of the goal), leaving %.1f ms for "
                            + "everything else (now %.1f ms)", target * 1000, gemm * 1000, 100 * gemm / target, (target - gemm) * 1000, (seconds - gemm) * 1000)
            if let ops = torch.topOps {
                notes += "\nPyTorch's profiled step: " + ops.map { "\($0.op) " + String(format: "%.0f%%", 100 * $0.share) }.joined(separator: ", ")
            }
        }
        return table.render() + notes + "\ngoal: Distill >= 1.5x PyTorch" + (torch == nil ? "\nPyTorch: not measured (run through `make bench`)" : "")
    }
}

extension EngineBenchmark {
    func templateMining() -> String {
        let sample = minerSample ?? SyntheticLogs.sampleWithTemplates(count: 50_000, seed: 9).map { ($0.template, $0.text) }
        let start = DispatchTime.now().uptimeNanoseconds
        let miner = TemplateMiner()
        let predicted = sample.map { miner.add($0.1) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let accuracy = groupingAccuracy(predicted: predicted, truth: sample.map(\.0))
        var table = TextTable(["engine", "grouping accuracy", "templates", "messages/s", "vs Drain3"])
        let rate = Double(sample.count) / seconds
        let drain = peers?.drain3Miner
        table.add(["Distill TemplateMiner", String(format: "%.4f", accuracy), "\(miner.templates.count)", fmt(rate),
                   drain.map { String(format: "%.1fx", rate / $0.messagesPerSecond) } ?? "n/a"])
        if let drain {
            table.add(["Drain3 TemplateMiner (README masks)", String(format: "%.4f", drain.groupingAccuracy), "\(drain.templates)", fmt(drain.messagesPerSecond), "1.0x"])
        }
        return table.render() + "\n\(Set(sample.map(\.0)).count) true templates" + (drain == nil ? "\nDrain3: not measured (run through `make bench`)" : "")
    }

    func logNormalization() -> String {
        let lines = logLines ?? LogSample.lines(count: 200_000, seed: 7)
        let bytes = lines.reduce(0) { $0 + $1.utf8.count }
        let normalizer = LogNormalizer()
        var sink = 0
        func pass() -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for line in lines { sink &+= normalizer.normalize(line).masked.utf8.count }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        _ = pass()
        let seconds = median((0..<max(3, trials)).map { _ in pass() })
        let rate = Double(lines.count) / seconds
        var table = TextTable(["engine", "lines/s", "MB/s", "vs Drain3"])
        let drain = peers?.drain3
        table.add(["Distill LogNormalizer", fmt(rate), fmt(Double(bytes) / seconds / 1e6), drain.map { String(format: "%.1fx", rate / $0.linesPerSecond) } ?? "n/a"])
        if let drain { table.add(["Drain3 \(drain.version) LogMasker (README masks)", fmt(drain.linesPerSecond), "", "1.0x"]) }
        return table.render() + String(format: "\nmean line %.0f bytes; at 120 bytes/line that is %.0f lines/s (goal >= 1,000,000) (checksum %d)",
                                              Double(bytes) / Double(lines.count), Double(bytes) / seconds / 120, sink % 10)
            + (drain == nil ? "\nDrain3: not measured (run through `make bench`)" : "")
    }
}

private func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }

/// Runs `body` once to warm up, then `repeats` times; the median wall time in seconds.
private func medianSeconds(repeats: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return median(times)
}

/// OpenBLAS's own thread count, for the raw-BLAS peer only (the engine keeps BLAS single-threaded).
private func setBLASThreads(_ n: Int) {
    #if !canImport(Accelerate)
    openblas_set_num_threads(Int32(n))
    #endif
}

private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
private func pct(_ v: Double) -> String { String(format: "%.0f%%", v * 100) }
