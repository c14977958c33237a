import DistillKit
import Foundation

/// Builds runnable teachers from recipe entries and labels recipe texts through the store.
public enum RecipeTeachers {
    /// The store a recipe's LLM teachers share: `<output>/labels.sqlite`.
    public static func storeURL(_ recipe: Recipe) -> URL { recipe.output.appendingPathComponent("labels.sqlite") }

    /// A teacher for a recipe entry (`bert` or `openai`; `soft-labels` files are read, not run).
    public static func teacher(_ entry: Recipe.Teacher, labels: [Recipe.Label], maxLength: Int = 128,
                               transport: any HTTPTransport = AsyncHTTPClientTransport()) async throws -> any Teacher {
        switch entry.kind {
        case let .bert(folder): return try BertTeacher(folder: folder, labels: labels.map(\.name), maxLength: maxLength)
        case let .openAI(spec): return try await OpenAITeacher.connect(spec: spec, labels: labels, transport: transport)
        case .softLabels:
            throw TeacherError.configuration(key: "kind", detail: "teacher '\(entry.name)' is a soft-labels file: it is read, not run")
        }
    }

    /// The labeller ``DistillationRun/execute(_:resume:log:progress:externalTeachers:)`` calls for `kind: openai`
    /// teachers: labels through ``storeURL(_:)`` (nothing is asked twice) and logs a summary.
    public static func labeler(recipe: Recipe, log: @escaping @Sendable (String) -> Void,
                               progress: @escaping @Sendable (LabelingJob.Progress) -> Void = { _ in }) -> ExternalTeacherLabeler {
        { entry, texts in
            try blocking {
                let teacher = try await RecipeTeachers.teacher(entry, labels: recipe.labels, maxLength: recipe.training.maxLength)
                let job = LabelingJob(teacher: teacher, store: try LabelStore(url: storeURL(recipe)))
                let (answers, summary) = try await job.run(texts, progress: progress)
                log("teacher \(entry.name): \(summary.keys) distinct texts, \(summary.cacheHits) from the store, \(summary.requests) requests, "
                    + "\(summary.failures.values.reduce(0, +)) failed \(summary.failures.isEmpty ? "" : "\(summary.failures)")")
                return answers.map { $0.label?.probabilities }
            }
        }
    }
}

/// Runs async work from synchronous code: the calling thread (not one of the concurrency pool's) waits.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// Written by the task, read by the waiting thread after the semaphore: no concurrent access.
private final class ResultBox<T>: @unchecked Sendable { var result: Result<T, any Error>? }
