/// A Float32 tensor: a shape and contiguous row-major storage.
///
/// Tensors are reference types so that parameters can be updated in place by optimizers and shared by
/// modules. Ops never mutate their inputs; they return new tensors and, while a ``Tape`` is recording,
/// remember how to send gradients back.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    /// Dimensions, outermost first. `[]` is a scalar.
    public let shape: [Int]
    /// The elements, shared with tensors made by ``reshaped(_:)``.
    public let storage: TensorStorage
    /// When false the tensor is a frozen parameter: ``valueAndGradient(of:rowSparse:_:)`` computes no gradient for it.
    public var requiresGrad: Bool = true

    // Autodiff bookkeeping: the tape that recorded this tensor and its node there (see Tape.swift).
    var tapeID: Int = 0
    var nodeIndex: Int = -1

    init(shape: [Int], storage: TensorStorage) {
        precondition(storage.count == Shapes.count(shape),
                     "Tensor: shape \(shape) needs \(Shapes.count(shape)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// A new buffer for `shape`, zero when `zeroed`, its elements otherwise not initialized.
    private init(newShape shape: [Int], zeroed: Bool) {
        for d in shape { precondition(d >= 0, "Tensor: negative dimension in shape \(shape)") }
        self.shape = shape
        self.storage = TensorStorage(count: Shapes.count(shape), zeroed: zeroed)
    }

    /// A tensor whose elements are not initialized: its maker fills every one before anything reads it.
    public convenience init(uninitializedShape shape: [Int]) {
        self.init(newShape: shape, zeroed: false)
    }

    /// A tensor of `shape` filled with zeros (a large new one takes memory only where it is written, see ``BufferPool``).
    public convenience init(zeros shape: [Int]) {
        self.init(newShape: shape, zeroed: true)
    }

    /// A tensor of `shape` with every element equal to `value`.
    public convenience init(repeating value: Float, shape: [Int]) {
        self.init(newShape: shape, zeroed: false)
        storage.pointer.update(repeating: value, count: storage.count)
    }

    /// A tensor of `shape` holding `scalars` in row-major order; traps if the counts differ.
    public init(shape: [Int], scalars: [Float]) {
        require(shape.allSatisfy { $0 >= 0 }, .countMismatch(op: "Tensor(shape:scalars:)", shape: shape, count: scalars.count))
        require(Shapes.count(shape) == scalars.count,
                .countMismatch(op: "Tensor(shape:scalars:)", shape: shape, count: scalars.count))
        self.shape = shape
        self.storage = TensorStorage(count: scalars.count, zeroed: false)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: scalars.count) }
    }

    /// A tensor of `shape` holding `scalars`, or a ``ShapeError`` if the counts differ.
    public static func checked(shape: [Int], scalars: [Float]) throws(ShapeError) -> Tensor {
        var product = 1
        for d in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow else { throw .countMismatch(op: "Tensor.checked", shape: shape, count: scalars.count) }
            product = next
        }
        guard product == scalars.count else {
            throw .countMismatch(op: "Tensor.checked", shape: shape, count: scalars.count)
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// A rank-0 tensor.
    public convenience init(_ value: Float) {
        self.init(shape: [], scalars: [value])
    }

    /// Number of elements.
    @inlinable public var count: Int { storage.count }
    /// Number of dimensions.
    @inlinable public var rank: Int { shape.count }
    /// The elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }
    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements, expected 1")
        return storage.pointer[0]
    }

    /// Read access to the elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Write access to the elements, for loaders and optimizers. Not recorded on any tape.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// A new tensor with the same elements and no autodiff history.
    public func copy() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        out.storage.pointer.update(from: storage.pointer, count: count)
        return out
    }

    /// The same storage without autodiff history: gradients stop here.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// Overwrites the elements with those of `other`, which must have the same shape.
    public func assign(_ other: Tensor) {
        require(other.shape == shape, .mismatch(op: "assign", shape, other.shape, detail: "shapes must be equal"))
        storage.pointer.update(from: other.storage.pointer, count: count)
    }

    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}
