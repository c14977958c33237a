import Foundation

/// Runs async work from synchronous code: the calling thread (not one of the concurrency pool's) waits. Only the
/// demo uses it, for its LLM second teacher (the demo does not run recipes yet).
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
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
