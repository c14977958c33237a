import ArgumentParser
import DistillExamples
import DistillRuntime
import DistillTeachers
import Foundation

/// `distill label merge`: combine label stores (the shards of one job, or stores labelled apart) into one.
struct LabelMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine label stores (e.g. the shards of `distill label --shard`) into one.",
        discussion: """
        Every answer of every store is copied into --out (created if missing; an existing store is merged into). \
        A key answered the same way in two stores is kept once; a stored failure gives way to an answer; two \
        different answers for one key and teacher (a server that batched requests, a model file changed between \
        runs) keep the first store's, and are counted and named. A summary is printed as JSON on stdout.
        """
    )

    @Argument(help: "Label stores to merge, in order of precedence.")
    var stores: [String]

    @Option(help: "The merged store.")
    var out: String

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !stores.isEmpty else { throw ValidationError("give at least one store to merge") }
        for path in stores where !FileManager.default.fileExists(atPath: path) { throw ValidationError("\(path): no such label store") }
    }

    func run() throws {
        output.apply()
        let outURL = URL(fileURLWithPath: out)
        // The same lock `distill label` takes on a store: nothing labels into it meanwhile.
        let lock = try RunLock(outURL.appendingPathExtension("lock"))
        defer { withExtendedLifetime(lock) {} }
        let target = try LabelStore(url: outURL)
        var total = LabelStore.MergeSummary()
        for path in stores {
            let summary = try target.merge(LabelStore(url: URL(fileURLWithPath: path)))
            note("\(path): \(summary.added) added, \(summary.identical) already there, \(summary.failuresReplaced) failures replaced, \(summary.conflicts) conflicts")
            for example in summary.conflictExamples { note("  conflict (kept the earlier store's answer): \(example)") }
            total.added += summary.added
            total.identical += summary.identical
            total.failuresReplaced += summary.failuresReplaced
            total.conflicts += summary.conflicts
            total.conflictExamples += Array(summary.conflictExamples.prefix(max(0, 5 - total.conflictExamples.count)))
        }
        note("merged \(stores.count) stores into \(outURL.path): \(try target.count()) answers")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(total), as: UTF8.self))
    }
}
