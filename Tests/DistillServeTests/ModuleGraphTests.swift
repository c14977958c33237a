import DistillTestSupport
import Foundation
import Testing

/// The module graph in Package.swift: what `distill serve` links is the runtime, not the training side.
@Suite("Module graph")
struct ModuleGraphTests {
    /// Each target's direct dependencies as Package.swift declares them: target names and product names.
    static func declaredDependencies() throws -> [String: [String]] {
        let manifest = try String(contentsOf: projectRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        // Declarations start a line; `.target(name:` inside a dependency list does not.
        let declarations = manifest.matches(of: /^\s*\.(?:target|executableTarget|testTarget)\(\s*name:\s*"([^"]+)"/.anchorsMatchLineEndings())
        var result: [String: [String]] = [:]
        for (i, match) in declarations.enumerated() {
            // This target's text: up to the next declaration, so a target without dependencies borrows no list.
            let end = i + 1 < declarations.count ? declarations[i + 1].range.lowerBound : manifest.endIndex
            let text = manifest[match.range.upperBound..<end]
            var names: [String] = []
            if let label = text.range(of: "dependencies:"), let open = text[label.upperBound...].firstIndex(of: "[") {
                var depth = 0, close = text.endIndex
                for index in text[open...].indices {
                    if text[index] == "[" { depth += 1 }
                    if text[index] == "]" { depth -= 1; if depth == 0 { close = index; break } }
                }
                for entry in text[open..<close].matches(of: /(?:\.(?:product|target)\(name:\s*)?"([^"]+)"(?:,\s*package:\s*"[^"]+")?/) {
                    names.append(String(entry.1))
                }
            }
            result[String(match.1)] = names
        }
        return result
    }

    /// Every target and product `target` depends on, directly or through other targets of this package.
    static func closure(of target: String, in graph: [String: [String]]) -> Set<String> {
        var seen = Set<String>(), stack = graph[target] ?? []
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            stack += graph[next] ?? []
        }
        return seen
    }

    @Test("DistillServe links no training, recipe, teacher, YAML, CSV or SQLite code")
    func serveIsRuntimeOnly() throws {
        let graph = try Self.declaredDependencies()
        let serve = Self.closure(of: "DistillServe", in: graph)
        #expect(serve.contains("DistillRuntime") && serve.contains("Hummingbird"), "\(serve.sorted())")
        for forbidden in ["DistillTraining", "DistillTeachers", "DistillRecipes", "DistillExamples", "DistillExport", "Yams", "SwiftCSV", "GRDB"] {
            #expect(!serve.contains(forbidden), "DistillServe reaches \(forbidden): \(serve.sorted())")
        }
        let runtime = Self.closure(of: "DistillRuntime", in: graph)
        #expect(runtime == ["DistillCore", "DistillText", "DistillNN", "CBLAS", "CVectorKernels", "HeapModule"], "\(runtime.sorted())")
    }

    @Test("the layers go one way: training below teachers, teachers below recipes, recipes below the examples; each library only what its layer needs")
    func layers() throws {
        let graph = try Self.declaredDependencies()
        let training = Self.closure(of: "DistillTraining", in: graph)
        #expect(training == ["DistillCore", "DistillText", "DistillNN", "DistillRuntime", "CBLAS", "CVectorKernels", "HeapModule"], "\(training.sorted())")
        let teachers = Self.closure(of: "DistillTeachers", in: graph)
        #expect(teachers.contains("DistillTraining") && teachers.contains("GRDB"), "\(teachers.sorted())")
        for forbidden in ["DistillRecipes", "DistillExamples", "DistillServe", "Yams", "SwiftCSV"] {
            #expect(!teachers.contains(forbidden), "DistillTeachers reaches \(forbidden)")
        }
        let recipes = Self.closure(of: "DistillRecipes", in: graph)
        #expect(recipes.isSuperset(of: ["DistillTeachers", "Yams"]), "\(recipes.sorted())")
        for forbidden in ["DistillExamples", "DistillServe", "DistillExport", "SwiftCSV"] {
            #expect(!recipes.contains(forbidden), "DistillRecipes reaches \(forbidden)")
        }
        let export = Self.closure(of: "DistillExport", in: graph)
        for forbidden in ["DistillTeachers", "DistillRecipes", "DistillServe", "GRDB", "Yams"] {
            #expect(!export.contains(forbidden), "DistillExport reaches \(forbidden)")
        }
        #expect(Self.closure(of: "DistillExamples", in: graph).isSuperset(of: ["DistillRecipes", "SwiftCSV"]))
        // No library target named after a grab-bag.
        #expect(graph["DistillKit"] == nil)
    }
}
