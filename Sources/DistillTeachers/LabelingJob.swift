import DistillKit
import DistillText
import Foundation

/// Labels a list of texts with a teacher through a ``LabelStore``: texts whose key is stored are not sent
/// again (with deduplication the key is the normalized log line, so lines of one template cost one call),
/// every answer is committed as it arrives, and the output is assembled from the store in input order, so an
/// interrupted run that is started again ends with the same output as an uninterrupted one.
public struct LabelingJob: Sendable {
    public var teacher: any Teacher
    public var store: LabelStore
    /// Key texts by their normalized form (level + masked message): repeated templates cost one call.
    public var deduplicate: Bool = true
    /// Ask again for stored off-label, malformed and rejected answers (unavailable ones are always retried).
    public var retryFailed: Bool = false
    /// Stop (keeping what is stored) after this many texts in a row came back unavailable: the server is down.
    public var maximumConsecutiveUnavailable: Int = 16

    public init(teacher: any Teacher, store: LabelStore) {
        self.teacher = teacher
        self.store = store
    }

    /// Identity plus label set: the store's teacher column.
    public var storeTeacher: String { teacher.identity + "|labels=" + teacher.labels.joined(separator: ",") }

    /// The key a text is stored under.
    public func key(_ text: String) -> String { deduplicate ? LabelingJob.templateKey(text) : text }

    /// The normalized form of a log line: its level and masked message (envelope and variables removed).
    public static func templateKey(_ text: String) -> String {
        let n = normalizer.normalize(text)
        return [n.level, n.masked].compactMap { $0 }.joined(separator: " ")
    }

    static let normalizer = LogNormalizer()

    /// Progress of a run, reported after every answer.
    public struct Progress: Sendable {
        /// Distinct keys answered (from the store or the teacher) out of `total`.
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

        /// `  812/2000 keys · 14.2 calls/s · 350 cached · 2 failed · ETA 1:24`
        public var line: String {
            var s = "\(done)/\(total) keys · " + String(format: "%.1f calls/s", requestRate) + " · \(cacheHits) cached · \(failures) failed"
            if let eta = etaSeconds, done < total { s += " · ETA " + formatDuration(eta) }
            return s
        }
    }

    /// What a run did.
    public struct Summary: Sendable, Codable, Equatable {
        public var texts: Int
        public var keys: Int
        public var cacheHits: Int
        public var labelledNow: Int
        public var requests: Int
        public var failures: [String: Int]
        public var methods: [String: Int]
        public var meanOutsideMass: Double
        public var seconds: Double
    }

    /// Labels `texts`; returns one answer per text (nil only if the run was stopped) and the summary.
    public func run(_ texts: [String], progress: @Sendable (Progress) -> Void = { _ in }) async throws -> (answers: [TeacherAnswer], summary: Summary) {
        let started = Date()
        let keys = texts.map(key)
        var firstText: [String: String] = [:]
        var order: [String] = []
        for (k, t) in zip(keys, texts) where firstText[k] == nil { firstText[k] = t; order.append(k) }
        let teacherKey = storeTeacher
        var answers = try store.entries(teacher: teacherKey, keys: order).mapValues(\.answer)
        let pending = order.filter { k in
            guard let a = answers[k] else { return true }
            if let f = a.failure { return f.isTransient || retryFailed }
            return false
        }
        let cacheHits = order.count - pending.count
        var state = Progress(done: cacheHits, total: order.count, cacheHits: cacheHits, requests: 0, failures: 0, elapsedSeconds: 0)
        progress(state)
        var consecutiveUnavailable = 0
        var seenSuccess = answers.values.contains { $0.label != nil }
        var heldFailures: [(String, TeacherAnswer)] = []  // not stored until the teacher has answered once: a misconfiguration then loses nothing
        let batch = max(1, teacher.preferredBatchSize), window = max(1, teacher.maxConcurrency)
        let batches = stride(from: 0, to: pending.count, by: batch).map { Array(pending[$0..<min($0 + batch, pending.count)]) }
        let teacher = self.teacher
        try await withThrowingTaskGroup(of: ([String], [TeacherAnswer]).self) { group in
            var next = 0
            func submit() {
                guard next < batches.count else { return }
                let keys = batches[next]
                let inputs = keys.map { firstText[$0]! }
                next += 1
                group.addTask { (keys, try await teacher.label(inputs)) }
            }
            for _ in 0..<min(window, batches.count) { submit() }
            while let (keys, results) = try await group.next() {
                for (k, answer) in zip(keys, results) {
                    answers[k] = answer
                    state.done += 1
                    switch answer {
                    case let .labelled(l):
                        state.requests += l.requests
                        consecutiveUnavailable = 0
                        if !seenSuccess {
                            seenSuccess = true
                            for (hk, ha) in heldFailures { try store.save(teacher: teacherKey, key: hk, text: firstText[hk]!, answer: ha) }
                            heldFailures = []
                        }
                        try store.save(teacher: teacherKey, key: k, text: firstText[k]!, answer: answer)
                    case let .failed(f):
                        state.requests += f.requests
                        state.failures += 1
                        consecutiveUnavailable = f.isTransient ? consecutiveUnavailable + 1 : 0
                        if seenSuccess { try store.save(teacher: teacherKey, key: k, text: firstText[k]!, answer: answer) } else { heldFailures.append((k, answer)) }
                        if consecutiveUnavailable >= maximumConsecutiveUnavailable {
                            group.cancelAll()
                            throw TeacherError.unreachable(url: teacher.identity, detail: "\(consecutiveUnavailable) texts in a row failed; last: \(f.detail). "
                                                           + "Answers so far are stored; run again to continue")
                        }
                        if !seenSuccess && heldFailures.count >= min(8, pending.count) {
                            group.cancelAll()
                            throw TeacherError.configuration(key: "teacher", detail: "the first \(heldFailures.count) texts all failed (last: \(f.errorDescription!)); "
                                                             + "check the server, model and constraint settings")
                        }
                    }
                }
                state.elapsedSeconds = Date().timeIntervalSince(started)
                progress(state)
                submit()
            }
        }
        var failures: [String: Int] = [:], methods: [String: Int] = [:]
        var outside = 0.0, labelled = 0
        for k in order {
            switch answers[k]! {
            case let .labelled(l): methods[l.method.rawValue, default: 0] += 1; outside += Double(l.outsideMass); labelled += 1
            case let .failed(f): failures[f.kind.rawValue, default: 0] += 1
            }
        }
        let summary = Summary(texts: texts.count, keys: order.count, cacheHits: cacheHits, labelledNow: pending.count, requests: state.requests,
                              failures: failures, methods: methods, meanOutsideMass: labelled > 0 ? outside / Double(labelled) : 0,
                              seconds: Date().timeIntervalSince(started))
        return (keys.map { answers[$0]! }, summary)
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
