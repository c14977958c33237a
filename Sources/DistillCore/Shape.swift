import Foundation

/// Errors raised when tensor shapes do not fit an operation.
///
/// Ops trap with the same message (shape mismatches are programming errors inside a graph);
/// the throwing helpers below let callers that handle user data check first.
public enum ShapeError: Error, LocalizedError, Equatable {
    /// Two shapes cannot be broadcast together.
    case notBroadcastable([Int], [Int], op: String)
    /// The shapes are incompatible for `op`; `detail` says why.
    case mismatch(op: String, [Int], [Int], detail: String)
    /// A tensor had the wrong rank for `op`.
    case wrongRank(op: String, shape: [Int], expected: String)
    /// An axis is outside the tensor's rank.
    case invalidAxis(op: String, axis: Int, shape: [Int])
    /// The element count does not match the shape.
    case countMismatch(op: String, shape: [Int], count: Int)

    public var errorDescription: String? {
        switch self {
        case let .notBroadcastable(a, b, op):
            return "\(op): shapes \(a) and \(b) cannot be broadcast (each trailing dimension must be equal or 1)"
        case let .mismatch(op, a, b, detail):
            return "\(op): shapes \(a) and \(b) do not fit: \(detail)"
        case let .wrongRank(op, shape, expected):
            return "\(op): expected \(expected), got shape \(shape) (rank \(shape.count))"
        case let .invalidAxis(op, axis, shape):
            return "\(op): axis \(axis) is out of range for shape \(shape)"
        case let .countMismatch(op, shape, count):
            return "\(op): shape \(shape) holds \(shape.reduce(1, *)) elements, got \(count)"
        }
    }
}

/// Shape arithmetic shared by all ops.
public enum Shapes {
    /// The number of elements of `shape` (1 for a scalar `[]`).
    @inlinable
    public static func count(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape { n &*= d }
        return n
    }

    /// Row-major (C order) strides of `shape`, in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= shape[i]
        }
        return strides
    }

    /// The numpy broadcast of two shapes, or a ``ShapeError/notBroadcastable(_:_:op:)`` naming both.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String = "broadcast") throws(ShapeError) -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                throw .notBroadcastable(a, b, op: op)
            }
        }
        return out
    }

    /// Strides that read an array of shape `shape` as if it had the (broadcast) shape `target`:
    /// broadcast dimensions get stride 0.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        var out = [Int](repeating: 0, count: target.count)
        for i in 0..<target.count where i >= offset {
            out[i] = shape[i - offset] == 1 && target[i] != 1 ? 0 : own[i - offset]
        }
        return out
    }

    /// Resolves a possibly negative axis against `rank`, or throws naming the shape.
    public static func axis(_ axis: Int, rank: Int, shape: [Int], op: String) throws(ShapeError) -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else { throw .invalidAxis(op: op, axis: axis, shape: shape) }
        return a
    }
}

/// Traps with the error's message: used by ops, where a bad shape is a bug in the calling code.
@usableFromInline
func shapeCheck<T>(_ body: () throws(ShapeError) -> T) -> T {
    do {
        return try body()
    } catch {
        preconditionFailure(error.errorDescription ?? "shape error")
    }
}

@usableFromInline
func require(_ condition: Bool, _ error: @autoclosure () -> ShapeError) {
    if !condition { preconditionFailure(error().errorDescription ?? "shape error") }
}
