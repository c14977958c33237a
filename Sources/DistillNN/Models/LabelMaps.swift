import Foundation

/// Checks a config's label maps: `id2label` keys are exactly "0"..."count-1" with distinct, non-empty names,
/// and `label2id` (when present) is its inverse. Two classes with one name would make answers ambiguous.
func checkLabelMaps(id2label: [String: String], label2id: [String: Int]?, path: String) throws {
    var seen: [String: Int] = [:]
    for i in 0..<id2label.count {
        guard let name = id2label[String(i)] else {
            throw ModelError.invalidConfig(path: path, key: "id2label", detail: "class ids must be 0..<\(id2label.count); \(i) is missing")
        }
        guard !name.isEmpty else { throw ModelError.invalidConfig(path: path, key: "id2label.\(i)", detail: "is an empty label name") }
        if let other = seen[name] {
            throw ModelError.invalidConfig(path: path, key: "id2label", detail: "classes \(other) and \(i) are both named '\(name)'")
        }
        seen[name] = i
    }
    guard let label2id else { return }
    guard label2id == seen else {
        let wrong = seen.keys.sorted().first { label2id[$0] != seen[$0] } ?? label2id.keys.sorted().first { seen[$0] == nil } ?? "?"
        throw ModelError.invalidConfig(path: path, key: "label2id",
            detail: "disagrees with id2label at '\(wrong)' (label2id: \(label2id[wrong].map(String.init) ?? "none"), id2label: \(seen[wrong].map(String.init) ?? "none"))")
    }
}
