import Foundation
import GRDB

extension LabelStore {
    /// What ``merge(_:)`` did.
    public struct MergeSummary: Sendable, Equatable, Codable {
        /// Rows (answers and generations) copied in.
        public var added = 0
        /// Rows already present with the same answer.
        public var identical = 0
        /// Stored failures replaced by an answer from a later store.
        public var failuresReplaced = 0
        /// Rows present with a different answer: the one already here (from an earlier store) was kept.
        public var conflicts = 0
        /// Up to 5 conflicting rows, `teacher | key`.
        public var conflictExamples: [String] = []

        public init() {}
    }

    /// Copies every answer and generation of `other` into this store, in one transaction per 1,000 rows
    /// (committed as it goes, so a killed merge started again continues).
    ///
    /// A row (teacher identity with prompt version and label set, and key) already here is kept when its answer
    /// is the same (shards of one job never overlap; stores labelled twice by a deterministic server agree),
    /// replaced when it is a failure and `other` has an answer, and otherwise kept and counted as a conflict —
    /// the first store merged wins, whatever the others say.
    @discardableResult
    public func merge(_ other: LabelStore) throws -> MergeSummary {
        guard other.url.standardizedFileURL.resolvingSymlinksInPath() != url.standardizedFileURL.resolvingSymlinksInPath() else {
            throw StoreError(path: url.path, detail: "cannot merge a store into itself")
        }
        var summary = MergeSummary()
        do {
            try other.pool.read { source in
                try copy(from: source, table: "label", summary: &summary) { mine, theirs in
                    let same = Self.answerColumns.allSatisfy { (mine[$0] as DatabaseValue) == (theirs[$0] as DatabaseValue) }
                    if same { return .identical }
                    let mineFailed = (mine["status"] as String?) != "ok", theirsOK = (theirs["status"] as String?) == "ok"
                    return mineFailed && theirsOK ? .replace : .conflict
                }
                try copy(from: source, table: "generation", summary: &summary) { mine, theirs in
                    (mine["texts"] as DatabaseValue) == (theirs["texts"] as DatabaseValue) ? .identical : .conflict
                }
            }
        } catch let error as DatabaseError {
            throw StoreError(path: other.url.path, detail: error.message ?? "\(error)")
        }
        return summary
    }

    /// The columns that make two label rows the same answer (not when, how fast or after how many retries).
    static let answerColumns = ["text", "status", "probabilities", "method", "outside_mass", "raw_answer", "prompt_tokens",
                                "completion_tokens", "detail"]

    private enum Resolution { case identical, replace, conflict }

    private func copy(from source: Database, table: String, summary: inout MergeSummary,
                      resolve: (_ mine: Row, _ theirs: Row) -> Resolution) throws {
        let rows = try Row.fetchCursor(source, sql: "SELECT * FROM \(table) ORDER BY teacher, key")
        var batch: [Row] = []
        func flush() throws {
            guard !batch.isEmpty else { return }
            try pool.write { db in
                for row in batch {
                    let teacher: String = row["teacher"], key: String = row["key"]
                    if let mine = try Row.fetchOne(db, sql: "SELECT * FROM \(table) WHERE teacher = ? AND key = ?", arguments: [teacher, key]) {
                        switch resolve(mine, row) {
                        case .identical: summary.identical += 1; continue
                        case .conflict:
                            summary.conflicts += 1
                            if summary.conflictExamples.count < 5 { summary.conflictExamples.append("\(teacher) | \(key)") }
                            continue
                        case .replace: summary.failuresReplaced += 1
                        }
                    } else {
                        summary.added += 1
                    }
                    let columns = Array(row.columnNames)
                    let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
                    try db.execute(sql: "INSERT OR REPLACE INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(marks))",
                                   arguments: StatementArguments(columns.map { row[$0] as DatabaseValue }))
                }
            }
            batch.removeAll(keepingCapacity: true)
        }
        while let row = try rows.next() {
            batch.append(row.copy())
            if batch.count == 1000 { try flush() }
        }
        try flush()
    }
}
