import DistillCore
import DistillNN
import DistillRuntime
import DistillTeachers
import DistillText
import DistillTraining
import Foundation

/// Soft labels of one recipe teacher for a list of texts, computed once and cached in the run folder
/// (`teachers/NAME.safetensors`, keyed by a hash of the texts and the teacher), so a resumed or repeated run
/// never pays for labelling twice.
///
/// A `bert` teacher comes from `loaded` (read from its folder once per run). `openai` teachers are asked by
/// DistillRecipes (through the label store), not here.
///
/// - Parameter progress: told `(done, total)` after each chunk a `bert` teacher labels (not called for cached labels).
public func teacherDistributions(_ teacher: Recipe.Teacher, texts: [String], labels: [String], cacheFolder: URL,
                                 maxLength: Int? = nil, loaded: LoadedTeachers = LoadedTeachers(),
                                 progress: (Int, Int) -> Void = { _, _ in }) throws -> [[Float]?] {
    switch teacher.kind {
    case .openAI:
        throw DistillError.invalidData(file: "recipe", line: 0, detail: "teacher '\(teacher.name)' (kind: openai) is asked through the label store: run the recipe with `distill train` or `distill label --recipe`")
    case let .softLabels(url):
        return try storedDistributions(url, texts: texts, labels: labels)
    case let .bert(folder):
        try FileManager.default.createDirectory(at: cacheFolder, withIntermediateDirectories: true)
        let cache = cacheFolder.appendingPathComponent("\(teacher.name).safetensors")
        let key = String(Fingerprint.of(texts + [folder.path, labels.joined(separator: "\u{1}"), "\(maxLength.map(String.init) ?? "folder")", weightsIdentity(folder)]), radix: 16)
        if let file = try? SafetensorsFile(url: cache), file.metadata["key"] == key, let t = try? file.tensor("probabilities"),
           t.shape == [texts.count, labels.count] {
            let v = t.scalars
            return (0..<texts.count).map { Array(v[($0 * labels.count)..<(($0 + 1) * labels.count)]) }
        }
        let (model, tokenizer) = try loaded.classifier(folder)
        let bert = try BertTeacher(model: model, tokenizer: tokenizer, folder: folder, labels: labels, maxLength: maxLength, name: teacher.name)
        var rows: [(probabilities: [Float], outsideMass: Float)] = []
        rows.reserveCapacity(texts.count)
        for start in stride(from: 0, to: texts.count, by: 512) {
            rows += bert.distributions(Array(texts[start..<min(start + 512, texts.count)]))
            progress(rows.count, texts.count)
        }
        try SafetensorsWriter.write(["probabilities": Tensor(shape: [texts.count, labels.count], scalars: rows.flatMap(\.probabilities))], to: cache,
                                    metadata: ["key": key, "teacher": folder.path])
        return rows.map(\.probabilities)
    }
}

/// `{"text": …, "probabilities": {"label": p, …}}` lines, matched to `texts` by text (nil where absent). Lines
/// with an `error` field (a text the teacher failed on, as `distill label` writes them) are skipped.
func storedDistributions(_ url: URL, texts: [String], labels: [String]) throws -> [[Float]?] {
    let reader = try LineReader(path: url.path)
    // Only the rows of the texts asked for are kept: a store may hold millions of lines.
    let wanted = Set(texts)
    var byText: [String: [Float]] = [:]
    while let line = try reader.next() {
        if let problem = line.problem { throw DistillError.invalidData(file: url.path, line: line.number, detail: problem.message) }
        guard let text = line.text, !text.allSatisfy(\.isWhitespace) else { continue }
        let parsed = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        if let parsed, parsed["error"] != nil, parsed["probabilities"] == nil { continue }
        guard let object = parsed, let t = object["text"] as? String, let probabilities = object["probabilities"] as? [String: Any] else {
            throw DistillError.invalidData(file: url.path, line: line.number, detail: "expected {\"text\": …, \"probabilities\": {label: p}}")
        }
        var row = [Float](repeating: 0, count: labels.count)
        for (name, value) in probabilities {
            guard let i = labels.firstIndex(of: name) else {
                throw DistillError.invalidData(file: url.path, line: line.number, detail: "label '\(name)' is not in the label set")
            }
            guard let p = (value as? NSNumber)?.floatValue, p >= 0, p.isFinite else {
                throw DistillError.invalidData(file: url.path, line: line.number, detail: "probability of '\(name)' must be a number >= 0")
            }
            row[i] = p
        }
        let total = row.reduce(0, +)
        guard total > 0 else { throw DistillError.invalidData(file: url.path, line: line.number, detail: "probabilities sum to 0") }
        if wanted.contains(t) { byText[t] = row.map { $0 / total } }
    }
    return texts.map { byText[$0] }
}
