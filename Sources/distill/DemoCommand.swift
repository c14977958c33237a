import ArgumentParser

/// `distill demo`: the end-to-end run on built-in defaults. Until the log-domain issue lands it says so
/// and points at what already works.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the end-to-end log-classification demo on built-in defaults."
    )

    func run() throws {
        print("""
        distill demo: not yet.
        The end-to-end demo (generate logs -> teacher labels -> distil a student -> evaluate -> classify) arrives
        with the log-domain issue. What works today is the engine underneath it:
          make test    gradient checks of every op, numpy reference values, optimizers, a model learning spirals
          make bench   engine GEMM vs raw OpenBLAS sgemm vs numpy, and one transformer block forward+backward
        """)
    }
}
