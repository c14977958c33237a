import DistillText
import DistillTraining
import Foundation

/// Labels a list of texts with a teacher through a ``LabelStore``: lines that share a question (by default one
/// per template, see ``LabelGrouping``) cost one call, every answer is committed as it arrives under each line's
/// key, and the output is assembled from the store in input order, so an interrupted run that is started again
/// ends with the same output as an uninterrupted one.
public struct LabelingJob: Sendable {
    public var teacher: any Teacher
    public var store: LabelStore
    /// Which lines share one question.
    public var grouping: LabelGrouping = .standard
    /// Ask again for stored off-label, malformed and rejected answers (unavailable ones are always retried).
    public var retryFailed: Bool = false
    /// Stop (keeping what is stored) after this many texts in a row came back unavailable: the server is down.
    public var maximumConsecutiveUnavailable: Int = 16

    public init(teacher: any Teacher, store: LabelStore) {
        self.teacher = teacher
        self.store = store
    }

    /// Identity plus label set: the store's teacher column. Template grouping stores each line's key with the
    /// answer its template got, so it has a column of its own (switching back to `line` asks each line again).
    public var storeTeacher: String {
        teacher.identity + "|labels=" + teacher.labels.joined(separator: ",") + (grouping == .template ? "|group=template" : "")
    }

    /// The key a text is stored under: the text itself, or its level and masked message.
    public func key(_ text: String) -> String { grouping == .text ? text : LabelingJob.templateKey(text) }

    /// The normalized form of a log line: its level and masked message (envelope and variables removed).
    public static func templateKey(_ text: String) -> String {
        let n = normalizer.normalize(text)
        return [n.level, n.masked].compactMap { $0 }.joined(separator: " ")
    }

    /// The template of a key (level and masked message) on its own: every token that holds a digit or a
    /// placeholder becomes `<*>`, so keys that differ only in identifiers the masker keeps (`job_1445_0020`,
    /// `user42`) or in the kind of a masked value (`<NUM>`, `<HEX>`) have one template, while plain words stay;
    /// runs of whitespace (padding) count as one space.
    public static func template(ofKey key: String) -> String {
        tokens(ofKey: key).joined(separator: " ")
    }

    static func tokens(ofKey key: String) -> [Substring] {
        key.split(whereSeparator: { $0 == " " || $0 == "\t" })
            .map { token in token.utf8.contains { ($0 >= 48 && $0 <= 57) || $0 == 60 } ? "<*>" : token }
    }

    /// A word position is a variable when at least this many templates (of ``template(ofKey:)``) differ only
    /// there, each with its own word: user and host names (`Invalid user oracle`, `Invalid user chen`, …). Fewer
    /// distinct words (`refused`, `established`, `closed`; `RUNNING`, `FAILED`) stay constant.
    public static let variableWordThreshold = 8
    /// Templates longer than this many tokens skip the variable-word pass (its time grows with length squared).
    static let variableWordMaxTokens = 64

    /// The template of each key of a set: ``template(ofKey:)``, then the word positions where at least
    /// ``variableWordThreshold`` templates differ only there become `<*>` (the first such position). Depends
    /// on the set, not on its order.
    public static func templates(_ keys: some Collection<String>) -> [String: String] {
        var own: [String: [Substring]] = [:]
        for k in keys where own[k] == nil { own[k] = tokens(ofKey: k) }
        let distinct = Array(Set(own.values))
        // Per template with one word position blanked (a 64-bit hash of the rest and the position): the words seen
        // there. Memory stays one hash per word position, whatever the number of keys.
        func blanked(_ t: [Substring], _ p: Int) -> Int {
            var h = Hasher()
            h.combine(t.count)
            h.combine(p)
            for (i, token) in t.enumerated() where i != p { h.combine(token) }
            return h.finalize()
        }
        var wordsAt: [Int: Set<Substring>] = [:]
        for t in distinct where t.count <= variableWordMaxTokens {
            for p in t.indices where t[p] != "<*>" { wordsAt[blanked(t, p), default: []].insert(t[p]) }
        }
        var merged: [[Substring]: String] = [:]
        for t in distinct {
            var out = t
            if t.count <= variableWordMaxTokens,
               let p = t.indices.first(where: { t[$0] != "<*>" && (wordsAt[blanked(t, $0)]?.count ?? 0) >= variableWordThreshold }) {
                out[p] = "<*>"
            }
            merged[t] = out.joined(separator: " ")
        }
        return own.mapValues { merged[$0]! }
    }

    /// The question each key belongs to (indices into `keys`, numbered in order of first appearance): with
    /// `.template` one per template of ``templates(_:)`` over `keys` and `alsoKnown` (keys stored by earlier
    /// runs, so that their templates come out the same), else one per key.
    public static func questions(_ keys: [String], grouping: LabelGrouping, alsoKnown: Set<String> = []) -> [Int] {
        guard grouping == .template else { return Array(keys.indices) }
        let templateOf = templates(alsoKnown.union(keys))
        var number: [String: Int] = [:]
        for (i, group) in members(keys, question: { templateOf[$0]! }).enumerated() { for k in group { number[k] = i } }
        return keys.map { number[$0]! }
    }

    /// `keys` grouped by their question, the groups in order of first appearance.
    static func members(_ keys: [String], question: (String) -> String) -> [[String]] {
        var members: [[String]] = [], index: [String: Int] = [:]
        for k in keys {
            let q = question(k)
            if let i = index[q] { members[i].append(k) } else { index[q] = members.count; members.append([k]) }
        }
        return members
    }

    static let normalizer = LogNormalizer()

    /// Progress of a run, reported after every answer.
    public struct Progress: Sendable {
        /// Questions answered (from the store or the teacher) out of `total`.
        public var done: Int
        public var total: Int
        public var cacheHits: Int
        /// Teacher calls (HTTP requests for an LLM) made in this run.
        public var requests: Int
        public var failures: Int
        public var elapsedSeconds: Double
        /// Answers from the teacher per second in this run.
        public var rate: Double { elapsedSeconds > 0 ? Double(done - cacheHits) / elapsedSeconds : 0 }
        public var requestRate: Double { elapsedSeconds > 0 ? Double(requests) / elapsedSeconds : 0 }
        public var etaSeconds: Double? { rate > 0 ? Double(total - done) / rate : nil }

        /// `  812/2000 questions · 14.2 calls/s · 350 cached · 2 failed · ETA 1:24`
        public var line: String {
            var s = "\(done)/\(total) questions · " + String(format: "%.1f calls/s", requestRate) + " · \(cacheHits) cached · \(failures) failed"
            if let eta = etaSeconds, done < total { s += " · ETA " + formatDuration(eta) }
            return s
        }
    }

    /// What a run did.
    public struct Summary: Sendable, Codable, Equatable {
        public var texts: Int
        /// Distinct keys (lines by level and masked message, or texts).
        public var keys: Int
        /// Distinct questions: keys grouped as ``LabelingJob/grouping`` says (as many as `keys` unless by template).
        public var questions: Int
        /// Questions whose answer was in the store (asked by an earlier run, or by another line of the template).
        public var cacheHits: Int
        /// Questions sent to the teacher in this run.
        public var labelledNow: Int
        public var requests: Int
        public var failures: [String: Int]
        public var methods: [String: Int]
        public var meanOutsideMass: Double
        public var seconds: Double
    }

    /// Labels `texts`; returns one answer per text and the summary.
    public func run(_ texts: [String], progress: @Sendable (Progress) -> Void = { _ in }) async throws -> (answers: [TeacherAnswer], summary: Summary) {
        let (keys, _, answers, summary) = try await label(texts, shard: nil, progress: progress)
        return (keys.map { answers[$0]! }, summary)
    }

    /// Labels the lines of `texts` that fall in `shard` (by their template over all of `texts`, so every shard
    /// of one input agrees on the templates and asks the questions an unsharded run would, each in one shard).
    /// Returns the indices of those lines in `texts`, their answers and the summary of the shard.
    public func run(_ texts: [String], shard: LabelShard, progress: @Sendable (Progress) -> Void = { _ in })
        async throws -> (lines: [Int], answers: [TeacherAnswer], summary: Summary) {
        let (keys, kept, answers, summary) = try await label(texts, shard: shard, progress: progress)
        let lines = keys.indices.filter { kept?.contains(keys[$0]) ?? true }
        return (lines, lines.map { answers[keys[$0]]! }, summary)
    }

    /// The template each line of `texts` belongs to for sharding: ``templates(_:)`` over the lines' keys
    /// (`keys` when they already are template keys).
    static func shardTemplates(_ texts: [String], keys: [String], grouping: LabelGrouping) -> [String] {
        let lineKeys = grouping == .text ? texts.map(templateKey) : keys
        let templateOf = templates(Set(lineKeys))
        return lineKeys.map { templateOf[$0]! }
    }

    /// Who asks what: each line's key, the first text of each key, the questions (keys that share one answer) and,
    /// with a shard, the keys it keeps.
    private struct Plan {
        var keys: [String]
        var firstText: [String: String] = [:]
        /// Distinct keys in input order (the shard's only, with one).
        var order: [String] = []
        var members: [[String]] = []
        /// Template of every key (this run's and the stored ones) when grouping by template.
        var templateOf: [String: String] = [:]
        var storedKeys: Set<String> = []
        var shardTexts: Int
        var kept: Set<String>?

        func entries(_ keys: [String]) -> [(key: String, text: String)] { keys.map { ($0, firstText[$0]!) } }
    }

    private func plan(_ texts: [String], shard: LabelShard?) throws -> Plan {
        var plan = Plan(keys: texts.map(key), shardTexts: texts.count)
        for (k, t) in zip(plan.keys, texts) where plan.firstText[k] == nil { plan.firstText[k] = t; plan.order.append(k) }
        // Templates over this run's keys and the stored ones (their answers answer new lines of a template).
        plan.storedKeys = grouping == .template ? try store.keys(teacher: storeTeacher) : []
        plan.templateOf = grouping == .template ? Self.templates(plan.storedKeys.union(plan.order)) : [:]
        let templateOf = plan.templateOf
        plan.members = Self.members(plan.order) { grouping == .template ? templateOf[$0]! : $0 }
        if let shard {
            // A question goes to the shard of its first line's template (one template per question unless the
            // store holds another input's keys: give each shard a new store).
            let lineTemplate = Self.shardTemplates(texts, keys: plan.keys, grouping: grouping)
            var templateOfKey: [String: String] = [:]
            for (k, t) in zip(plan.keys, lineTemplate) where templateOfKey[k] == nil { templateOfKey[k] = t }
            plan.members = plan.members.filter { shard.contains(template: templateOfKey[$0[0]]!) }
            plan.order = plan.members.flatMap { $0 }
            let inShard = Set(plan.order)
            plan.shardTexts = plan.keys.lazy.filter { inShard.contains($0) }.count
            plan.kept = inShard
        }
        return plan
    }

    /// The stored answers of the plan's keys, with questions an answer already settles (a stored answer of one of
    /// their keys or, by template, of an earlier run's line) saved for their open keys. Returns the questions left.
    private func answersFromStore(_ plan: Plan) throws -> (answers: [String: TeacherAnswer], pending: [[String]]) {
        var answers = try store.entries(teacher: storeTeacher, keys: plan.order).mapValues(\.answer)
        func settled(_ k: String) -> Bool {
            guard let a = answers[k] else { return false }
            if let f = a.failure { return !(f.isTransient || retryFailed) }
            return true
        }
        // Per question: the keys still to answer. A template with an answer under one of its keys — this run's
        // lines, or lines an earlier run labelled (first stored key in sorted order) — answers the rest without a call.
        var storedTemplateAnswer: [String: TeacherAnswer] = [:]
        if grouping == .template {
            let wanted = Set(plan.members.map { plan.templateOf[$0[0]]! })
            let candidates = plan.storedKeys.filter { wanted.contains(plan.templateOf[$0]!) }.sorted()
            let stored = try store.entries(teacher: storeTeacher, keys: candidates)
            for k in candidates {
                let t = plan.templateOf[k]!
                if storedTemplateAnswer[t] == nil, let e = stored[k], e.answer.label != nil { storedTemplateAnswer[t] = e.answer }
            }
        }
        var pending: [[String]] = []
        for group in plan.members {
            let open = group.filter { !settled($0) }
            if open.isEmpty { continue }
            let known = group.lazy.compactMap { answers[$0] }.first { $0.label != nil }
                ?? (grouping == .template ? storedTemplateAnswer[plan.templateOf[group[0]]!] : nil)
            if let known {
                try store.save(teacher: storeTeacher, entries: plan.entries(open), answer: known)
                for k in open { answers[k] = known }
            } else {
                pending.append(open)
            }
        }
        return (answers, pending)
    }

    /// `kept`: the keys of the shard (nil without one: every key).
    private func label(_ texts: [String], shard: LabelShard?, progress: @Sendable (Progress) -> Void)
        async throws -> (keys: [String], kept: Set<String>?, answers: [String: TeacherAnswer], summary: Summary) {
        let started = Date()
        let plan = try plan(texts, shard: shard)
        var (answers, pending) = try answersFromStore(plan)
        let cacheHits = plan.members.count - pending.count
        var state = Progress(done: cacheHits, total: plan.members.count, cacheHits: cacheHits, requests: 0, failures: 0, elapsedSeconds: 0)
        progress(state)
        try await ask(pending, plan: plan, answers: &answers, state: &state, started: started, progress: progress)
        var failures: [String: Int] = [:], methods: [String: Int] = [:]
        var outside = 0.0, labelled = 0
        for k in plan.order {
            switch answers[k]! {
            case let .labelled(l): methods[l.method.rawValue, default: 0] += 1; outside += Double(l.outsideMass); labelled += 1
            case let .failed(f): failures[f.kind.rawValue, default: 0] += 1
            }
        }
        let summary = Summary(texts: plan.shardTexts, keys: plan.order.count, questions: plan.members.count, cacheHits: cacheHits,
                              labelledNow: pending.count, requests: state.requests, failures: failures, methods: methods,
                              meanOutsideMass: labelled > 0 ? outside / Double(labelled) : 0, seconds: Date().timeIntervalSince(started))
        return (plan.keys, plan.kept, answers, summary)
    }

    /// Asks the teacher the `pending` questions, `maxConcurrency` batches in flight, storing each answer as it comes.
    /// Failures are held back until the teacher has answered once (a misconfiguration then stores nothing); too many
    /// unavailable answers in a row, or only failures at first, stop the job with what it has stored.
    private func ask(_ pending: [[String]], plan: Plan, answers: inout [String: TeacherAnswer], state: inout Progress, started: Date,
                     progress: @Sendable (Progress) -> Void) async throws {
        var consecutiveUnavailable = 0
        var seenSuccess = answers.values.contains { $0.label != nil }
        var heldFailures: [([String], TeacherAnswer)] = []
        let batch = max(1, teacher.preferredBatchSize), window = max(1, teacher.maxConcurrency)
        let batches = stride(from: 0, to: pending.count, by: batch).map { Array(pending[$0..<min($0 + batch, pending.count)]) }
        let teacher = self.teacher, teacherKey = storeTeacher
        try await withThrowingTaskGroup(of: ([[String]], [TeacherAnswer]).self) { group in
            var next = 0
            func submit() {
                guard next < batches.count else { return }
                let questions = batches[next]
                // The question is the first line (in input order) of its template.
                let inputs = questions.map { plan.firstText[$0[0]]! }
                next += 1
                group.addTask { (questions, try await teacher.label(inputs)) }
            }
            for _ in 0..<min(window, batches.count) { submit() }
            while let (questions, results) = try await group.next() {
                for (question, answer) in zip(questions, results) {
                    for k in question { answers[k] = answer }
                    state.done += 1
                    switch answer {
                    case let .labelled(l):
                        state.requests += l.requests
                        consecutiveUnavailable = 0
                        if !seenSuccess {
                            seenSuccess = true
                            for (held, ha) in heldFailures { try store.save(teacher: teacherKey, entries: plan.entries(held), answer: ha) }
                            heldFailures = []
                        }
                        try store.save(teacher: teacherKey, entries: plan.entries(question), answer: answer)
                    case let .failed(f):
                        state.requests += f.requests
                        state.failures += 1
                        consecutiveUnavailable = f.isTransient ? consecutiveUnavailable + 1 : 0
                        if seenSuccess { try store.save(teacher: teacherKey, entries: plan.entries(question), answer: answer) } else { heldFailures.append((question, answer)) }
                        if consecutiveUnavailable >= maximumConsecutiveUnavailable {
                            group.cancelAll()
                            throw TeacherError.unreachable(url: teacher.identity, detail: "\(consecutiveUnavailable) questions in a row failed; last: \(f.detail). "
                                                           + "Answers so far are stored; run again to continue")
                        }
                        if !seenSuccess && heldFailures.count >= min(8, pending.count) {
                            group.cancelAll()
                            throw TeacherError.configuration(key: "teacher", detail: "the first \(heldFailures.count) questions all failed (last: \(f.errorDescription!)); "
                                                             + "check the server, model and constraint settings")
                        }
                    }
                }
                state.elapsedSeconds = Date().timeIntervalSince(started)
                progress(state)
                submit()
            }
        }
    }

    /// Writes one JSON line per text, in input order (atomically): `{"text", "label", "probabilities": {label: p},
    /// "method", "outside_mass", "teacher"}` or, for a failure, `{"text", "error", "detail"}`. Files in this shape
    /// are what recipes read as `kind: soft-labels` teachers.
    public static func export(texts: [String], answers: [TeacherAnswer], labels: [String], teacher: String, to url: URL) throws {
        var out = Data()
        for (text, answer) in zip(texts, answers) {
            var o: [String: Any] = ["text": text]
            switch answer {
            case let .labelled(l):
                o["label"] = labels[l.argmax]
                o["probabilities"] = Dictionary(uniqueKeysWithValues: zip(labels, l.probabilities.map { (Double($0) * 1e6).rounded() / 1e6 }))
                o["method"] = l.method.rawValue
                o["outside_mass"] = (Double(l.outsideMass) * 1e6).rounded() / 1e6
                o["teacher"] = teacher
            case let .failed(f):
                o["error"] = f.kind.rawValue
                o["detail"] = f.detail
            }
            out.append(try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes]))
            out.append(0x0A)
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try out.write(to: url, options: .atomic)
    }
}

/// `1:05:09` / `4:07`.
func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}
