import CompressNIO
import DistillTestSupport
import Foundation
import NIOCore
import Testing

/// Issue 16 item 3: `/v1/logs` takes what shippers really send — compressed bodies, Fluent Bit's `json_stream`,
/// batches with a record that has no line — without losing the batch.
@Suite("serve: /v1/logs intake (compression, json_stream, pass-through)")
struct LogsIntakeTests {
    static func compressed(_ text: String, _ algorithm: CompressionAlgorithm) throws -> [UInt8] {
        var buffer = ByteBuffer(string: text)
        let out = try buffer.compress(with: algorithm)
        return Array(out.readableBytesView)
    }

    /// The `distill` object of each answered record.
    static func annotations(_ answer: HTTPAnswer) -> [[String: Any]] {
        answer.body.split(separator: "\n").compactMap {
            ((try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any])?["distill"] as? [String: Any]
        }
    }

    @Test("gzip and deflate bodies are inflated (within --max-body-bytes); a bomb is 413, corrupt data 400, brotli 415")
    func compression() async throws {
        let model = temporaryFolder().appendingPathComponent("model")
        try saveBiasedStudent(to: model, label: "disk")
        let server = try ServeProcess(model: model, arguments: ["--max-body-bytes", "100000"])
        let ndjson = (0..<50).map { #"{"message": "disk full on /var/\#($0)", "host": "n\#($0)"}"# }.joined(separator: "\n") + "\n"
        for (name, algorithm) in [("gzip", CompressionAlgorithm.gzip()), ("deflate", CompressionAlgorithm.zlib())] {
            let answer = try await call(port: server.port, path: "/v1/logs", body: try Self.compressed(ndjson, algorithm),
                                        contentType: "application/x-ndjson", headers: [("Content-Encoding", name)])
            #expect(answer.status == 200, "\(name): \(answer.body.prefix(300))")
            let labels = Self.annotations(answer).compactMap { $0["label"] as? String }
            #expect(labels.count == 50 && Set(labels) == ["disk"], "\(name)")
        }
        // 10 MB of one repeated record compresses to a few KB: refused once inflating passes the limit.
        let bomb = try Self.compressed(String(repeating: #"{"message": "x"}"# + "\n", count: 600_000), .gzip())
        #expect(bomb.count < 100_000)
        let refused = try await call(port: server.port, path: "/v1/logs", body: bomb, contentType: "application/x-ndjson", headers: [("Content-Encoding", "gzip")])
        #expect(refused.status == 413 && refused.body.contains("inflates to more than 100000 bytes (--max-body-bytes)"), "\(refused.body)")
        let corrupt = try await call(port: server.port, path: "/v1/logs", body: Array("not gzip at all".utf8), contentType: "application/x-ndjson",
                                     headers: [("Content-Encoding", "gzip")])
        #expect(corrupt.status == 400 && corrupt.body.contains("gzip body does not inflate"), "\(corrupt.body)")
        let brotli = try await call(port: server.port, path: "/v1/logs", body: Array(ndjson.utf8), contentType: "application/x-ndjson",
                                    headers: [("Content-Encoding", "br")])
        #expect(brotli.status == 415 && brotli.body.contains("Content-Encoding 'br' is not supported"), "\(brotli.body)")
        #expect(server.stop() == 0)
    }

    @Test("json_stream (concatenated records), a record without a line or with one too long passed through flagged, trailing newlines ignored")
    func shapes() async throws {
        let model = temporaryFolder().appendingPathComponent("model")
        try saveBiasedStudent(to: model, label: "disk")
        let server = try ServeProcess(model: model, arguments: ["--max-text-bytes", "200"])
        // Fluent Bit json_stream: no separator between records; a `log` field ending in a newline.
        let stream = #"{"date": 1.5, "log": "disk full on /var\n"}{"date": 2.5, "log": "disk full on /var"}{"date": 3.5, "level": "info"}"#
            + #"{"log": "\#(String(repeating: "y", count: 300))"}"#
        let answer = try await call(port: server.port, path: "/v1/logs", body: Array(stream.utf8), contentType: "application/json")
        #expect(answer.status == 200, "\(answer.body.prefix(300))")
        let records = answer.body.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        #expect(records.count == 4)
        let notes = records.map { $0["distill"] as? [String: Any] ?? [:] }
        #expect(notes[0]["label"] as? String == "disk" && notes[1]["label"] as? String == "disk")
        #expect(notes[0]["template"] as? String == notes[1]["template"] as? String, "a trailing newline changes no template")
        #expect((records[0]["log"] as? String)?.hasSuffix("\n") == true, "the record itself is passed on unchanged")
        #expect((notes[2]["error"] as? String)?.contains("no string field 'message', 'log', 'msg'") == true && notes[2]["label"] == nil)
        #expect((records[2]["level"] as? String) == "info" && (records[2]["date"] as? Double) == 3.5)
        #expect((notes[3]["error"] as? String)?.contains("longer than 200 bytes (--max-text-bytes)") == true)
        let metrics = try await call(.GET, port: server.port, path: "/metrics").body
        #expect(metrics.contains(#"distill_records_skipped_total{reason="no_text"} 1"#) && metrics.contains(#"distill_records_skipped_total{reason="too_long"} 1"#),
                "\(metrics)")
        #expect(metrics.contains(#"distill_lines_classified_total{label="disk"} 2"#))
        // A JSON array with the same records answers as an array, the skipped one flagged.
        let array = try await call(port: server.port, path: "/v1/logs", json: [["log": "disk full"], ["level": "debug"]])
        let items = try #require(array.json as? [[String: Any]])
        #expect(items.count == 2 && (items[1]["distill"] as? [String: Any])?["error"] != nil)
        // Concatenated records that break off are still 400, naming the record and line.
        let broken = try await call(port: server.port, path: "/v1/logs", body: Array(#"{"log": "a"}"#.utf8) + Array("\n{\"log\": \"b\"".utf8),
                                    contentType: "application/x-ndjson")
        #expect(broken.status == 400 && broken.body.contains("record 1 (line 2 of the body) is not valid JSON"), "\(broken.body)")
        #expect(server.stop() == 0)
    }

    /// Fluent Bit bodies in msgpack, made by the Python `msgpack` package (Fluent Bit itself is not packaged for Debian 12).
    static func fluentBitMessagePack() throws -> [UInt8] {
        let script = """
        import msgpack, struct, sys
        def et(sec, ns): return msgpack.ExtType(0, struct.pack(">II", sec, ns))
        events = [[et(1796119200, 500000000), {"log": "disk full on /var\\n", "stream": "stderr", "kubernetes": {"pod_name": "api-1"}}],
                  [[et(1796119201, 0), {}], {"log": "disk quota exceeded", "date": 7.5}],
                  [[-1, {"group": "start"}], {"resource": "x"}],
                  [1796119202, {"level": "info", "bytes": b"\\xff\\x01", "msg_bin": b"disk full"}],
                  [[-2, {}], {}]]
        sys.stdout.buffer.write(b"".join(msgpack.packb(e) for e in events))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONPATH": projectRoot.appendingPathComponent(".cache/pip/otel").path]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python msgpack (make assets installs it)")
        return Array(data)
    }

    @Test("Fluent Bit's default format msgpack: v1 and v2 events, EventTime as date, nested maps and bin kept; hostile bodies 400")
    func messagePack() async throws {
        let model = temporaryFolder().appendingPathComponent("model")
        try saveBiasedStudent(to: model, label: "disk")
        let server = try ServeProcess(model: model)
        let body = try Self.fluentBitMessagePack()
        let answer = try await call(port: server.port, path: "/v1/logs", body: body, contentType: "application/msgpack")
        #expect(answer.status == 200 && answer.contentType == "application/x-ndjson", "\(answer.body.prefix(300))")
        let rows = answer.body.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        #expect(rows.count == 3)
        #expect(rows.prefix(2).allSatisfy { ($0["distill"] as? [String: Any])?["label"] as? String == "disk" })
        #expect(rows[0]["date"] as? Double == 1_796_119_200.5 && rows[1]["date"] as? Double == 7.5 && rows[2]["date"] as? Double == 1_796_119_202)
        #expect((rows[0]["kubernetes"] as? [String: Any])?["pod_name"] as? String == "api-1" && rows[2]["bytes"] as? String == "/wE=")
        // Fluent Bit 3's group markers (time -1, -2) are not records; bin that is UTF-8 text is text.
        #expect(rows[2]["msg_bin"] as? String == "disk full" && ((rows[2]["distill"] as? [String: Any])?["error"] as? String)?.contains("no string field") == true)
        // The same line with and without the trailing newline: one template.
        #expect((rows[0]["distill"] as? [String: Any])?["template"] as? String != nil)

        let hostile: [([UInt8], String)] = [
            (Array(body.dropLast(3)), "the msgpack body does not decode"),
            ([0xd4], "the body ends inside a value"),
            ([0x92, 0x01], "an array of 2 elements is more than the body holds"),
            ([0xdd, 0xff, 0xff, 0xff, 0xff], "more than the body holds"),
            ([UInt8](repeating: 0x91, count: 100) + [0x01], "nested deeper than 64"),
            ([0x92, 0x01, 0x81, 0x01, 0x02], "a map key is not a string"),
            ([0x92, 0x01, 0x81, 0xa1, 0x61, 0xdb, 0xff, 0xff, 0xff, 0xf0], "runs past the end"),
            ([0xc1], "starts no MessagePack value"),
            ([0x01], "is not [time, record]"),
        ]
        // Lenient where shippers are: a repeated key keeps its last value, invalid UTF-8 becomes U+FFFD.
        let lenient = try await call(port: server.port, path: "/v1/logs", body: [0x92, 0x01, 0x82, 0xa3, 0x6c, 0x6f, 0x67, 0xa1, 0x61, 0xa3, 0x6c, 0x6f, 0x67, 0xa2, 0xc3, 0x28],
                                     contentType: "application/msgpack")
        #expect(lenient.status == 200 && lenient.body.contains("\"log\":\"\u{FFFD}(\""), "\(lenient.body)")
        for (bytes, message) in hostile {
            let refused = try await call(port: server.port, path: "/v1/logs", body: bytes, contentType: "application/msgpack")
            #expect(refused.status == 400 && refused.body.contains(message), "\(message): \(refused.body)")
        }
        #expect(server.stop() == 0)
    }
}
