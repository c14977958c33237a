import DistillNN
import DistillRuntime
import DistillTestSupport
import DistillText
import DistillTraining
import Foundation
import Synchronization
import Testing

/// Issue 18 row 1 and 4: a folder that must not load — whatever is wrong with it — is refused by
/// `/admin/reload` and SIGHUP while requests flow, and the previous model keeps answering every one.
@Suite("serve: broken folders on reload")
struct BrokenReloadTests {
    /// Rewrites `config.json`'s JSON object.
    static func editConfig(_ folder: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = folder.appendingPathComponent("config.json")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    /// Broken copies of a good folder, each with the words its error must contain.
    static func brokenFolders(from good: URL, in root: URL) throws -> [(name: String, folder: URL, message: String)] {
        let fm = FileManager.default
        var out: [(String, URL, String)] = []
        func variant(_ name: String, message: String, _ edit: (URL) throws -> Void) throws {
            let folder = root.appendingPathComponent(name)
            try fm.copyItem(at: good, to: folder)
            try edit(folder)
            out.append((name, folder, message))
        }
        try variant("huge-buckets", message: "featurizer.buckets") { f in
            try editConfig(f) { c in var feat = c["featurizer"] as! [String: Any]; feat["buckets"] = 1_099_511_627_776; c["featurizer"] = feat }
        }
        try variant("buckets-disagree", message: "featurizer.buckets, embedding_size") { f in
            try editConfig(f) { c in var feat = c["featurizer"] as! [String: Any]; feat["buckets"] = 4096; c["featurizer"] = feat }
        }
        try variant("huge-embedding", message: "embedding_size") { f in try editConfig(f) { $0["embedding_size"] = 1 << 40 } }
        try variant("duplicate-labels", message: "both named 'disk'") { f in
            try editConfig(f) { c in var m = c["id2label"] as! [String: String]; m["2"] = "disk"; c["id2label"] = m }
        }
        try variant("nan-weights", message: "non-finite") { f in
            var config = NGramBagConfig(featurizer: NGramFeaturizer(buckets: 2048), embeddingSize: 8, labels: serveLabels)
            config.input = .logs
            let model = NGramBag(config: config, seed: 3)
            for p in model.namedParameters() where p.name == "classifier.bias" {
                p.tensor.withUnsafeMutableBufferPointer { $0[1] = .nan }
            }
            try Student.ngramBag(model).save(to: f)
        }
        try variant("header-one-byte-short", message: "data section") { f in
            let url = f.appendingPathComponent("model.safetensors")
            var bytes = try Data(contentsOf: url)
            let length = bytes.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            withUnsafeBytes(of: (length - 1).littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            try bytes.write(to: url)
        }
        try variant("truncated-weights", message: "model.safetensors") { f in
            let url = f.appendingPathComponent("model.safetensors")
            try Data(contentsOf: url).prefix(5000).write(to: url)
        }
        try variant("no-weights", message: "model.safetensors") { f in try fm.removeItem(at: f.appendingPathComponent("model.safetensors")) }
        return out
    }

    @Test("each broken folder through /admin/reload and SIGHUP while requests flow: zero failed requests, the old model answers")
    func brokenReloads() async throws {
        let root = temporaryFolder()
        let model = root.appendingPathComponent("model"), good = root.appendingPathComponent("good")
        try saveBiasedStudent(to: good, label: "auth")
        try FileManager.default.copyItem(at: good, to: model)
        let broken = try Self.brokenFolders(from: good, in: root)
        let server = try ServeProcess(model: model)
        let port = server.port
        let stop = Mutex(false)
        let traffic = Task { () -> [String: Int] in
            var outcomes: [String: Int] = [:]
            while !stop.withLock({ $0 }) {
                let a = try await call(port: port, path: "/v1/classify", json: ["texts": ["disk full on /var", "user alice logged in"]])
                let label = ((a.json as? [String: Any])?["results"] as? [[String: Any]])?.first?["label"] as? String
                outcomes["\(a.status) \(label ?? "-")", default: 0] += 1
            }
            return outcomes
        }
        var failures = 0
        for b in broken {
            try FileManager.default.removeItem(at: model)
            try FileManager.default.copyItem(at: b.folder, to: model)
            let answer = try await call(port: port, path: "/admin/reload", body: nil, contentType: nil)
            #expect(answer.status == 500 && answer.body.contains("still serving the previous model") && answer.body.contains(b.message),
                    "\(b.name): \(answer.status) \(answer.body)")
            failures += 1
            server.signal(SIGHUP)
            failures += 1
            // SIGHUP is handled asynchronously: wait (up to 20 s) for its failure to be counted.
            var counted = false
            for _ in 0..<200 where !counted {
                counted = try await call(.GET, port: port, path: "/metrics").body.contains("distill_model_reload_failures_total \(failures)")
                if !counted { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(counted, "\(b.name): the SIGHUP reload failure was not counted")
            #expect(try await call(port: port, path: "/v1/classify", json: ["texts": ["x"]]).body.contains("\"label\":\"auth\""), "\(b.name)")
        }
        stop.withLock { $0 = true }
        let outcomes = try await traffic.value
        #expect(outcomes.keys.allSatisfy { $0 == "200 auth" } && (outcomes["200 auth"] ?? 0) > 0, "\(outcomes)")
        #expect(server.process.isRunning)
        // The good folder back: the next reload succeeds.
        try FileManager.default.removeItem(at: model)
        try FileManager.default.copyItem(at: good, to: model)
        #expect(try await call(port: port, path: "/admin/reload", body: nil, contentType: nil).status == 200)
        #expect(server.stop() == 0)
    }
}
