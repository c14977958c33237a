import ArgumentParser
import DistillExamples
import DistillExport
import DistillRuntime
import DistillTraining
import Foundation

extension ExportFormat: ExpressibleByArgument {}

/// `distill export`: a student or teacher folder in a form other runtimes run with the same answers.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model for transformers (--format hf) or ONNX Runtime (--format onnx), with a model card.",
        discussion: """
            hf: a Hugging Face folder (config.json, model.safetensors, tokenizer.json, vocab.txt, tokenizer_config.json with \
            model_max_length = --max-length (128, as classify; at most the model's positions), special_tokens_map.json, README.md). A model pooled by mean or [CLS] gets \
            modeling_distill.py and model_type distill_bert: load it with trust_remote_code=True (plain BertForSequenceClassification \
            would pool through a random tanh layer). BERT models only.
            onnx: model.onnx (opset 17) with logits and probabilities outputs; BERT reads input_ids and attention_mask, the n-gram bag \
            feature_ids padded with -1 (the ids `distill prepare` prints). Labels, input preparation and temperature are in its metadata.
            int8 folders are written dequantized (F32), as Distill computes with them. A decision.json beside the weights is copied, \
            and its temperature applied to the ONNX probabilities. The model card is rendered from the folder's model_card.json \
            (written by train) when there is one.
            """
    )

    @Option(help: "Student or teacher folder.")
    var model: String

    @Option(help: "hf or onnx.")
    var format: ExportFormat

    @Option(help: "Output folder (new or empty; --force replaces an existing one).")
    var out: String

    @Option(name: .customLong("max-length"), parsing: .unconditional,
            help: "Tokens per line for BERT models (as classify's --max-length; at most the model's positions): the tokenizer's truncation (default: the model folder's model_max_length).")
    var maxLength: Int?

    @Flag(help: "Replace an existing output folder, whole.")
    var force = false

    @OptionGroup var output: OutputOptions

    func validate() throws { if let maxLength { try SizeLimits.check(maxLength, SizeLimits.maxLength, flag: "--max-length") } }

    func run() throws {
        output.apply()
        let source = URL(fileURLWithPath: model)
        let student = try Student.load(from: source)
        let decision = try DecisionRule.load(folder: source)
        var facts: ModelCard.Facts
        do { facts = try ModelCard.Facts.load(folder: source) ?? ModelCard.Facts(title: source.lastPathComponent) } catch {
            note("warning: \(error.localizedDescription); the card is written without the training facts")
            facts = ModelCard.Facts(title: source.lastPathComponent)
        }
        let quantization = Student.quantization(of: source)
        if let quantization { facts.data.append("exported in F32 from an int8 folder (\(quantization)), dequantized as Distill does at load") }
        let card = ModelCard(facts, model: .init(student), decision: decision)
        let written = try ModelExport.write(student, from: source, format: format, to: URL(fileURLWithPath: out), maxLength: maxLength,
                                            replace: force, card: card, decision: decision)
        note("export: \(format.rawValue) -> \(written.folder.path): \(written.files.joined(separator: ", ")) "
             + String(format: "(%.1f MB)", Double(written.bytes) / 1e6))
    }
}
