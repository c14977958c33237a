import Foundation
import GRDB

/// Soft labels already paid for, in SQLite (WAL, one committed row per answer, so a kill -9 loses at most the
/// answers in flight). Key: teacher identity (model, prompt version, label set) + the text's key (its normalized
/// form when deduplicating). Value: the distribution and how it was obtained, or the failure.
public final class LabelStore: Sendable {
    public let url: URL
    let pool: DatabasePool

    /// Opens or creates the store. A file that is not a Distill label store (or is corrupt) is an error naming it.
    public init(url: URL) throws {
        self.url = url
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            pool = try DatabasePool(path: url.path, configuration: configuration)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.create(table: "label", options: [.withoutRowID]) { t in
                    t.column("teacher", .text).notNull()
                    t.column("key", .text).notNull()
                    t.column("text", .text).notNull()
                    t.column("status", .text).notNull()
                    t.column("probabilities", .text)
                    t.column("method", .text)
                    t.column("outside_mass", .double)
                    t.column("raw_answer", .text)
                    t.column("prompt_tokens", .integer)
                    t.column("completion_tokens", .integer)
                    t.column("requests", .integer).notNull()
                    t.column("latency_ms", .double).notNull()
                    t.column("detail", .text)
                    t.column("created_at", .double).notNull()
                    t.primaryKey(["teacher", "key"])
                }
            }
            migrator.registerMigration("v2-generations") { db in
                try db.create(table: "generation", options: [.withoutRowID]) { t in
                    t.column("teacher", .text).notNull()
                    t.column("key", .text).notNull()
                    t.column("texts", .text).notNull()  // JSON array
                    t.column("failed", .integer).notNull()
                    t.column("created_at", .double).notNull()
                    t.primaryKey(["teacher", "key"])
                }
            }
            try migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw StoreError(path: url.path, detail: error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT
                ? "not a SQLite database or corrupt (\(error.message ?? "\(error.resultCode)")); move it away to start a new store"
                : "\(error.message ?? "\(error)")")
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(path: url.path, detail: error.localizedDescription)
        }
    }

    /// A store error naming the database file.
    public struct StoreError: Error, LocalizedError, Equatable {
        public var path: String
        public var detail: String
        public var errorDescription: String? { "\(path): \(detail)" }
    }

    /// One stored answer.
    public struct Entry: Sendable, Equatable {
        public var key: String
        /// The text that was sent to the teacher.
        public var text: String
        public var answer: TeacherAnswer
    }

    /// The stored answers for `keys` of `teacher` (absent keys are missing from the result).
    public func entries(teacher: String, keys: [String]) throws -> [String: Entry] {
        var out: [String: Entry] = [:]
        try wrap {
            try pool.read { db in
                for start in stride(from: 0, to: keys.count, by: 500) {
                    let chunk = Array(keys[start..<min(start + 500, keys.count)])
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                    let rows = try Row.fetchAll(db, sql: "SELECT * FROM label WHERE teacher = ? AND key IN (\(marks))",
                                                arguments: StatementArguments([teacher] + chunk))
                    for row in rows { let e = try entry(row); out[e.key] = e }
                }
            }
        }
        return out
    }

    /// Every key stored for `teacher` (for all teachers when nil).
    public func keys(teacher: String? = nil) throws -> Set<String> {
        try wrap {
            try pool.read { db in
                guard let teacher else { return Set(try String.fetchAll(db, sql: "SELECT key FROM label")) }
                return Set(try String.fetchAll(db, sql: "SELECT key FROM label WHERE teacher = ?", arguments: [teacher]))
            }
        }
    }

    /// Texts an LLM generated for `key` (paraphrases), if stored.
    public func generation(teacher: String, key: String) throws -> [String]? {
        try wrap {
            try pool.read { db in
                guard let json = try String.fetchOne(db, sql: "SELECT texts FROM generation WHERE teacher = ? AND key = ?", arguments: [teacher, key]) else { return nil }
                return (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String] ?? []
            }
        }
    }

    /// Stores generated texts for `key`, committed before returning.
    public func saveGeneration(teacher: String, key: String, texts: [String], failed: Int) throws {
        let json = String(decoding: (try? JSONSerialization.data(withJSONObject: texts)) ?? Data("[]".utf8), as: UTF8.self)
        try wrap {
            try pool.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO generation (teacher, key, texts, failed, created_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [teacher, key, json, failed, Date().timeIntervalSince1970])
            }
        }
    }

    /// Number of answers stored for `teacher` (all teachers when nil).
    public func count(teacher: String? = nil) throws -> Int {
        try wrap {
            try pool.read { db in
                if let teacher { return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM label WHERE teacher = ?", arguments: [teacher]) ?? 0 }
                return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM label") ?? 0
            }
        }
    }

    /// Stores (or replaces) one answer, committed before returning.
    public func save(teacher: String, key: String, text: String, answer: TeacherAnswer) throws {
        try save(teacher: teacher, entries: [(key, text)], answer: answer)
    }

    /// Stores (or replaces) one answer under several keys (the lines of one template), in one transaction
    /// committed before returning.
    public func save(teacher: String, entries: [(key: String, text: String)], answer: TeacherAnswer) throws {
        guard !entries.isEmpty else { return }
        try wrap {
            try pool.write { db in
                for (key, text) in entries { try insert(db, teacher: teacher, key: key, text: text, answer: answer) }
            }
        }
    }

    private func insert(_ db: Database, teacher: String, key: String, text: String, answer: TeacherAnswer) throws {
        var values: [(String, (any DatabaseValueConvertible)?)] = [("teacher", teacher), ("key", key), ("text", text), ("created_at", Date().timeIntervalSince1970)]
        switch answer {
        case let .labelled(l):
            let p = "[" + l.probabilities.map { "\($0)" }.joined(separator: ",") + "]"
            values += [("status", "ok"), ("probabilities", p), ("method", l.method.rawValue), ("outside_mass", Double(l.outsideMass)),
                       ("raw_answer", l.rawAnswer), ("prompt_tokens", l.promptTokens), ("completion_tokens", l.completionTokens),
                       ("requests", l.requests), ("latency_ms", l.latencySeconds * 1000), ("detail", nil)]
        case let .failed(f):
            values += [("status", f.kind.rawValue), ("probabilities", nil), ("method", nil), ("outside_mass", nil), ("raw_answer", f.rawAnswer),
                       ("prompt_tokens", nil), ("completion_tokens", nil), ("requests", f.requests), ("latency_ms", 0.0), ("detail", f.detail)]
        }
        let columns = values.map(\.0).joined(separator: ", ")
        let marks = Array(repeating: "?", count: values.count).joined(separator: ", ")
        try db.execute(sql: "INSERT OR REPLACE INTO label (\(columns)) VALUES (\(marks))",
                       arguments: StatementArguments(values.map { $0.1?.databaseValue ?? .null }))
    }

    private func entry(_ row: Row) throws -> Entry {
        let key: String = row["key"], text: String = row["text"], status: String = row["status"]
        if status == "ok" {
            let raw: String = row["probabilities"] ?? "[]"
            let numbers = raw.dropFirst().dropLast().split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            let method = LabelMethod(rawValue: row["method"] ?? "") ?? .logprobs
            let outside: Double = row["outside_mass"] ?? 0
            let latency: Double = row["latency_ms"] ?? 0
            return Entry(key: key, text: text, answer: .labelled(TeacherLabel(
                probabilities: numbers, method: method, outsideMass: Float(outside), rawAnswer: row["raw_answer"], promptTokens: row["prompt_tokens"],
                completionTokens: row["completion_tokens"], requests: row["requests"] ?? 0, latencySeconds: latency / 1000)))
        }
        guard let kind = TeacherFailure.Kind(rawValue: status) else {
            throw StoreError(path: url.path, detail: "row '\(key)' has unknown status '\(status)' (written by a newer Distill?)")
        }
        return Entry(key: key, text: text, answer: .failed(TeacherFailure(kind: kind, detail: row["detail"] ?? "", rawAnswer: row["raw_answer"],
                                                                          requests: row["requests"] ?? 0)))
    }

    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DatabaseError {
            throw StoreError(path: url.path, detail: error.message ?? "\(error)")
        }
    }
}
