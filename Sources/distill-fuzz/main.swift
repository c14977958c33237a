// libFuzzer targets for `make fuzz` (built with -sanitize=fuzzer,address -DDISTILL_FUZZ: the top-level code hands
// control to libFuzzer's driver). FUZZ_TARGET picks what the bytes are fed to:
//   safetensors — SafetensorsFile on the bytes as a file, then every tensor read as weights, rows and integers
//   jsonl       — LineReader, StrictJSON and readDataset on the bytes as a JSON-lines file
//   normalizer  — the log normalizer, masker, input preparation and n-gram features on the bytes as one line
//   requests    — /v1/classify and /v1/logs body decoders (JSON, NDJSON, msgpack, OTLP protobuf and JSON), the
//                 Content-Type parser, and every --forward wire format over what they decode
// A crash, a sanitizer report or a trap is a finding; thrown errors are the expected answer to bad input.
// Built without those flags (plain `swift build`), it only says how to build it.
import DistillNN
import DistillRuntime
import DistillServe
import DistillText
import DistillTraining
import Foundation

enum FuzzTarget: String { case safetensors, jsonl, normalizer, requests }

let target = FuzzTarget(rawValue: ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "") ?? .jsonl
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("distill-fuzz-\(getpid())")
let normalizer = LogNormalizer()
let preparer = TextInput(kind: .logs).preparer()
let featurizer = NGramFeaturizer(buckets: 4096)
let serveOptions = ServeOptions(model: URL(fileURLWithPath: "/nonexistent"))

/// Writes `bytes` to the scratch file (the file-based readers take a path).
func scratchFile(_ bytes: UnsafeRawBufferPointer) -> URL {
    let data = Data(bytes)
    try? data.write(to: scratch)
    return scratch
}

func fuzzSafetensors(_ bytes: UnsafeRawBufferPointer) {
    guard let file = try? SafetensorsFile(url: scratchFile(bytes)) else { return }
    for entry in file.entries {
        _ = try? file.tensor(entry.name)
        _ = try? file.integers(entry.name)
        if let first = entry.shape.first, first > 0 { _ = try? file.readRows(entry.name, 0..<min(first, 2)) }
    }
    _ = try? file.floatTensors()
}

func fuzzJSONL(_ bytes: UnsafeRawBufferPointer) {
    let url = scratchFile(bytes)
    if let reader = try? LineReader(path: url.path, maximumLineBytes: 4096) {
        while let line = try? reader.next() {
            if let text = line.text { _ = StrictJSON.stringField("text", of: text) }
        }
    }
    _ = try? readDataset(url, labels: ["a", "b"], requireLabel: false)
}

func fuzzNormalizer(_ bytes: UnsafeRawBufferPointer) {
    let line = String(decoding: bytes, as: UTF8.self)
    let normalized = normalizer.normalize(line)
    _ = TextInput.modelText(normalized)
    _ = preparer.prepare(line)
    _ = featurizer.features(line)
    var out: [UInt8] = []
    _ = normalizer.writeModelText(line, into: &out)
    _ = normalizer.normalize(utf8: Array(bytes))
}

func fuzzRequests(_ bytes: UnsafeRawBufferPointer) {
    let body = Array(bytes)
    _ = try? ClassifyRequest.parse(body, options: serveOptions)
    _ = try? LogRecords.parse(body, options: serveOptions)
    _ = try? LogRecords.parseMessagePack(body, options: serveOptions)
    _ = try? JSONBody.checkContentType(String(decoding: bytes.prefix(200), as: UTF8.self))
    // OTLP in, then out again in every wire format (what --forward does with a request).
    var entries = (try? OTLPLogsProtobuf.parse(body, options: serveOptions, observed: 1)) ?? []
    entries += (try? OTLPLogsJSON.parse(body, options: serveOptions, observed: 1)) ?? []
    if let records = try? LogRecords.parse(body, options: serveOptions) {
        entries += records.records.map { LogEntry.fromJSON($0.fields, lineField: $0.lineField, observed: 1) }
    }
    let formats: [any WireFormat] = [OTLPProtobufFormat(), OTLPJSONFormat(), LokiPushFormat(category: .label), ElasticsearchBulkFormat(), NDJSONFormat()]
    for format in formats where !entries.isEmpty { _ = format.body(entries.map { format.fragment($0, id: "x") }) }
}

func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    switch target {
    case .safetensors: fuzzSafetensors(bytes)
    case .jsonl: fuzzJSONL(bytes)
    case .normalizer: fuzzNormalizer(bytes)
    case .requests: fuzzRequests(bytes)
    }
    return 0
}

#if DISTILL_FUZZ
/// libFuzzer's driver (in the runtime `-sanitize=fuzzer` links): parses its flags from argv and calls back per input.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
#else
FileHandle.standardError.write(Data("distill-fuzz: build it with `make fuzz` (libFuzzer and AddressSanitizer)\n".utf8))
exit(2)
#endif
