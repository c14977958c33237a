import Foundation
import Synchronization

/// Records the ops of one forward pass so that gradients can flow back through them.
///
/// A tape is active only inside ``valueAndGradient(of:_:)``; everywhere else ops record nothing, so
/// inference pays no autodiff cost. Each op that sees a tracked input appends one node holding its backward
/// closure (written next to the forward, in the op's file). Gradient buffers come from the ``BufferPool`` and
/// return to it as soon as the backward sweep has passed their node.
public final class Tape {
    /// Backward of one node: receives the tape and the gradient w.r.t. the node's output, and accumulates into
    /// the inputs' gradients through ``gradient(of:)``.
    public typealias Backward = (Tape, UnsafeMutablePointer<Float>) -> Void

    struct Node {
        let count: Int
        var backward: Backward?
        var grad: TensorStorage?
        let isLeaf: Bool
    }

    private static let nextID = Atomic<Int>(1)
    let id: Int
    var nodes: [Node] = []

    init() { id = Tape.nextID.add(1, ordering: .relaxed).newValue }

    /// The tape recording on this thread, or nil (inference / no-grad mode).
    public static var active: Tape? {
        guard let raw = pthread_getspecific(activeKey) else { return nil }
        return Unmanaged<Tape>.fromOpaque(raw).takeUnretainedValue()
    }

    static func setActive(_ tape: Tape?) {
        pthread_setspecific(activeKey, tape.map { Unmanaged.passUnretained($0).toOpaque() })
    }

    /// Whether `tensor` was recorded on this tape (so it needs a gradient).
    public func tracks(_ tensor: Tensor) -> Bool { tensor.tapeID == id }

    func registerLeaf(_ tensor: Tensor) {
        tensor.tapeID = id
        tensor.nodeIndex = nodes.count
        nodes.append(Node(count: tensor.count, backward: nil, grad: nil, isLeaf: true))
    }

    /// Appends a node producing `output`; `backward` runs during the backward sweep.
    public func record(_ output: Tensor, backward: @escaping Backward) {
        output.tapeID = id
        output.nodeIndex = nodes.count
        nodes.append(Node(count: output.count, backward: backward, grad: nil, isLeaf: false))
    }

    /// The gradient buffer of `tensor` (zero-filled on first use) to accumulate into, or nil when
    /// `tensor` needs no gradient (a constant or a frozen parameter).
    public func gradient(of tensor: Tensor) -> UnsafeMutablePointer<Float>? {
        guard tensor.tapeID == id else { return nil }
        let i = tensor.nodeIndex
        if let g = nodes[i].grad { return g.pointer }
        let g = TensorStorage(count: nodes[i].count, zeroed: true)
        nodes[i].grad = g
        return g.pointer
    }

    func runBackward(from loss: Tensor) {
        precondition(loss.count == 1, "valueAndGradient: the loss must have one element, got shape \(loss.shape)")
        guard tracks(loss) else { return }
        gradient(of: loss)!.pointee = 1
        for i in stride(from: nodes.count - 1, through: 0, by: -1) {
            guard let g = nodes[i].grad, let backward = nodes[i].backward else { continue }
            backward(self, g.pointer)
            nodes[i].backward = nil
            nodes[i].grad = nil
        }
    }
}

private let activeKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Records `op`'s backward on the active tape when any input is tracked; no-op otherwise.
func recordIfNeeded(_ output: Tensor, inputs: [Tensor], backward: @escaping Tape.Backward) {
    guard let tape = Tape.active, inputs.contains(where: { tape.tracks($0) }) else { return }
    tape.record(output, backward: backward)
}

/// Gradients of a loss w.r.t. parameters, keyed by parameter identity.
public struct Gradients {
    private var storage: [ObjectIdentifier: Tensor] = [:]

    public init() {}

    /// The gradient for `parameter` (same shape), or nil if the loss does not depend on it or it is frozen.
    public subscript(_ parameter: Tensor) -> Tensor? {
        get { storage[ObjectIdentifier(parameter)] }
        set { storage[ObjectIdentifier(parameter)] = newValue }
    }

    /// Number of parameters that have a gradient.
    public var count: Int { storage.count }

    /// Adds `other` element-wise (gradient accumulation over micro-batches).
    public mutating func accumulate(_ other: Gradients) {
        for (key, g) in other.storage {
            if let mine = storage[key] {
                vAdd(mine.storage.pointer, g.storage.pointer, count: g.count)
            } else {
                storage[key] = g.copy()
            }
        }
    }

    /// Multiplies every gradient by `factor` in place (e.g. 1/k after k accumulated micro-batches).
    public mutating func scale(by factor: Float) {
        for g in storage.values { vScale(g.storage.pointer, factor, count: g.count) }
    }

    /// The L2 norm of all gradients taken together.
    public var globalNorm: Float {
        var total = 0.0
        for g in storage.values {
            total += g.withUnsafeBufferPointer { b in b.reduce(0.0) { $0 + Double($1) * Double($1) } }
        }
        return Float(total.squareRoot())
    }
}

/// Runs `loss` while recording, then returns its value and the gradient of it w.r.t. every parameter in
/// `parameters` whose ``Tensor/requiresGrad`` is true.
///
/// - Parameters:
///   - parameters: the leaves to differentiate with respect to.
///   - loss: builds a one-element tensor from the parameters.
public func valueAndGradient(of parameters: [Tensor], _ loss: () throws -> Tensor) rethrows -> (value: Float, gradients: Gradients) {
    let (value, _, grads) = try valueAndGradient(of: parameters) { () throws -> (Tensor, Void) in (try loss(), ()) }
    return (value, grads)
}

/// Like ``valueAndGradient(of:_:)`` but `loss` also returns an auxiliary value (e.g. loss parts, logits).
public func valueAndGradient<Aux>(
    of parameters: [Tensor], _ loss: () throws -> (Tensor, Aux)
) rethrows -> (value: Float, aux: Aux, gradients: Gradients) {
    let tape = Tape()
    let previous = Tape.active
    Tape.setActive(tape)
    defer {
        Tape.setActive(previous)
        for p in parameters where p.tapeID == tape.id { p.tapeID = 0; p.nodeIndex = -1 }
    }
    var seen = Set<ObjectIdentifier>()
    for p in parameters where p.requiresGrad && seen.insert(ObjectIdentifier(p)).inserted {
        tape.registerLeaf(p)
    }
    let (value, aux) = try loss()
    Tape.setActive(nil)
    tape.runBackward(from: value)
    var grads = Gradients()
    for p in parameters where p.tapeID == tape.id {
        if let g = tape.nodes[p.nodeIndex].grad { grads[p] = Tensor(shape: p.shape, storage: g) }
    }
    return (value.item, aux, grads)
}

/// Runs `body` with recording switched off: ops inside build no graph (inference, metrics, EMA updates).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    let previous = Tape.active
    Tape.setActive(nil)
    defer { Tape.setActive(previous) }
    return try body()
}

/// Keeps `objects` alive for as long as the closure that calls this lives (a backward closure that reads
/// a tensor's memory through a raw pointer must own that tensor).
@inline(never)
func keepAlive(_ objects: AnyObject...) {}
