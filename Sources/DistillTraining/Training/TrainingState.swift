import DistillCore
import DistillNN
import DistillText
import Foundation

/// Where a run is: everything besides weights and optimizer moments that a resumed run needs.
struct TrainingState: Codable, Equatable {
    var step = 0
    var epoch = 0
    /// Next batch index within the epoch.
    var batch = 0
    var dropoutGenerator: [UInt64]
    var bestMetric = -1.0  // every metric is >= 0
    var evaluationsWithoutImprovement = 0
    var stoppedEarly = false
    /// The run's configuration and data (see `DistillationTrainer.fingerprint`).
    var fingerprint: String?
}

extension DistillationTrainer {
    /// Writes weights, optimizer state and position into a staging folder, then swaps it in for
    /// `checkpoint/`: a kill at any moment leaves the previous complete checkpoint or the new one. The best
    /// evaluation's weights held in memory are written to `best/` before.
    func saveCheckpoint() throws {
        // `best/` first: the checkpoint's best metric is then never ahead of the weights in `best/`.
        try saveBest()
        let fm = FileManager.default
        removeStaleCheckpointFolders()
        let staging = output.appendingPathComponent(".checkpoint.saving-\(getpid())")
        try? fm.removeItem(at: staging)
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        try SafetensorsWriter.write(trainable.stateDict(), to: staging.appendingPathComponent("model.safetensors"))
        let (step, moments) = optimizer.state(copy: false)  // written before the next update
        try SafetensorsWriter.write(moments, to: staging.appendingPathComponent("optimizer.safetensors"),
                                    metadata: ["step": String(step)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(state).write(to: staging.appendingPathComponent("state.json"))
        let old = output.appendingPathComponent(".checkpoint.old-\(getpid())")
        if fm.fileExists(atPath: checkpointFolder.path) { try fm.moveItem(at: checkpointFolder, to: old) }
        try fm.moveItem(at: staging, to: checkpointFolder)
        try? fm.removeItem(at: old)
    }

    /// The newest complete checkpoint: `checkpoint/`, or — when a kill fell between the two renames of a swap —
    /// the complete staging folder or the previous checkpoint left beside it.
    func completeCheckpoint() -> URL? { Self.completeCheckpoint(in: output) }

    /// The newest complete checkpoint in the run folder `output`, or nil.
    public static func completeCheckpoint(in output: URL) -> URL? {
        let fm = FileManager.default
        func complete(_ url: URL) -> Bool {
            ["model.safetensors", "optimizer.safetensors", "state.json"].allSatisfy { fm.fileExists(atPath: url.appendingPathComponent($0).path) }
        }
        let main = output.appendingPathComponent("checkpoint")
        if complete(main) { return main }
        let siblings = ((try? fm.contentsOfDirectory(atPath: output.path)) ?? []).filter { $0.hasPrefix(".checkpoint.") }
            .map { output.appendingPathComponent($0) }.filter(complete)
        return siblings.max { checkpointStep($0) < checkpointStep($1) }
    }

    /// The step a checkpoint folder was saved at (-1 when its state cannot be read).
    public static func checkpointStep(_ checkpoint: URL) -> Int {
        ((try? JSONDecoder().decode(TrainingState.self, from: Data(contentsOf: checkpoint.appendingPathComponent("state.json"))))?.step) ?? -1
    }

    /// Removes staging/old checkpoint folders of earlier processes, once a complete `checkpoint/` exists.
    func removeStaleCheckpointFolders() {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: checkpointFolder.path) || completeCheckpoint() == checkpointFolder else { return }
        for name in (try? fm.contentsOfDirectory(atPath: output.path)) ?? [] where name.hasPrefix(".checkpoint.") {
            try? fm.removeItem(at: output.appendingPathComponent(name))
        }
    }

    /// Restores weights, optimizer state and position from a checkpoint folder.
    func loadCheckpoint(from folder: URL) throws {
        let stateURL = folder.appendingPathComponent("state.json")
        do {
            state = try JSONDecoder().decode(TrainingState.self, from: Data(contentsOf: stateURL))
        } catch {
            throw DistillError.checkpoint(path: stateURL.path, detail: "cannot read training state: \(fileErrorReason(error))")
        }
        if let saved = state.fingerprint, saved != fingerprint {
            throw DistillError.checkpointOfAnotherRun(path: stateURL.path)
        }
        try trainable.load(from: SafetensorsFile(url: folder.appendingPathComponent("model.safetensors")))
        let optimizerFile = try SafetensorsFile(url: folder.appendingPathComponent("optimizer.safetensors"))
        guard let step = optimizerFile.metadata["step"].flatMap(Int.init) else {
            throw DistillError.checkpoint(path: optimizerFile.path, detail: "missing 'step' metadata")
        }
        try optimizer.load(step: step, tensors: optimizerFile.floatTensors(), parameters: trainable.trainableParameters)
    }

    /// Drops log lines written after `step` (a killed run may have logged steps its checkpoint does not hold).
    func truncateLog(after step: Int) throws {
        guard let data = try? Data(contentsOf: logURL) else { return }
        var kept: [Substring] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let s = object["step"] as? Int else { continue }
            if s <= step { kept.append(line) }
        }
        try Data((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8).write(to: logURL, options: .atomic)
    }
}

/// Appends JSON lines to the training log, buffered.
struct LogWriter {
    let handle: FileHandle
    /// Lines not yet written: flushed every 64 KB and before each checkpoint (a kill loses at most lines after the
    /// last checkpoint, which a resumed run writes again).
    private var pending: [UInt8] = []

    init(url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    mutating func append(_ object: [String: Any]) throws {
        pending += try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try endLine()
    }

    /// One step's line, `{"epoch":…,"hard":…,"loss":…,"lr":…,"soft":…,"step":…,"temperature":…}` with keys sorted as
    /// ``append(_:)`` writes them, without a `JSONSerialization` per step. Values must be finite (the trainer stops
    /// a diverged run before).
    mutating func appendStep(step: Int, epoch: Int, values: KeyValuePairs<String, Float>) throws {
        var fields = values.map { ($0.key, "\(Double($0.value))") }
        fields += [("epoch", String(epoch)), ("step", String(step))]
        fields.sort { $0.0 < $1.0 }
        pending += Array(("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}").utf8)
        try endLine()
    }

    private mutating func endLine() throws {
        pending.append(0x0A)
        if pending.count >= 1 << 16 { try flush() }
    }

    /// Writes the pending lines.
    mutating func flush() throws {
        guard !pending.isEmpty else { return }
        try handle.write(contentsOf: pending)
        pending.removeAll(keepingCapacity: true)
    }
}

/// The student and the projections of every intermediate-distillation teacher, under one parameter tree
/// (`student.…`, `projections.TEACHER.N.…`): what the optimizer updates and checkpoints hold.
final class TrainableSet: Module {
    let student: any Module
    let intermediates: [IntermediateDistillation]
    init(student: any Module, intermediates: [IntermediateDistillation]) {
        self.student = student
        self.intermediates = intermediates
    }
    var children: [(String, ModuleChild)] {
        [("student", .module(student))] + intermediates.map { ("projections.\($0.name)", .module($0)) }
    }
}
