import AsyncHTTPClient
import DistillNN
import DistillRuntime
import DistillTestSupport
import DistillText
import DistillTraining
import Foundation
import NIOCore
import NIOHTTP1
import Testing

let serveLabels = ["normal", "disk", "database", "auth"]
/// Three lines in three envelopes (glog, JSON, plain) that the serve tests classify.
let serveLines = ["E1129 01:02:03.456789   12 kubelet.go:1] disk /dev/sda1 97% full",
                  #"{"level":"error","msg":"connection to 10.0.0.5:5432 refused"}"#, "user alice logged in"]

/// Saves a log-reading n-gram bag student whose answer is always `label` (a large bias on it).
func saveBiasedStudent(to folder: URL, label: String) throws {
    var config = NGramBagConfig(featurizer: NGramFeaturizer(buckets: 2048), embeddingSize: 8, labels: serveLabels)
    config.input = .logs
    let model = NGramBag(config: config, seed: 3)
    for p in model.namedParameters() where p.name == "classifier.bias" {
        p.tensor.withUnsafeMutableBufferPointer { b in for k in b.indices { b[k] = serveLabels[k] == label ? 20 : 0 } }
    }
    try Student.ngramBag(model).save(to: folder)
}

/// Reads `output` (up to 60 s, while `process` runs) until a line starting with `prefix` followed by a port.
func waitForPort(_ output: Pipe, announcedAs prefix: String, while process: Process) -> Int? {
    var seen = Data()
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, process.isRunning || !output.fileHandleForReading.availableData.isEmpty {
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { usleep(20_000); continue }
        seen.append(chunk)
        let text = String(decoding: seen, as: UTF8.self)
        if let range = text.range(of: prefix), text[range.upperBound...].contains("\n") {
            return Int(text[range.upperBound...].prefix { $0.isNumber })
        }
    }
    return nil
}

/// A running `distill serve` on a free loopback port.
final class ServeProcess {
    let process = Process()
    let port: Int
    private let errors = Pipe()

    init(model: URL, arguments: [String] = [], environment: [String: String] = [:]) throws {
        process.executableURL = distillBinary
        process.arguments = ["serve", "--model", model.path, "--port", "0", "--threads", "1"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        guard let found = waitForPort(output, announcedAs: "listening on http://127.0.0.1:", while: process) else {
            process.terminate()
            let reason = String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "distill serve did not start: \(reason)"])
        }
        port = found
    }

    func signal(_ s: Int32) { kill(process.processIdentifier, s) }

    /// Sends SIGTERM and waits (up to 30 s) for the exit status.
    func stop() -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        signal(SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate(); return nil }
        return process.terminationStatus
    }

    private var errorText = Data()

    /// What the server wrote to stderr so far (all of it once it has exited); repeated reads see the same text.
    var standardError: String {
        errorText.append(process.isRunning ? errors.fileHandleForReading.availableData : errors.fileHandleForReading.readDataToEndOfFile())
        return String(decoding: errorText, as: UTF8.self)
    }

    deinit { if process.isRunning { process.terminate() } }
}

struct HTTPAnswer {
    var status: Int
    var body: String
    var contentType: String?
    var retryAfter: String? = nil
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
}

/// One request over loopback with async-http-client.
func call(_ method: HTTPMethod = .POST, port: Int, path: String, body: [UInt8]? = nil, contentType: String? = "application/json",
          headers: [(String, String)] = [], timeout: TimeAmount = .seconds(30), client: HTTPClient = .shared) async throws -> HTTPAnswer {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = method
    if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
    for (k, v) in headers { request.headers.add(name: k, value: v) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await client.execute(request, timeout: timeout)
    let data = try await response.body.collect(upTo: 16 << 20)
    return HTTPAnswer(status: Int(response.status.code), body: String(buffer: data), contentType: response.headers.first(name: "Content-Type"),
                      retryAfter: response.headers.first(name: "Retry-After"))
}

func call(port: Int, path: String, json: Any, headers: [(String, String)] = []) async throws -> HTTPAnswer {
    try await call(port: port, path: path, body: Array(try JSONSerialization.data(withJSONObject: json)), headers: headers)
}
