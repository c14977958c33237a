import DistillRuntime
import DistillTraining
import Foundation

/// An LLM behind an OpenAI-compatible API as a black-box teacher.
///
/// Each text is one request at temperature 0 asking for `top_logprobs` alternatives; the first answer token's
/// alternatives are mapped to labels by the ``Verbalizer`` and renormalized (the rest is the outside mass). A
/// server that sends no logprobs gets the configured fallback (k samples at temperature 1, or the smoothed hard
/// answer). Timeouts, 429 and 5xx are retried with backoff; a text that still fails, or whose answer names no
/// label, comes back as a ``TeacherFailure`` and the run goes on. With several replicas
/// (``LLMTeacherSpec/baseURLs``) requests are spread by a ``ReplicaPool`` and a failed request is retried at once
/// on another replica.
public final class OpenAITeacher: Teacher {
    public let spec: LLMTeacherSpec
    public let labels: [String]
    public let prompt: ClassificationPrompt
    /// The constraint actually used (`auto` resolved).
    public let constraint: LLMTeacherSpec.Constraint
    /// llama.cpp when `/props` answered like llama.cpp's server, else any OpenAI-compatible server.
    public let serverKind: TeacherServerKind
    /// The model as the server names it (`/v1/models`), or `spec.model`.
    public let modelName: String
    public let promptVersion: String
    /// Per-line examples (``LLMTeacherSpec/nearestExamples`` of ``LLMTeacherSpec/examplesFile``), when asked for.
    public let nearest: NearestExamples?
    public var identity: String { "openai:\(modelName)/prompt-\(promptVersion)" }
    public var preferredBatchSize: Int { 1 }
    /// Requests in flight per replica: `spec.maxConcurrency`, or 1 for a llama.cpp server when `spec.reproducible`.
    public var perReplicaConcurrency: Int { Self.perReplicaConcurrency(spec, serverKind) }
    /// Whether answers must be computed one at a time and uncached: `spec.reproducible` on llama.cpp, whose batching
    /// and prompt cache change the numbers.
    static func oneAtATime(_ spec: LLMTeacherSpec, _ serverKind: TeacherServerKind) -> Bool { spec.reproducible && serverKind == .llamaCpp }
    static func perReplicaConcurrency(_ spec: LLMTeacherSpec, _ serverKind: TeacherServerKind) -> Int {
        oneAtATime(spec, serverKind) ? 1 : spec.maxConcurrency
    }
    /// ``perReplicaConcurrency`` times the replicas.
    public var maxConcurrency: Int { perReplicaConcurrency * spec.baseURLs.count }

    let transport: any HTTPTransport
    let gate: RequestGate
    let replicas: ReplicaPool
    let retry: RetryPolicy
    let apiKey: String?

    private init(spec: LLMTeacherSpec, labels: [String], prompt: ClassificationPrompt, nearest: NearestExamples?, constraint: LLMTeacherSpec.Constraint,
                 serverKind: TeacherServerKind, modelName: String, transport: any HTTPTransport, retry: RetryPolicy, apiKey: String?, replicasOut: Set<Int>,
                 log: (@Sendable (String) -> Void)?) {
        self.nearest = nearest
        self.spec = spec
        self.labels = labels
        self.prompt = prompt
        self.constraint = constraint
        self.serverKind = serverKind
        self.modelName = modelName
        self.transport = transport
        self.retry = retry
        self.apiKey = apiKey
        let perReplica = Self.perReplicaConcurrency(spec, serverKind)
        gate = RequestGate(maxConcurrent: perReplica * spec.baseURLs.count, requestsPerSecond: spec.requestsPerSecond)
        let headers = Self.authorization(apiKey), timeout = Self.probeTimeout(spec)
        replicas = ReplicaPool(addresses: spec.baseURLs.map(ReplicaAddress.init), perReplica: perReplica, out: replicasOut,
                               probe: { [transport, serverKind] address in
                                   await Self.health(address, serverKind: serverKind, headers: headers, transport: transport, timeout: timeout)
                               }, log: log)
        promptVersion = prompt.version(extra: [spec.endpoint.rawValue, constraint.rawValue, "\(spec.topLogprobs)", spec.fallback.rawValue,
                                               "\(spec.samples)", "\(spec.smoothing)", "\(spec.maxTextCharacters)", "\(spec.seed)"]
                                               + (nearest.map { [$0.fingerprint] } ?? []))
    }

    /// Checks the settings, reads the API key from its environment variable, probes every replica (llama.cpp's
    /// `/props` and `/tokenize`, `/v1/models`) and fixes the verbalizer and constraint. Replicas that do not answer
    /// start out of service (told to `log`); none answering is ``TeacherError/unreachable(url:detail:)``, and
    /// replicas that differ in server kind or model are a ``TeacherError/configuration(key:detail:)``.
    ///
    /// - Parameter retry: nil: from `spec.maxRetries` with default delays.
    public static func connect(spec: LLMTeacherSpec, labels: [TaskLabel], transport: any HTTPTransport = AsyncHTTPClientTransport(),
                               retry: RetryPolicy? = nil, log: (@Sendable (String) -> Void)? = nil) async throws -> OpenAITeacher {
        let names = labels.map(\.name)
        try spec.validate(labels: names)
        var apiKey: String?
        if let variable = spec.apiKeyEnvironment {
            guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                throw TeacherError.configuration(key: "api_key_env", detail: "the environment variable \(variable) is not set")
            }
            apiKey = value
        }
        let headers = authorization(apiKey)
        let probeTimeout = probeTimeout(spec)
        let addresses = spec.baseURLs.map(ReplicaAddress.init)

        var probes: [(kind: TeacherServerKind, model: String?)?] = []
        for address in addresses {
            probes.append(try await probeServer(address, spec: spec, headers: headers, transport: transport, timeout: probeTimeout,
                                                failIfUnreachable: addresses.count == 1))
        }
        let answering = addresses.indices.filter { probes[$0] != nil }
        guard let first = answering.first, let firstProbe = probes[first] else {
            throw TeacherError.unreachable(url: addresses.map(\.root).joined(separator: ", "), detail: "no replica accepts connections")
        }
        for i in answering.dropFirst() {
            guard let p = probes[i] else { continue }
            if p.kind != firstProbe.kind {
                throw TeacherError.configuration(key: "base_url", detail: "replica \(addresses[i]) is a \(p.kind) server but \(addresses[first]) is \(firstProbe.kind); "
                                                 + "all replicas must run the same server and model")
            }
        }
        // The model named by the first replica that lists one (it is part of the store's teacher key).
        let named = answering.compactMap { i in probes[i]?.model.map { (i, $0) } }
        if spec.model == "default", let (i, other) = named.first(where: { $0.1 != named[0].1 }) {
            throw TeacherError.configuration(key: "base_url", detail: "replica \(addresses[i]) serves '\(other)' but \(addresses[named[0].0]) serves "
                                             + "'\(named[0].1)'; all replicas must serve the same model (or set `model`)")
        }
        let out = Set(addresses.indices.filter { probes[$0] == nil })
        for i in out.sorted() { log?("teacher replica \(addresses[i]) does not accept connections; starting without it and probing it") }
        let serverKind = firstProbe.kind
        let modelName = spec.model == "default" ? named.first?.1 ?? spec.model : spec.model
        let constraint: LLMTeacherSpec.Constraint = spec.constraint == .auto ? (serverKind == .llamaCpp ? .grammar : .none) : spec.constraint

        let codes: Bool
        switch spec.verbalizer {
        case .names: codes = false
        case .codes: codes = true
        case .auto:
            if serverKind == .llamaCpp, let pieces = await firstPieces(names.map { $0.lowercased() }, root: addresses[first].root, headers: headers,
                                                                         transport: transport, timeout: probeTimeout) {
                codes = !Verbalizer.firstTokensDistinct(pieces, words: names)
            } else {
                codes = !Verbalizer.namesLookDistinct(names)
            }
        }
        let prompt = ClassificationPrompt(labels: names, descriptions: labels.map(\.description), verbalizer: Verbalizer(labels: names, codes: codes),
                                          instructions: spec.instructions, fewShot: spec.fewShot)
        var nearest: NearestExamples?
        if spec.nearestExamples > 0, let file = spec.examplesFile {
            let records = try readDataset(URL(fileURLWithPath: file), labels: names, requireLabel: true)
            nearest = NearestExamples(pool: records.map { .init(text: $0.text, label: names[$0.label!]) }, count: spec.nearestExamples)
        }
        return OpenAITeacher(spec: spec, labels: names, prompt: prompt, nearest: nearest, constraint: constraint, serverKind: serverKind, modelName: modelName,
                             transport: transport, retry: retry ?? RetryPolicy(maxRetries: spec.maxRetries), apiKey: apiKey, replicasOut: out, log: log)
    }

    static func authorization(_ apiKey: String?) -> [(name: String, value: String)] { apiKey.map { [(name: "Authorization", value: "Bearer \($0)")] } ?? [] }

    static func probeTimeout(_ spec: LLMTeacherSpec) -> Double { min(3, spec.timeoutSeconds) }

    /// A replica's server kind (llama.cpp when `/props` answers like llama.cpp's server)
    /// and the model it names first in `/v1/models`; nil when it does not accept connections (thrown instead when
    /// `failIfUnreachable`).
    static func probeServer(_ address: ReplicaAddress, spec: LLMTeacherSpec, headers: [(name: String, value: String)], transport: any HTTPTransport,
                            timeout: Double, failIfUnreachable: Bool) async throws -> (kind: TeacherServerKind, model: String?)? {
        var kind = TeacherServerKind.openAICompatible
        do {
            let reply = try await transport.send(method: "GET", url: address.root + "/props", headers: headers, body: nil, timeout: timeout)
            if reply.status == 200, let o = (try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any],
               o["default_generation_settings"] != nil || o["build_info"] != nil {
                kind = .llamaCpp
            }
        } catch let error as TransportError {
            if case .connection = error {
                if failIfUnreachable { throw TeacherError.unreachable(url: address.root, detail: error.description) }
                return nil
            }
        }
        var model: String?
        if let reply = try? await transport.send(method: "GET", url: address.apiBase + "/models", headers: headers, body: nil, timeout: timeout),
           reply.status == 200, let o = (try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any],
           let first = (o["data"] as? [Any])?.first as? [String: Any], let id = first["id"] as? String {
            model = id.contains("/") ? URL(fileURLWithPath: id).lastPathComponent : id  // llama.cpp names the GGUF file by path
        }
        return (kind, model)
    }

    /// nil when the replica answers its health request (llama.cpp: `/health`, which says 503 while a model loads;
    /// else `/v1/models`), else why not.
    static func health(_ address: ReplicaAddress, serverKind: TeacherServerKind, headers: [(name: String, value: String)], transport: any HTTPTransport,
                       timeout: Double) async -> String? {
        let url = serverKind == .llamaCpp ? address.root + "/health" : address.apiBase + "/models"
        do {
            let reply = try await transport.send(method: "GET", url: url, headers: headers, body: nil, timeout: timeout)
            return reply.status == 200 ? nil : "\(url): HTTP \(reply.status)"
        } catch {
            return "\(url): \(error)"
        }
    }

    /// Requests, failures and time out of service per replica so far.
    public func replicaUsage() async -> [ReplicaUsage] { await replicas.report() }

    /// One line on how requests were spread, e.g. `replicas: http://a:8080/v1 412 requests, http://b:8080/v1 409
    /// requests (1 failed, 1 sent again at once to another, out of service 1 time)`; nil with a single replica.
    public func replicaSummary() async -> String? {
        let usage = await replicas.report()
        guard usage.count > 1 else { return nil }
        return "replicas: " + usage.map { u in
            var extra: [String] = []
            if u.failures > 0 { extra.append("\(u.failures) failed") }
            if u.retriedElsewhereAtOnce > 0 { extra.append("\(u.retriedElsewhereAtOnce) sent again at once to another") }
            if u.timesOut > 0 { extra.append("out of service \(u.timesOut) time\(u.timesOut == 1 ? "" : "s")\(u.inService ? "" : ", out now")") }
            return "\(u.address) \(u.requests) request\(u.requests == 1 ? "" : "s")" + (extra.isEmpty ? "" : " (" + extra.joined(separator: ", ") + ")")
        }.joined(separator: ", ")
    }

    /// The first token piece of each word per llama.cpp's `/tokenize` (nil if the server cannot tell).
    static func firstPieces(_ words: [String], root: String, headers: [(name: String, value: String)], transport: any HTTPTransport,
                            timeout: Double) async -> [String]? {
        var out: [String] = []
        for w in words {
            guard let body = try? JSONSerialization.data(withJSONObject: ["content": w, "with_pieces": true, "add_special": false]),
                  let reply = try? await transport.send(method: "POST", url: root + "/tokenize", headers: headers + [("Content-Type", "application/json")],
                                                        body: body, timeout: timeout),
                  reply.status == 200, let o = (try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any],
                  let first = (o["tokens"] as? [Any])?.first as? [String: Any], let piece = first["piece"] as? String else { return nil }
            out.append(piece)
        }
        return out
    }

    // MARK: Labelling

    public func label(_ texts: [String]) async throws -> [TeacherAnswer] {
        try await withThrowingTaskGroup(of: (Int, TeacherAnswer).self) { group in
            for (i, text) in texts.enumerated() { group.addTask { (i, try await self.labelOne(text)) } }
            var out = [TeacherAnswer?](repeating: nil, count: texts.count)
            for try await (i, answer) in group { out[i] = answer }
            return out.map { $0! }
        }
    }

    /// The text as sent: cut to `maxTextCharacters`, invalid UTF-8 already replaced by Swift's String.
    func clipped(_ text: String) -> String {
        text.count > spec.maxTextCharacters ? String(text.prefix(spec.maxTextCharacters)) + " …" : text
    }

    /// Labels one text (see the type's documentation).
    public func labelOne(_ text: String) async throws -> TeacherAnswer {
        let started = Date()
        let input = clipped(text)
        // The per-line examples, chosen once for the answer and every sample.
        let examples = (nearest?.examples(for: input) ?? []).map { LLMTeacherSpec.FewShotExample(text: clipped($0.text), label: $0.label) }
        let (first, requests) = try await exchange(requestBody(input, examples: examples, temperature: 0, logprobs: spec.topLogprobs > 0, seed: spec.seed))
        var total = requests
        func elapsed() -> Double { Date().timeIntervalSince(started) }
        let response: CompletionResponse
        switch first {
        case let .failure(failure):
            var f = failure
            f.requests = total
            return .failed(f)
        case let .success(r): response = r
        }
        let answer = answerText(response)
        func labelled(_ p: [Float], _ method: LabelMethod, outside: Float) -> TeacherAnswer {
            .labelled(TeacherLabel(probabilities: p, method: method, outsideMass: outside, rawAnswer: answer, promptTokens: response.promptTokens,
                                   completionTokens: response.completionTokens, requests: total, latencySeconds: elapsed()))
        }
        func smoothedHard(_ i: Int) -> [Float] {
            let n = Float(labels.count)
            return labels.indices.map { $0 == i ? 1 - spec.smoothing + spec.smoothing / n : spec.smoothing / n }
        }
        if !response.tokens.isEmpty {
            if let token = response.answerToken(json: constraint == .jsonSchema) {
                // The chosen token counts too when the server did not list it (it may lie below the top k:
                // llama.cpp's logprobs are the model's, before the grammar constrains the choice).
                var alternatives = token.alternatives
                if !alternatives.contains(where: { $0.token == token.token }) {
                    alternatives.append(TokenLogprobs.Alternative(token: token.token, logprob: token.logprob))
                }
                if let d = prompt.verbalizer.distribution(alternatives: alternatives.map { ($0.token, $0.logprob) }) {
                    return labelled(d.probabilities, .logprobs, outside: d.outsideMass)
                }
            }
            // No alternative of the first answer token stands for a label, but the whole answer may.
            if let i = prompt.verbalizer.label(forAnswer: answer) { return labelled(smoothedHard(i), .hard, outside: 1) }
            return .failed(TeacherFailure(kind: .offLabel, detail: "the answer \(quoted(answer)) names no label", rawAnswer: answer, requests: total))
        }
        switch spec.fallback {
        case .hard:
            guard let i = prompt.verbalizer.label(forAnswer: answer) else {
                return .failed(TeacherFailure(kind: .offLabel, detail: "the answer \(quoted(answer)) names no label", rawAnswer: answer, requests: total))
            }
            return labelled(smoothedHard(i), .hard, outside: 0)
        case .samples:
            var counts = [Float](repeating: 0, count: labels.count)
            var offLabel = 0
            for k in 1...spec.samples {
                let (sample, n) = try await exchange(requestBody(input, examples: examples, temperature: 1, logprobs: false, seed: spec.seed + k))
                total += n
                if case let .success(s) = sample, let i = prompt.verbalizer.label(forAnswer: answerText(s)) { counts[i] += 1 } else { offLabel += 1 }
            }
            let mapped = counts.reduce(0, +)
            guard mapped > 0 else {
                return .failed(TeacherFailure(kind: .offLabel, detail: "none of \(spec.samples) sampled answers names a label", rawAnswer: answer, requests: total))
            }
            return labelled(counts.map { $0 / mapped }, .samples, outside: Float(offLabel) / Float(spec.samples))
        }
    }

    /// The answer: the message content, or for JSON answers the `label` value.
    func answerText(_ r: CompletionResponse) -> String {
        if constraint == .jsonSchema, let o = (try? JSONSerialization.jsonObject(with: Data(r.text.utf8))) as? [String: Any], let v = o["label"] as? String {
            return v
        }
        return r.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func quoted(_ s: String) -> String { "'" + (s.count > 80 ? String(s.prefix(80)) + "…" : s) + "'" }

    var endpointPath: String { spec.endpoint == .chat ? "/chat/completions" : "/completions" }

    func requestBody(_ text: String, examples: [LLMTeacherSpec.FewShotExample] = [], temperature: Double, logprobs: Bool, seed: Int) -> Data {
        var body: [String: Any] = ["model": spec.model, "temperature": temperature, "seed": seed, "stream": false]
        if Self.oneAtATime(spec, serverKind) { body["cache_prompt"] = false }
        switch spec.endpoint {
        case .chat:
            body["messages"] = prompt.messages(for: text, examples: examples)
            if logprobs { body["logprobs"] = true; body["top_logprobs"] = spec.topLogprobs }
        case .completions:
            body["prompt"] = prompt.completionPrompt(for: text, examples: examples)
            if logprobs { body["logprobs"] = spec.topLogprobs }
        }
        switch constraint {
        case .grammar: body["grammar"] = prompt.grammar; body["max_tokens"] = 8
        case .jsonSchema: body["response_format"] = prompt.jsonSchemaResponseFormat; body["max_tokens"] = 32
        case .none, .auto: body["max_tokens"] = prompt.verbalizer.usesCodes ? 4 : 8
        }
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
    }

    // MARK: HTTP with retries

    /// Sends `body` until a usable reply, a per-text failure, or a fatal error; returns the requests made. A failure
    /// that takes a replica out is retried at once when another replica is in service.
    func exchange(_ body: Data) async throws -> (Result<CompletionResponse, TeacherFailure>, Int) {
        let headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("Accept", "application/json")] + Self.authorization(apiKey)
        var requests = 0
        var attempt = 0
        while true {
            requests += 1
            var problem: String
            var kind = TeacherFailure.Kind.unavailable
            var retryAfter: Double?
            var failover = false
            var replicaUsed = 0
            do {
                let sent = try await gate.withSlot { [transport, spec, replicas, endpointPath] in
                    let replica = await replicas.acquire()
                    let url = ReplicaAddress(spec.baseURLs[replica]).apiBase + endpointPath
                    do {
                        let reply = try await transport.send(method: "POST", url: url, headers: headers, body: body, timeout: spec.timeoutSeconds)
                        let unhealthy = [408, 429, 500, 502, 503, 504].contains(reply.status)
                        return (reply: reply, url: url, replica: replica,
                                othersInService: await replicas.release(replica, failure: unhealthy ? "HTTP \(reply.status)" : nil))
                    } catch let error as TransportError {
                        throw ReplicaFailure(error: error, url: url, replica: replica, othersInService: await replicas.release(replica, failure: error.description))
                    } catch {
                        await replicas.release(replica, failure: nil)
                        throw error
                    }
                }
                let (reply, url) = (sent.reply, sent.url)
                failover = sent.othersInService
                replicaUsed = sent.replica
                lazy var message = serverMessage(reply.body)  // error replies only: a 200 body is parsed once, below
                switch reply.status {
                case 200..<300:
                    do { return (.success(try CompletionResponse.parse(reply.body)), requests) } catch let error as CompletionResponse.ParseError {
                        problem = error.description
                        kind = .malformed
                    }
                case 408, 429, 500, 502, 503, 504:
                    problem = "HTTP \(reply.status)\(message.isEmpty ? "" : ": " + message)"
                    retryAfter = RetryPolicy.retryAfterSeconds(reply.header("Retry-After"))
                case 401, 403:
                    throw TeacherError.server(url: url, status: reply.status, detail: (message.isEmpty ? "not authorized" : message)
                                              + (spec.apiKeyEnvironment == nil ? " (set api_key_env to the variable holding the key)" : " (check \(spec.apiKeyEnvironment!))"))
                case 404:
                    throw TeacherError.server(url: url, status: 404, detail: message.isEmpty ? "no such endpoint (is base_url right, ending in /v1?)" : message)
                default:
                    return (.failure(TeacherFailure(kind: .rejected, detail: "HTTP \(reply.status)\(message.isEmpty ? "" : ": " + message)")), requests)
                }
            } catch let failure as ReplicaFailure {
                problem = failure.error.description
                failover = failure.othersInService
                replicaUsed = failure.replica
            }
            if attempt >= retry.maxRetries {
                return (.failure(TeacherFailure(kind: kind, detail: "gave up after \(requests) request\(requests == 1 ? "" : "s"): \(problem)")), requests)
            }
            let failsOver = failover && kind == .unavailable
            let wait = failsOver ? 0 : retry.delay(attempt: attempt, retryAfter: retryAfter)
            attempt += 1
            await replicas.noteRetry(after: replicaUsed, failsOver: failsOver)
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
        }
    }

    /// The `error.message` of an error body, or a short preview of it.
    func serverMessage(_ body: Data) -> String {
        if let o = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] {
            if let e = o["error"] as? [String: Any], let m = e["message"] as? String { return m }
            if let m = o["error"] as? String { return m }
            if o["choices"] != nil { return "" }
        }
        return body.isEmpty ? "" : String(decoding: body.prefix(200), as: UTF8.self)
    }

    // MARK: Generation

    /// `count` answers to `instruction` sampled at `temperature` (distinct seeds), for paraphrase augmentation.
    /// Failed requests are skipped; the result says how many.
    public func generate(_ instruction: String, count: Int, temperature: Double = 0.9, maxTokens: Int = 96) async throws -> (texts: [String], failed: Int) {
        var texts: [String] = []
        var failed = 0
        for k in 0..<count {
            var body: [String: Any] = ["model": spec.model, "temperature": temperature, "seed": spec.seed + 1000 + k, "max_tokens": maxTokens, "stream": false]
            switch spec.endpoint {
            case .chat: body["messages"] = [["role": "user", "content": instruction]]
            case .completions: body["prompt"] = instruction
            }
            let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
            let (result, _) = try await exchange(data)
            if case let .success(r) = result, !r.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                texts.append(r.text.trimmingCharacters(in: .whitespacesAndNewlines))
            } else {
                failed += 1
            }
        }
        return (texts, failed)
    }
}

/// A transport error on one replica, and whether another replica is in service to retry on.
struct ReplicaFailure: Error {
    var error: TransportError
    var url: String
    var replica: Int
    var othersInService: Bool
}
