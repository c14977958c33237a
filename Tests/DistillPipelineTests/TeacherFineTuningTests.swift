import DistillCore
import DistillExamples
import DistillNN
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillText
import DistillTraining
import Foundation
import Testing

@Suite("Teacher fine-tuning and the local BERT teacher")
struct TeacherFineTuningTests {
    @Test("distill teacher finetune on all-MiniLM-L6-v2: dev accuracy above the majority class; the saved folder is a BERT teacher whose forward matches the numpy reference")
    func fineTuneMiniLM() async throws {
        let folder = temporaryFolder()
        let normalizer = LogNormalizer()
        let records = LogCorpusGenerator(seed: 21).generate(count: 700).filter { $0.split == "train" }
        func jsonl(_ rs: ArraySlice<LogCorpusGenerator.Record>) -> String {
            rs.map { r in
                String(decoding: try! JSONSerialization.data(withJSONObject: ["text": TextInput.modelText(normalizer.normalize(r.text)), "label": r.label], options: [.sortedKeys]),
                       as: UTF8.self)
            }.joined(separator: "\n")
        }
        let train = folder.appendingPathComponent("train.jsonl"), dev = folder.appendingPathComponent("dev.jsonl")
        try jsonl(records.prefix(320)).write(to: train, atomically: true, encoding: .utf8)
        try jsonl(records.dropFirst(320).prefix(160)).write(to: dev, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("teacher")
        let labels = LogTaxonomy.labels
        let result = try runDistill(["teacher", "finetune", "--base", miniLM.path, "--train", train.path, "--dev", dev.path,
                                     "--labels", labels.joined(separator: ","), "--out", out.path, "--epochs", "3", "--freeze-layers", "3",
                                     "--max-length", "32", "--learning-rate", "2e-4"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("epoch 1: dev accuracy") && result.stderr.contains("epoch 3: dev accuracy"))
        // "saved …/teacher (epoch N): dev accuracy 0.9000, macro-F1 …"
        let accuracy = try #require(result.stdout.range(of: #"dev accuracy (\d\.\d+)"#, options: .regularExpression).map {
            Double(result.stdout[$0].split(separator: " ").last!)!
        })
        let devLabels = records.dropFirst(320).prefix(160).map(\.label)
        let majority = Double(devLabels.filter { $0 == "normal" }.count) / Double(devLabels.count)
        print("fine-tuned MiniLM teacher: dev accuracy \(accuracy) (majority class \(majority))")
        #expect(accuracy > majority + 0.1, "dev accuracy \(accuracy) vs majority class \(majority)")
        #expect(result.stdout.contains("(") && result.stdout.contains("trained)"))
        // The checkpoints that made it resumable are gone once the model is saved.
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".teacher.work").path))

        // The folder: Hugging Face layout with id2label; frozen layers kept the base weights.
        let config = try BertConfig.read(from: out.appendingPathComponent("config.json"))
        #expect(config.labels == labels)
        let base = try SafetensorsFile(url: miniLM.appendingPathComponent("model.safetensors"))
        let tuned = try SafetensorsFile(url: out.appendingPathComponent("model.safetensors"))
        #expect(try tuned.tensor("bert.encoder.layer.0.attention.self.query.weight").scalars == base.tensor("encoder.layer.0.attention.self.query.weight").scalars)
        #expect(try tuned.tensor("bert.encoder.layer.5.attention.self.query.weight").scalars != base.tensor("encoder.layer.5.attention.self.query.weight").scalars)

        // As a white-box teacher: distributions = softmax of the numpy reference's logits; features on request.
        let teacher = try BertTeacher(folder: out, labels: labels, maxLength: 32)
        let texts = records.suffix(5).map { TextInput.modelText(normalizer.normalize($0.text)) }
        let answers = try await teacher.label(texts)
        let reference = try pythonLogits(folder: out, request: ["ids": texts.map { teacher.tokenizer.encode($0, maxLength: 32) }])
        for (answer, logits) in zip(answers, reference) {
            let p = try #require(answer.label)
            #expect(p.method == .logits && p.outsideMass < 1e-5)
            let m = logits.max()!, e = logits.map { exp($0 - m) }, z = e.reduce(0, +)
            for (a, b) in zip(p.probabilities, e.map { $0 / z }) { #expect(abs(Double(a) - b) < 1e-4) }
        }
        let whiteBox: any WhiteBoxTeacher = teacher
        let features = whiteBox.features(texts, hiddenLayers: [0, 6], attentionLayers: [5])
        #expect(features.hidden[6]?.shape == [5, features.batch.sequenceLength, 384] && features.attentions[5]?.shape[1] == 12)

        // `distill label --teacher bert:FOLDER` writes the same distributions, through the store.
        let input = folder.appendingPathComponent("texts.jsonl")
        try texts.map { String(decoding: try JSONSerialization.data(withJSONObject: ["text": $0]), as: UTF8.self) }.joined(separator: "\n")
            .write(to: input, atomically: true, encoding: .utf8)
        let labelled = folder.appendingPathComponent("labelled.jsonl")
        let args = ["label", "--teacher", "bert:\(out.path)", "--labels", labels.joined(separator: ","), "--input", input.path,
                    "--out", labelled.path, "--max-length", "32", "--group-by", "text"]
        let cli = try runDistill(args)
        #expect(cli.status == 0, "\(cli.stderr)")
        let rows = try String(contentsOf: labelled, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        for (row, answer) in zip(rows, answers) {
            let p = try #require(row["probabilities"] as? [String: Double])
            for (i, name) in labels.enumerated() { #expect(abs(p[name]! - Double(answer.label!.probabilities[i])) < 2e-6) }
            #expect(row["method"] as? String == "logits")
        }
        let again = try runDistill(args)
        #expect(again.stdout.contains("\"cacheHits\":5") && again.stdout.contains("\"labelledNow\":0"))

        // A teacher whose head lacks a run label is refused with the file named.
        #expect(throws: DistillError.self) { _ = try BertTeacher(folder: out, labels: labels + ["cosmic-rays"]) }
    }
}
