import Foundation
import Yams

/// A recipe problem, located: file, line (1-based, 0 when unknown) and the dotted key.
public struct RecipeError: Error, LocalizedError, Equatable {
    public let file: String
    public let line: Int
    public let key: String
    public let detail: String

    public init(file: String, line: Int, key: String, detail: String) {
        (self.file, self.line, self.key, self.detail) = (file, line, key, detail)
    }

    public var errorDescription: String? { "\(file):\(line): \(key.isEmpty ? "" : "key '\(key)': ")\(detail)" }
}

/// Typed access to a YAML mapping that remembers which keys were read, so unknown keys (typos) are errors
/// naming the key and its line instead of being silently ignored.
struct YAMLMap {
    let mapping: Node.Mapping
    let path: String
    let file: String
    private var seen: Set<String> = []

    init(_ node: Node, path: String, file: String) throws {
        guard let mapping = node.mapping else {
            throw RecipeError(file: file, line: node.mark?.line ?? 0, key: path, detail: "expected a mapping of keys to values")
        }
        self.mapping = mapping
        self.path = path
        self.file = file
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func line(of node: Node?) -> Int { node?.mark?.line ?? 0 }

    /// Whether the mapping holds `key` (without marking it read).
    func has(_ key: String) -> Bool { mapping.contains { $0.key.string == key } }

    mutating func node(_ key: String) -> Node? {
        seen.insert(key)
        return mapping.first { $0.key.string == key }?.value
    }

    /// An error about `key`, located at `node`, else at the key's value, else at the mapping itself.
    func error(_ key: String, _ node: Node?, _ detail: String) -> RecipeError {
        let located = node ?? mapping.first { $0.key.string == key }?.value
        let line = located?.mark?.line ?? mapping.mark?.line ?? mapping.first?.key.mark?.line ?? 0
        return RecipeError(file: file, line: line, key: keyPath(key), detail: detail)
    }

    mutating func string(_ key: String) throws -> String? {
        guard let n = node(key), n.null == nil else { return nil }
        guard n.scalar != nil, let s = n.string else { throw error(key, n, "expected a string") }
        return s
    }

    /// One of an enum's raw values, or `current` when the key is absent.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ current: T) throws -> T where T.RawValue == String {
        guard let raw = try string(key) else { return current }
        guard let v = T(rawValue: raw) else { throw error(key, nil, "'\(raw)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))") }
        return v
    }

    mutating func requiredString(_ key: String) throws -> String {
        guard let s = try string(key) else { throw error(key, nil, "is required") }
        return s
    }

    /// A string or a non-empty list of strings.
    mutating func strings(_ key: String) throws -> [String]? {
        guard let n = node(key), n.null == nil else { return nil }
        if n.scalar != nil, let s = n.string { return [s] }
        guard let items = n.sequence, !items.isEmpty else { throw error(key, n, "expected a string or a non-empty list of strings, found \(n.found)") }
        return try items.map { item in
            guard item.scalar != nil, let s = item.string else { throw error(key, item, "expected a string, found \(item.found)") }
            return s
        }
    }

    mutating func int(_ key: String) throws -> Int? {
        guard let n = node(key), n.null == nil else { return nil }
        guard let v = n.int else { throw error(key, n, "expected an integer, found \(n.found)") }
        return v
    }

    /// ``int(_:)`` that must lie in `range` (sizes are bounded before anything is allocated from them).
    mutating func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = try int(key) else { return nil }
        guard range.contains(v) else { throw error(key, node(key), "must be in \(range.lowerBound)...\(range.upperBound), got \(v)") }
        return v
    }

    mutating func float(_ key: String) throws -> Float? {
        guard let n = node(key), n.null == nil else { return nil }
        guard let v = n.float else { throw error(key, n, "expected a number, found \(n.found)") }
        // .nan and .inf are YAML numbers but no recipe value means them (a NaN learning rate used to train, then
        // fail writing JSON, naming no key).
        guard v.isFinite, Float(v).isFinite else { throw error(key, n, "expected a finite number, found '\(n.string ?? "?")'") }
        return Float(v)
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let n = node(key), n.null == nil else { return nil }
        guard let v = n.bool else { throw error(key, n, "expected true or false, found \(n.found)") }
        return v
    }

    mutating func map(_ key: String) throws -> YAMLMap? {
        guard let n = node(key), n.null == nil else { return nil }
        return try YAMLMap(n, path: keyPath(key), file: file)
    }

    mutating func list(_ key: String) throws -> [Node]? {
        guard let n = node(key), n.null == nil else { return nil }
        guard let s = n.sequence else { throw error(key, n, "expected a list") }
        return Array(s)
    }

    /// Throws for the first key that was never read.
    func finish(allowed extra: Set<String> = []) throws {
        for (k, v) in mapping {
            guard let name = k.string else { continue }
            if !seen.contains(name) && !extra.contains(name) {
                let known = seen.sorted().joined(separator: ", ")
                throw RecipeError(file: file, line: line(of: k), key: keyPath(name), detail: "unknown key (known here: \(known))")
            }
            _ = v
        }
    }
}

extension Node {
    /// What a node is, for "expected …, found …" messages: the scalar quoted, else "a list" or "a mapping".
    var found: String {
        if let scalar { return "'\(scalar.string)'" }
        if sequence != nil { return "a list" }
        if mapping != nil { return "a mapping" }
        return "an alias"
    }
}
