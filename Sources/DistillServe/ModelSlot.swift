import DistillRuntime
import Foundation
import Synchronization

/// The classifier currently served. A reload builds the new classifier beside the old one and swaps the
/// reference; requests already running finish on the model they started with, so none fails.
public final class ModelSlot: Sendable {
    private let current: Mutex<Classifier>
    private let options: ServeOptions

    public init(options: ServeOptions) throws {
        self.options = options
        current = Mutex(try Classifier.load(from: options.model, cacheCapacity: options.cacheCapacity, maxLength: options.maxLength, overrides: options.decision))
    }

    public var classifier: Classifier { current.withLock { $0 } }

    /// Loads the folder again and swaps it in; on error the old model stays.
    @discardableResult
    public func reload() throws -> Classifier {
        let fresh = try Classifier.load(from: options.model, cacheCapacity: options.cacheCapacity, maxLength: options.maxLength, overrides: options.decision)
        current.withLock { $0 = fresh }
        return fresh
    }
}
