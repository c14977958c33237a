import Foundation

/// Online log template mining in the style of Drain (He et al. 2017): masked messages are routed through a
/// fixed-depth parse tree (token count, then the first tokens) to a short list of templates; a message joins the
/// most similar template when enough of its tokens match, turning the differing positions into `<*>`, or starts a
/// new template. Template ids count up from 1 in order of creation and survive a save/load round trip, so they
/// are stable across runs that continue from saved state.
public final class TemplateMiner {
    /// One template and how many messages matched it.
    public struct Template: Codable, Equatable, Sendable {
        public let id: Int
        public internal(set) var tokens: [String]
        public internal(set) var count: Int
        /// The tree keys it was filed under when created (kept so a reload files it in the same place).
        let path: [String]
        public var text: String { tokens.joined(separator: " ") }
    }

    /// Tuning knobs (Drain3's defaults).
    public struct Options: Codable, Equatable, Sendable {
        /// Tokens that must match, as a fraction of the message length, to join a template.
        public var similarityThreshold: Double = 0.4
        /// Tree depth as Drain3 counts it: root, length level and leaf included, so `depth - 3` leading tokens
        /// route (never the last token).
        public var depth = 4
        /// Children per tree node before further tokens go to the wildcard child.
        public var maxChildren = 100
        public init() {}
    }

    public let options: Options
    public let masker: LogMasker
    public private(set) var templates: [Template] = []
    private var root = Node()

    private final class Node {
        var children: [String: Node] = [:]
        var templateIndices: [Int] = []
    }

    public init(options: Options = Options(), masks: LogMasks = .all) {
        self.options = options
        masker = LogMasker(masks: masks)
    }

    static let wildcard = "<*>"

    /// Adds a message (its envelope already removed) and returns the id of the template it joined or created.
    @discardableResult
    public func add(_ message: String) -> Int {
        let tokens = tokenize(message)
        let (leaf, path) = route(tokens, create: true)!
        if let best = bestMatch(tokens, in: leaf) {
            templates[best].count += 1
            var t = templates[best].tokens
            for i in t.indices where t[i] != tokens[i] { t[i] = Self.wildcard }
            templates[best].tokens = t
            return templates[best].id
        }
        templates.append(Template(id: templates.count + 1, tokens: tokens, count: 1, path: path))
        leaf.templateIndices.append(templates.count - 1)
        return templates.count
    }

    /// The id of the template `message` would join, without changing anything (nil if none is similar enough).
    public func match(_ message: String) -> Int? {
        let tokens = tokenize(message)
        guard let (leaf, _) = route(tokens, create: false), let best = bestMatch(tokens, in: leaf) else { return nil }
        return templates[best].id
    }

    func tokenize(_ message: String) -> [String] {
        masker.mask(message).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// The leaf for `tokens` and the keys taken to reach it (creating nodes when `create`).
    private func route(_ tokens: [String], create: Bool) -> (Node, [String])? {
        var keys = ["#\(tokens.count)"]
        var node: Node
        if let n = root.children[keys[0]] { node = n } else {
            guard create else { return nil }
            node = Node()
            root.children[keys[0]] = node
        }
        for token in tokens.prefix(min(max(0, options.depth - 3), max(0, tokens.count - 1))) {
            var key = token.contains(where: \.isNumber) || token.hasPrefix("<") ? Self.wildcard : token
            if node.children[key] == nil && node.children.count >= options.maxChildren { key = Self.wildcard }
            if let next = node.children[key] {
                node = next
            } else {
                guard create else { return nil }
                let next = Node()
                node.children[key] = next
                node = next
            }
            keys.append(key)
        }
        return (node, keys)
    }

    /// Follows stored keys exactly (loading), creating nodes as needed.
    private func follow(_ keys: [String]) -> Node {
        var node = root
        for key in keys {
            if let next = node.children[key] { node = next } else {
                let next = Node()
                node.children[key] = next
                node = next
            }
        }
        return node
    }

    private func bestMatch(_ tokens: [String], in leaf: Node) -> Int? {
        var best: (index: Int, score: Double, params: Int)?
        for i in leaf.templateIndices {
            let t = templates[i].tokens
            guard t.count == tokens.count else { continue }
            var same = 0, params = 0
            for (a, b) in zip(t, tokens) { if a == Self.wildcard { params += 1 } else if a == b { same += 1 } }
            let score = tokens.isEmpty ? 1 : Double(same) / Double(tokens.count)
            if best == nil || score > best!.score || (score == best!.score && params > best!.params) { best = (i, score, params) }
        }
        guard let best, best.score >= options.similarityThreshold else { return nil }
        return best.index
    }

    // MARK: persistence

    private struct State: Codable {
        var version = 1
        var options: Options
        var masks: Int
        var templates: [Template]
    }

    /// Writes the templates and options as JSON (atomically).
    public func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(State(options: options, masks: masker.masks.rawValue, templates: templates)).write(to: url, options: .atomic)
    }

    /// Restores a miner saved by ``save(to:)``; ids continue where they stopped.
    public static func load(from url: URL) throws -> TemplateMiner {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TokenizerError.cannotRead(path: url.path, reason: fileErrorReason(error)) }
        let state: State
        do { state = try JSONDecoder().decode(State.self, from: data) } catch {
            throw TokenizerError.invalidTokenizerJSON(path: url.path, key: "(root)", detail: "not a template-miner state file: \(error.localizedDescription)")
        }
        let miner = TemplateMiner(options: state.options, masks: LogMasks(rawValue: state.masks))
        for (i, t) in state.templates.enumerated() {
            guard t.id == i + 1 else {
                throw TokenizerError.invalidTokenizerJSON(path: url.path, key: "templates[\(i)].id", detail: "ids must be 1, 2, 3, … in order")
            }
            miner.templates.append(t)
            miner.follow(t.path).templateIndices.append(i)
        }
        return miner
    }
}

/// Grouping accuracy (Zhu et al. 2019), the standard log-parsing metric: the fraction of messages whose predicted
/// group holds exactly the same messages as their true group.
public func groupingAccuracy(predicted: [Int], truth: [Int]) -> Double {
    precondition(predicted.count == truth.count, "groupingAccuracy: \(predicted.count) predictions for \(truth.count) messages")
    var predictedGroups: [Int: [Int]] = [:], trueGroups: [Int: [Int]] = [:]
    for (i, (p, t)) in zip(predicted, truth).enumerated() {
        predictedGroups[p, default: []].append(i)
        trueGroups[t, default: []].append(i)
    }
    var correct = 0
    for (_, members) in predictedGroups where trueGroups[truth[members[0]]]! == members { correct += members.count }
    return predicted.isEmpty ? 1 : Double(correct) / Double(predicted.count)
}
