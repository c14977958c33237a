import Foundation
import Synchronization

/// Records the ops of one forward pass so that gradients can flow back through them.
///
/// A tape is active only inside ``valueAndGradient(of:rowSparse:_:)``; everywhere else ops record nothing, so
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
        /// A row-sparse leaf's gradient while every op that reached it gave rows (see ``accumulateRows(of:_:)``).
        var rows: RowSparseGradient?
        let isLeaf: Bool
        /// The leaf takes row-sparse gradients.
        var rowSparse = false
    }

    private static let nextID = Atomic<Int>(1)
    let id: Int
    var nodes: [Node] = []
    /// Parameters (leaves) registered on this tape, by identity. Kept here rather than in the tensor so
    /// that several threads may differentiate w.r.t. the same parameters at once, and nested tapes do not
    /// clobber each other. The tape holds them, so an identity is never reused while it lives.
    private var leaves: [ObjectIdentifier: (tensor: Tensor, node: Int)] = [:]

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
    public func tracks(_ tensor: Tensor) -> Bool {
        tensor.tapeID == id || (!leaves.isEmpty && leaves[ObjectIdentifier(tensor)] != nil)
    }

    private func node(of tensor: Tensor) -> Int? {
        if tensor.tapeID == id { return tensor.nodeIndex }
        return leaves[ObjectIdentifier(tensor)]?.node
    }

    func registerLeaf(_ tensor: Tensor, rowSparse: Bool = false) {
        guard leaves[ObjectIdentifier(tensor)] == nil else { return }
        leaves[ObjectIdentifier(tensor)] = (tensor, nodes.count)
        nodes.append(Node(count: tensor.count, backward: nil, grad: nil, isLeaf: true, rowSparse: rowSparse && tensor.rank == 2))
    }

    /// The gradient accumulated for a registered leaf, if any reached it.
    func leafGradient(_ tensor: Tensor) -> GradientValue? {
        guard let i = leaves[ObjectIdentifier(tensor)]?.node else { return nil }
        if let rows = nodes[i].rows { return .rows(rows) }
        return nodes[i].grad.map { .dense(Tensor(shape: tensor.shape, storage: $0)) }
    }

    /// Adds `gradient` (rows of `tensor`, a `[rows, width]` table) into `tensor`'s gradient: kept row-sparse when
    /// `tensor` is a leaf registered as row-sparse and no op asked for its dense gradient, scattered into the
    /// dense buffer otherwise. Does nothing when `tensor` needs no gradient.
    public func accumulateRows(of tensor: Tensor, _ gradient: RowSparseGradient) {
        guard let i = node(of: tensor) else { return }
        if takesRows(tensor) {
            nodes[i].rows = nodes[i].rows.map { $0.adding(gradient) } ?? gradient
        } else if let dense = self.gradient(of: tensor) {
            gradient.scatterAdd(into: dense)
        }
    }

    /// Whether `tensor`'s gradient may be given as rows (``accumulateRows(of:_:)``) without being densified.
    public func takesRows(_ tensor: Tensor) -> Bool {
        guard let i = node(of: tensor) else { return false }
        return nodes[i].rowSparse && nodes[i].grad == nil
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
        guard let i = node(of: tensor) else { return nil }
        if let g = nodes[i].grad { return g.pointer }
        let g = TensorStorage(count: nodes[i].count, zeroed: true)
        nodes[i].grad = g
        // An op that needs the dense gradient of a row-sparse leaf: the rows so far move into it.
        if let rows = nodes[i].rows {
            rows.scatterAdd(into: g.pointer)
            nodes[i].rows = nil
        }
        return g.pointer
    }

    func runBackward(from loss: Tensor) {
        precondition(loss.count == 1, "valueAndGradient: the loss must have one element, got shape \(loss.shape)")
        guard let seed = gradient(of: loss) else { return }
        seed.pointee = 1
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

/// Gradients of a loss w.r.t. parameters, keyed by parameter identity, in the order they were added.
///
/// A gradient is dense or, for a table registered as row-sparse, only the rows a lookup read
/// (``GradientValue``). Holds each parameter strongly, so an identity cannot be reused by another tensor while
/// the gradient lives.
public struct Gradients {
    private var index: [ObjectIdentifier: Int] = [:]
    private var entries: [(parameter: Tensor, value: GradientValue)] = []

    public init() {}

    /// The gradient for `parameter` as a dense tensor of its shape (a row-sparse one is scattered into zeros: use
    /// ``value(of:)`` to keep it sparse), or nil if the loss does not depend on it or it is frozen.
    public subscript(_ parameter: Tensor) -> Tensor? {
        get { value(of: parameter)?.densified }
        set { set(parameter, newValue.map { .dense($0) }) }
    }

    /// The gradient for `parameter` as it was computed: dense or row-sparse.
    public func value(of parameter: Tensor) -> GradientValue? {
        index[ObjectIdentifier(parameter)].map { entries[$0].value }
    }

    /// Sets (or with nil removes) the gradient of `parameter`; it must have the parameter's shape.
    public mutating func set(_ parameter: Tensor, _ value: GradientValue?) {
        let key = ObjectIdentifier(parameter)
        guard let value else {
            if let i = index.removeValue(forKey: key) {
                entries.remove(at: i)
                for (k, v) in index where v > i { index[k] = v - 1 }
            }
            return
        }
        require(value.shape == parameter.shape,
                .mismatch(op: "Gradients", parameter.shape, value.shape, detail: "a gradient must have its parameter's shape"))
        if let i = index[key] { entries[i].value = value } else {
            index[key] = entries.count
            entries.append((parameter, value))
        }
    }

    /// Number of parameters that have a gradient.
    public var count: Int { entries.count }

    /// Adds `other` element-wise (gradient accumulation over micro-batches). Two row-sparse gradients of a table
    /// stay row-sparse (the union of their rows); a dense and a row-sparse one give a dense one.
    public mutating func accumulate(_ other: Gradients) {
        for (p, g) in other.entries {
            switch (value(of: p), g) {
            case (nil, _):
                set(p, g.copy())
            case let (.rows(mine)?, .rows(theirs)):
                set(p, .rows(mine.adding(theirs)))
            case let (.dense(mine)?, .dense(theirs)):
                vAdd(mine.storage.pointer, theirs.storage.pointer, count: theirs.count)
            case let (.dense(mine)?, .rows(theirs)):
                theirs.scatterAdd(into: mine.storage.pointer)
            case let (.rows(mine)?, .dense(theirs)):
                let sum = theirs.copy()
                mine.scatterAdd(into: sum.storage.pointer)
                set(p, .dense(sum))
            }
        }
    }

    /// Multiplies every gradient by `factor` in place (e.g. 1/k after k accumulated micro-batches).
    public mutating func scale(by factor: Float) {
        for e in entries {
            let t = e.value.storedValues
            vScale(t.storage.pointer, factor, count: t.count)
        }
    }

    /// The L2 norm of all gradients taken together (Float64 partial sums over fixed 64K-element chunks, added
    /// in order: the same bits with any number of threads). Rows a row-sparse gradient lacks are zero.
    public var globalNorm: Float {
        var total = 0.0
        let grain = 65_536
        for e in entries {
            let t = e.value.storedValues
            let p = t.storage.pointer, n = t.count
            let chunks = (n + grain - 1) / grain
            var partial = [Double](repeating: 0, count: chunks)
            partial.withUnsafeMutableBufferPointer { out in
                let box = UnsafeSendable(out.baseAddress!)
                parallelFor(chunks, grain: 1) { r in
                    for c in r {
                        // Eight Float64 lanes (independent adds, so the loop runs at the FMA rate), summed at the end.
                        var lanes = SIMD8<Double>()
                        var i = c * grain
                        let end = min(n, (c + 1) * grain)
                        while i + 8 <= end {
                            let x = SIMD8<Double>(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self))
                            lanes += x * x
                            i += 8
                        }
                        var s = lanes.sum()
                        while i < end { s += Double(p[i]) * Double(p[i]); i += 1 }
                        box.value[c] = s
                    }
                }
            }
            for s in partial { total += s }
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
///   - rowSparse: tables among `parameters` whose gradient stays row-sparse when only lookups read them
///     (``embedding(_:indices:shape:)``, ``embeddingBagMean(_:indices:offsets:)``).
public func valueAndGradient(of parameters: [Tensor], rowSparse: [Tensor] = [],
                             _ loss: () throws -> Tensor) rethrows -> (value: Float, gradients: Gradients) {
    let (value, _, grads) = try valueAndGradient(of: parameters, rowSparse: rowSparse) { () throws -> (Tensor, Void) in (try loss(), ()) }
    return (value, grads)
}

/// Like ``valueAndGradient(of:rowSparse:_:)`` but `loss` also returns an auxiliary value (e.g. loss parts, logits).
public func valueAndGradient<Aux>(
    of parameters: [Tensor], rowSparse: [Tensor] = [], _ loss: () throws -> (Tensor, Aux)
) rethrows -> (value: Float, aux: Aux, gradients: Gradients) {
    let tape = Tape()
    let previous = Tape.active
    Tape.setActive(tape)
    defer { Tape.setActive(previous) }
    let sparse = Set(rowSparse.map(ObjectIdentifier.init))
    for p in parameters where p.requiresGrad { tape.registerLeaf(p, rowSparse: sparse.contains(ObjectIdentifier(p))) }
    let (value, aux) = try loss()
    Tape.setActive(nil)
    tape.runBackward(from: value)
    var grads = Gradients()
    for p in parameters where grads.value(of: p) == nil {
        if let g = tape.leafGradient(p) { grads.set(p, g) }
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
