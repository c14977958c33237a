import DistillCore
import DistillRuntime
import Foundation
import ONNXProto

/// An ONNX graph under construction: weights as initializers, nodes that name their outputs, typed inputs and
/// outputs. Values get fresh names (`<hint>_<n>`), so a builder never wires a node to the wrong tensor.
struct ONNXGraphBuilder {
    /// The ONNX operator set the graphs are written for (LayerNormalization needs 17).
    static let opset: Int64 = 17
    /// The IR version that goes with opset 17.
    static let irVersion: Int64 = 8

    private(set) var graph = Onnx_GraphProto()
    private var counter = 0

    init(name: String) { graph.name = name }

    /// A dimension of an input or output: fixed, or named (dynamic: `batch`, `sequence`).
    enum Dimension { case fixed(Int), named(String) }

    enum ElementType: Int32 {
        case float = 1, int64 = 7
    }

    private mutating func fresh(_ hint: String) -> String {
        counter += 1
        return "\(hint)_\(counter)"
    }

    private func valueInfo(_ name: String, _ type: ElementType, _ dims: [Dimension]) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = type.rawValue
        tensor.shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case let .fixed(n): dim.dimValue = Int64(n)
            case let .named(s): dim.dimParam = s
            }
            return dim
        }
        info.type.tensorType = tensor
        return info
    }

    /// Declares a graph input and returns its name.
    @discardableResult
    mutating func input(_ name: String, _ type: ElementType, _ dims: [Dimension]) -> String {
        graph.input.append(valueInfo(name, type, dims))
        return name
    }

    /// Names `value` as the graph output `name` (an Identity node, so the output name is exactly `name`).
    mutating func output(_ value: String, as name: String, _ type: ElementType, _ dims: [Dimension]) {
        var node = Onnx_NodeProto()
        node.opType = "Identity"
        node.input = [value]
        node.output = [name]
        node.name = name
        graph.node.append(node)
        graph.output.append(valueInfo(name, type, dims))
    }

    /// A float initializer with `shape`, from `values` in row-major order.
    mutating func weight(_ name: String, _ values: [Float], shape: [Int]) -> String {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = ElementType.float.rawValue
        // raw_data is little-endian by the ONNX spec; every platform Distill builds for is little-endian.
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
        graph.initializer.append(t)
        return name
    }

    /// A tensor as an initializer named `name`.
    mutating func weight(_ name: String, _ tensor: Tensor) -> String { weight(name, tensor.scalars, shape: tensor.shape) }

    /// A `[out, in]` linear weight stored transposed (`[in, out]`), for `MatMul(x, W^T)`.
    mutating func transposedWeight(_ name: String, _ tensor: Tensor) -> String {
        let (rows, columns) = (tensor.shape[0], tensor.shape[1])
        let s = tensor.scalars
        var t = [Float](repeating: 0, count: s.count)
        for r in 0..<rows { for c in 0..<columns { t[c * rows + r] = s[r * columns + c] } }
        return weight(name, t, shape: [columns, rows])
    }

    /// An int64 constant (a 1-D tensor, or a scalar when `scalar`).
    mutating func constant(_ values: [Int64], _ hint: String, scalar: Bool = false) -> String {
        var t = Onnx_TensorProto()
        t.name = fresh(hint)
        t.dims = scalar ? [] : [Int64(values.count)]
        t.dataType = ElementType.int64.rawValue
        t.int64Data = values
        graph.initializer.append(t)
        return t.name
    }

    /// A float scalar constant.
    mutating func constant(_ value: Float, _ hint: String) -> String {
        var t = Onnx_TensorProto()
        t.name = fresh(hint)
        t.dataType = ElementType.float.rawValue
        t.floatData = [value]
        graph.initializer.append(t)
        return t.name
    }

    /// Appends a node and returns its (single) output's name.
    mutating func node(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], hint: String? = nil) -> String {
        var node = Onnx_NodeProto()
        node.opType = op
        node.input = inputs
        let output = fresh(hint ?? op.lowercased())
        node.output = [output]
        node.name = output
        node.attribute = attributes
        graph.node.append(node)
        return output
    }

    // Shorthands for the patterns the graphs repeat.

    /// `x · W^T + b` for a linear layer named `name` (`name.weight` `[out, in]`, `name.bias`).
    mutating func linear(_ x: String, _ name: String, _ weights: [String: Tensor]) throws -> String {
        let w = try Self.tensor(weights, name + ".weight"), b = try Self.tensor(weights, name + ".bias")
        let product = node("MatMul", [x, transposedWeight(name + ".weight", w)], hint: name)
        return node("Add", [product, weight(name + ".bias", b)], hint: name)
    }

    /// LayerNormalization over the last axis with `name.weight` / `name.bias`.
    mutating func layerNorm(_ x: String, _ name: String, epsilon: Float, _ weights: [String: Tensor]) throws -> String {
        let g = try Self.tensor(weights, name + ".weight"), b = try Self.tensor(weights, name + ".bias")
        return node("LayerNormalization", [x, weight(name + ".weight", g), weight(name + ".bias", b)],
                    [.int("axis", -1), .float("epsilon", epsilon)], hint: name)
    }

    static func tensor(_ weights: [String: Tensor], _ name: String) throws -> Tensor {
        guard let t = weights[name] else { throw ExportError.missingTensor(name) }
        return t
    }

    /// The finished model: IR version, opset, producer and metadata.
    func model(metadata: [(String, String)], doc: String) -> Onnx_ModelProto {
        var m = Onnx_ModelProto()
        m.irVersion = Self.irVersion
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Self.opset
        m.opsetImport = [opset]
        m.producerName = "distill"
        m.producerVersion = distillVersion
        m.docString = doc
        m.graph = graph
        m.metadataProps = metadata.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return m
    }
}

extension Onnx_AttributeProto {
    static func int(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = value
        return a
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    static func ints(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values
        return a
    }
}
