import ArgumentParser
import DistillExamples
import DistillNN
import DistillRuntime
import DistillText
import Foundation

/// `distill encode`: one embedding per input line, as JSON lines.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Embed each input line with a BERT-family model (one JSON line per input line).",
        discussion: """
        Output: {"line": N, "embedding": [floats]} per input line, in input order. A line that is not valid UTF-8 \
        or longer than 8 MiB yields {"line": N, "error": "..."} and a message on stderr naming FILE:LINE; the run \
        continues and exits with status 2 at the end. Lines are truncated to --max-length tokens.
        """
    )

    @Option(help: "Hugging Face BERT folder (config.json, model.safetensors, vocab.txt or tokenizer.json).")
    var model: String

    @Option(help: "How token vectors become one vector: mean (over real tokens), cls, or pooler (tanh(dense([CLS])), if the checkpoint has pooler weights).")
    var pooling: Pooling = .mean

    @Option(help: "Hidden layer to pool: 0 = embeddings, N = after layer N. Default: the last layer.")
    var layer: Int?

    @Option(help: "Input file, or - for standard input.")
    var input: String = "-"

    @Option(parsing: .unconditional, help: "Lines per forward pass.")
    var batch: Int = 32

    @Option(name: .customLong("max-length"), parsing: .unconditional, help: "Tokens per line including [CLS] and [SEP]; longer lines are truncated (default: the model folder's model_max_length).")
    var maxLength: Int?

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try SizeLimits.check(batch, SizeLimits.batch, flag: "--batch")
        if let maxLength { try SizeLimits.check(maxLength, SizeLimits.maxLength, flag: "--max-length") }
    }

    func run() throws {
        compute.apply()
        let folder = URL(fileURLWithPath: model)
        let encoder = try BertModel.load(folder: folder)
        if pooling == .pooler && encoder.pooler == nil {
            throw ValidationError("--pooling pooler: \(model) has no pooler weights (bert.pooler.dense); use mean or cls")
        }
        let tokenizer = try WordPieceTokenizer.load(folder: folder)
        try checkVocabulary(tokenizer, fits: encoder.config, folder: folder)
        let layers = encoder.config.numHiddenLayers
        if let layer, layer < 0 || layer > layers {
            throw ValidationError("--layer \(layer) is outside 0...\(layers) for this \(layers)-layer model")
        }
        let limit = BertClassifier.tokenLimit(requested: maxLength, tokenizer: tokenizer, config: encoder.config)
        let reader = try LineReader(path: input)
        let output = FileHandle.standardOutput
        var failures = 0
        var pending: [LineReader.Line] = []
        func flush() {
            let texts = pending.compactMap(\.text)
            var vectors: [[Float]] = []
            if !texts.isEmpty {
                let encoded = tokenizer.encodeBatch(texts, maxLength: limit)
                let out = encoder(encoded, outputHiddenStates: layer != nil)
                let hidden = layer.map { out.hiddenStates[$0] } ?? out.lastHiddenState
                let pooled = encoder.pool(hidden, attentionMask: encoded.attentionMask, pooling: pooling)
                let h = pooled.shape[1], values = pooled.scalars
                vectors = (0..<texts.count).map { Array(values[($0 * h)..<(($0 + 1) * h)]) }
            }
            var text = ""
            var next = 0
            for line in pending {
                if let problem = line.problem {
                    text += "{\"line\":\(line.number),\"error\":\"\(problem.message)\"}\n"
                } else {
                    text += "{\"line\":\(line.number),\"embedding\":[" + vectors[next].map { $0.isFinite ? "\($0)" : "null" }.joined(separator: ",") + "]}\n"
                    next += 1
                }
            }
            do { try output.write(contentsOf: Data(text.utf8)) } catch {
                FileHandle.standardError.write(Data("Error: cannot write standard output: \(fileErrorReason(error))\n".utf8))
                Foundation.exit(1)
            }
            pending.removeAll(keepingCapacity: true)
        }
        while let line = try reader.next() {
            if let problem = line.problem {
                failures += 1
                FileHandle.standardError.write(Data("\(reader.name):\(line.number): \(problem.message); line skipped\n".utf8))
            }
            pending.append(line)
            if pending.count == batch { flush() }
        }
        flush()
        if failures > 0 { throw ExitCode(2) }
    }
}

extension Pooling: ExpressibleByArgument {}
