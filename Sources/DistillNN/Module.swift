import DistillCore
import Foundation

/// One entry of a module: a parameter tensor or a child module, under its checkpoint name.
public enum ModuleChild {
    case parameter(Tensor)
    case module(any Module)
}

/// A layer or model whose parameters form a tree with Hugging Face dotted names
/// (`encoder.layer.3.attention.self.query.weight`).
///
/// A conforming type lists its direct children; everything else — flattening, freezing by prefix,
/// loading with a report of missing/unexpected/mis-shaped tensors — comes from this protocol's extension.
public protocol Module: AnyObject {
    /// Direct parameters and sub-modules, with their names relative to this module.
    var children: [(String, ModuleChild)] { get }
}

/// What ``Module/load(_:strict:)`` found, by dotted name.
public struct LoadReport: Sendable, Equatable {
    /// Parameters of the module that the tensors did not provide.
    public var missing: [String] = []
    /// Tensors that match no parameter.
    public var unexpected: [String] = []
    /// Name, expected shape, shape found.
    public var misshaped: [String] = []
    /// Parameters that were filled.
    public var loaded = 0
}

/// Errors from building or loading models.
public enum ModelError: Error, Equatable, LocalizedError {
    case incompatibleWeights(LoadReport, source: String)
    case invalidConfig(path: String, key: String, detail: String)
    case unsupported(path: String, detail: String)
    case io(path: String, detail: String)
    /// Saving a model would replace a folder that holds other things (`foreign` names some of them).
    case notAModelFolder(path: String, foreign: [String])

    public var errorDescription: String? {
        switch self {
        case let .incompatibleWeights(report, source):
            var parts: [String] = []
            if !report.missing.isEmpty { parts.append("missing tensors: " + report.missing.prefix(10).joined(separator: ", ") + (report.missing.count > 10 ? " … (\(report.missing.count))" : "")) }
            if !report.misshaped.isEmpty { parts.append("wrong shapes: " + report.misshaped.prefix(10).joined(separator: "; ")) }
            return "\(source): weights do not fit the model — " + parts.joined(separator: "; ")
        case let .invalidConfig(path, key, detail): return "\(path): key '\(key)': \(detail)"
        case let .unsupported(path, detail): return "\(path): \(detail)"
        case let .io(path, detail): return "\(path): \(detail)"
        case let .notAModelFolder(path, foreign):
            let named = foreign.prefix(5).joined(separator: ", ") + (foreign.count > 5 ? ", … (\(foreign.count))" : "")
            return "\(path): not replaced: saving a model replaces its folder whole, and this folder holds files that are not part of a model (\(named)); name a new or empty folder, or a model folder"
        }
    }
}

extension Module {
    /// Every parameter with its full dotted name, depth first in declaration order.
    public func namedParameters(prefix: String = "") -> [NamedParameter] {
        var out: [NamedParameter] = []
        for (name, child) in children {
            let full = prefix.isEmpty ? name : prefix + "." + name
            switch child {
            case let .parameter(t): out.append(NamedParameter(full, t))
            case let .module(m): out += m.namedParameters(prefix: full)
            }
        }
        return out
    }

    /// The parameters as name → tensor (shares storage with the module).
    public func stateDict() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.name, $0.tensor) })
    }

    /// Number of scalar parameters.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.tensor.count } }

    /// Parameters that will receive gradients (not frozen).
    public var trainableParameters: [NamedParameter] { namedParameters().filter { $0.tensor.requiresGrad } }

    /// Freezes every parameter whose name starts with `prefix` ("" = all). Returns how many.
    @discardableResult
    public func freeze(prefix: String = "") -> Int { setTrainable(false, prefix: prefix) }

    /// Unfreezes every parameter whose name starts with `prefix`. Returns how many.
    @discardableResult
    public func unfreeze(prefix: String = "") -> Int { setTrainable(true, prefix: prefix) }

    private func setTrainable(_ value: Bool, prefix: String) -> Int {
        var n = 0
        for p in namedParameters() where prefix.isEmpty || p.name == prefix || p.name.hasPrefix(prefix.hasSuffix(".") ? prefix : prefix + ".") {
            p.tensor.requiresGrad = value
            n += 1
        }
        return n
    }

    /// Copies `tensors` into the parameters of the same names.
    ///
    /// With `strict`, any missing or mis-shaped parameter throws ``ModelError/incompatibleWeights(_:source:)``
    /// before anything is changed; unexpected tensors are only reported. `allowMissing` lists name prefixes
    /// that may be absent (a new classification head on a pretrained encoder).
    @discardableResult
    public func load(_ tensors: [String: Tensor], strict: Bool = true, allowMissing: [String] = [],
                     source: String = "weights") throws -> LoadReport {
        try load(shapes: tensors.mapValues(\.shape), strict: strict, allowMissing: allowMissing, source: source) { p in
            p.tensor.assign(tensors[p.name]!)
        }
    }

    /// Loads parameters straight from a safetensors file (no intermediate copy of the weights), with the
    /// same report and rules as ``load(_:strict:allowMissing:source:)``. `rename` maps a file's tensor name to
    /// this module's name (nil skips the tensor), e.g. to add or drop a `bert.` prefix.
    @discardableResult
    public func load(from file: SafetensorsFile, strict: Bool = true, allowMissing: [String] = [],
                     rename: (String) -> String? = { $0 }) throws -> LoadReport {
        var byName: [String: SafetensorsFile.Entry] = [:]
        for e in file.weightEntries {
            if let name = rename(e.name) { byName[name] = e }
        }
        return try load(shapes: byName.mapValues(\.shape), strict: strict, allowMissing: allowMissing, source: file.path) { p in
            try file.read(byName[p.name]!.name, into: p.tensor)
        }
    }

    /// Checks names and shapes of the available tensors against the parameters, throws before changing
    /// anything when strict and something is missing or mis-shaped, then fills each matching parameter.
    private func load(shapes: [String: [Int]], strict: Bool, allowMissing: [String], source: String,
                      fill: (NamedParameter) throws -> Void) throws -> LoadReport {
        var report = LoadReport()
        let params = namedParameters()
        let known = Set(params.map(\.name))
        for p in params {
            guard let shape = shapes[p.name] else {
                if !allowMissing.contains(where: { p.name.hasPrefix($0) }) { report.missing.append(p.name) }
                continue
            }
            if shape != p.tensor.shape { report.misshaped.append("\(p.name) expects \(p.tensor.shape), found \(shape)") }
        }
        report.unexpected = shapes.keys.filter { !known.contains($0) }.sorted()
        if strict && (!report.missing.isEmpty || !report.misshaped.isEmpty) {
            throw ModelError.incompatibleWeights(report, source: source)
        }
        for p in params where shapes[p.name] == p.tensor.shape {
            try fill(p)
            report.loaded += 1
        }
        return report
    }
}

/// An ordered list of modules named "0", "1", … (`encoder.layer.N`).
public final class ModuleList<Element: Module>: Module {
    public var items: [Element]
    public init(_ items: [Element]) { self.items = items }
    public var children: [(String, ModuleChild)] { items.enumerated().map { ("\($0.offset)", .module($0.element)) } }
}

/// Train/eval mode and the random stream dropout draws from, passed down a forward pass.
public final class ForwardContext {
    /// Dropout is active only when training.
    public var isTraining: Bool
    public var generator: RandomGenerator

    public init(training: Bool = false, seed: UInt64 = 0) {
        isTraining = training
        generator = RandomGenerator(seed: seed)
    }

    /// Inference mode: no dropout.
    public static var inference: ForwardContext { ForwardContext(training: false) }

    /// Dropout with probability `p` when training; identity otherwise.
    public func dropout(_ x: Tensor, _ p: Float) -> Tensor {
        guard isTraining, p > 0 else { return x }
        return DistillCore.dropout(x, probability: p, generator: &generator)
    }
}
