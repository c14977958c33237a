// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Distill",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DistillCore", targets: ["DistillCore"]),
        .library(name: "DistillText", targets: ["DistillText"]),
        .library(name: "DistillNN", targets: ["DistillNN"]),
        .library(name: "DistillRuntime", targets: ["DistillRuntime"]),
        .library(name: "DistillTraining", targets: ["DistillTraining"]),
        .library(name: "DistillTeachers", targets: ["DistillTeachers"]),
        .library(name: "DistillRecipes", targets: ["DistillRecipes"]),
        .library(name: "DistillServe", targets: ["DistillServe"]),
        .library(name: "DistillExport", targets: ["DistillExport"]),
        .executable(name: "distill", targets: ["distill"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // CBLAS from OpenBLAS on Linux; Apple platforms use Accelerate instead (see BLAS.swift).
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // C kernels Swift cannot express: cache-line prefetch hints (__builtin_prefetch) for the kernels that read
        // random rows of large tables, and AdamW's update with vector square roots, AVX chosen at run time.
        .target(name: "CVectorKernels"),
        .target(
            name: "DistillCore",
            dependencies: [.target(name: "CBLAS", condition: .when(platforms: [.linux])), "CVectorKernels"]
        ),
        .target(name: "DistillText", dependencies: [.product(name: "HeapModule", package: "swift-collections")]),
        .target(name: "DistillNN", dependencies: ["DistillCore", "DistillText", "CVectorKernels"]),
        // What a trained student needs to answer: the student folder, the classifier with its cache and decision rule,
        // JSON lines in and out, int8 copies. `distill serve` links this, not training, recipes, YAML or SQLite.
        .target(name: "DistillRuntime", dependencies: ["DistillCore", "DistillText", "DistillNN"]),
        // Training a student: distillation losses and schedules, the trainer and its checkpoints, evaluation and
        // reports, model cards, datasets, int8 copies. No teachers, recipes, YAML or SQLite.
        .target(name: "DistillTraining", dependencies: ["DistillCore", "DistillText", "DistillNN", "DistillRuntime"]),
        // Every teacher behind one async protocol (BERT, ensemble, OpenAI-compatible LLMs), fine-tuning, the label
        // store and the labelling job: LLM teachers over HTTP (async-http-client), the SQLite soft-label store (GRDB).
        .target(name: "DistillTeachers", dependencies: [
            "DistillCore", "DistillText", "DistillNN", "DistillRuntime", "DistillTraining",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "GRDB", package: "GRDB.swift"),
            // The circuit breaker's TCP probe of a teacher server.
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // Recipes (YAML, read by Yams, one reader per section) and a recipe run end to end, in one async path: data,
        // augmentation, teachers (BERT, stored soft labels, LLMs through the label store), aggregation, the student,
        // training, evaluation and the reports.
        .target(name: "DistillRecipes", dependencies: [
            "DistillCore", "DistillText", "DistillNN", "DistillRuntime", "DistillTraining", "DistillTeachers", .product(name: "Yams", package: "Yams"),
        ]),
        // Programs built on the library: the end-to-end demo on real logs (the recipes of examples/demo run through
        // DistillRecipes), the Loghub real-log splitter (SwiftCSV reads the samples' structured and template files),
        // the synthetic log corpus and the KD experiment.
        .target(name: "DistillExamples", dependencies: [
            "DistillRuntime", "DistillTraining", "DistillTeachers", "DistillRecipes", .product(name: "SwiftCSV", package: "SwiftCSV"),
        ]),
        // OTLP logs messages, generated once by scripts/generate_proto_swift.py otlp (swift-protobuf's plugin) and committed.
        .target(name: "OTLPProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")], exclude: ["NOTICE"]),
        // ONNX model messages, generated once by scripts/generate_proto_swift.py onnx (swift-protobuf's plugin) and committed.
        .target(name: "ONNXProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")], exclude: ["NOTICE"]),
        // `distill export`: Hugging Face folders (tokenizer.json, model card, remote code for Distill's pooling) and ONNX graphs.
        .target(name: "DistillExport", dependencies: [
            "DistillCore", "DistillText", "DistillNN", "DistillRuntime", "DistillTraining", "ONNXProto", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // The HTTP service: Hummingbird 2 (on SwiftNIO) and Prometheus metrics.
        .target(name: "DistillServe", dependencies: [
            "DistillRuntime", "DistillText", "DistillNN", "OTLPProto",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            // Forwarding enriched records to log stores (--forward).
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            // The forward queue.
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Hummingbird", package: "hummingbird"),
            // Connection limits (MaximumAvailableConnections).
            .product(name: "HummingbirdCore", package: "hummingbird"),
            // gzip / deflate request bodies (what Vector and Fluent Bit send with compression on).
            .product(name: "CompressNIO", package: "compress-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(
            name: "distill",
            dependencies: [
                "DistillCore", "DistillText", "DistillNN", "DistillRuntime", "DistillTraining", "DistillTeachers", "DistillRecipes", "DistillExamples", "DistillServe", "DistillExport",
                // The engine benchmark times raw cblas_sgemm next to the engine's matmul.
                .target(name: "CBLAS", condition: .when(platforms: [.linux])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer targets for `make fuzz` (scripts/fuzz.sh builds them with -sanitize=fuzzer,address -DDISTILL_FUZZ).
        .executableTarget(name: "distill-fuzz", dependencies: ["DistillRuntime", "DistillTraining", "DistillRecipes", "DistillNN", "DistillText", "DistillServe"]),
        // Helpers shared by the test targets (paths, scratch folders, running the `distill` binary).
        .target(name: "DistillTestSupport", path: "Tests/DistillTestSupport"),
        .testTarget(name: "DistillCoreTests", dependencies: ["DistillCore", "CVectorKernels"], exclude: ["Fixtures"]),
        // Property tests (swift-property-based) throw digit runs and random bytes at every scanner.
        .testTarget(name: "DistillTextTests", dependencies: [
            "DistillText", "DistillTestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
        ], exclude: ["Fixtures"]),
        .testTarget(name: "DistillNNTests", dependencies: ["DistillNN", "DistillCore", "DistillText", "CVectorKernels", "DistillTestSupport"]),
        // Training, recipes, the command line, exports, the demo: the pipeline above the runtime.
        .testTarget(name: "DistillPipelineTests", dependencies: [
            "DistillTraining", "DistillTeachers", "DistillRecipes", "DistillExamples", "DistillRuntime", "DistillNN", "DistillCore", "DistillText",
            "DistillTestSupport",
        ]),
        .testTarget(name: "DistillTeachersTests", dependencies: [
            "DistillTeachers", "DistillRecipes", "DistillTraining", "DistillExamples", "DistillRuntime", "DistillNN", "DistillCore", "DistillText", "DistillTestSupport",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "DistillServeTests", dependencies: [
            "DistillServe", "DistillRuntime", "DistillTraining", "DistillNN", "DistillText", "DistillTestSupport", "OTLPProto",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "CompressNIO", package: "compress-nio"),
            // The router in-process (`app.test(.router)`), no socket or process.
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ]
)
