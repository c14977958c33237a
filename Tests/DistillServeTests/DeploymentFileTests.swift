import DistillServe
import DistillTestSupport
import Foundation
import Testing
import Yams

/// No cluster, Vector or Fluent Bit runs here: the files are checked for the fields the tools and Kubernetes
/// require and for agreement with what `distill serve` actually offers (flags, routes, port, user).
@Suite("Deployment files")
struct DeploymentFileTests {
    let deploy = projectRoot.appendingPathComponent("deploy")

    func yaml(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: deploy.appendingPathComponent(path), encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    @Test("Kubernetes: Namespace, ConfigMap, DaemonSet sized for a 1 GiB / 2-core node with probes, Service on the container port")
    func kubernetes() throws {
        let documents = try yaml("kubernetes/distill.yaml")
        for d in documents {
            #expect(d["apiVersion"] is String && d["kind"] is String)
            #expect(((d["metadata"] as? [String: Any])?["name"] as? String)?.isEmpty == false)
        }
        let kinds = documents.compactMap { $0["kind"] as? String }
        #expect(kinds == ["Namespace", "ConfigMap", "DaemonSet", "Service"])
        let configMap = documents[1]
        let config = configMap["data"] as! [String: Any]
        #expect(config.values.allSatisfy { $0 is String }, "ConfigMap values must be strings")
        let daemonSet = documents[2]
        let spec = daemonSet["spec"] as! [String: Any]
        let selector = (spec["selector"] as! [String: Any])["matchLabels"] as! [String: String]
        let template = spec["template"] as! [String: Any]
        let podLabels = (template["metadata"] as! [String: Any])["labels"] as! [String: String]
        #expect(selector.allSatisfy { podLabels[$0.key] == $0.value }, "selector must match the pod labels")
        let pod = template["spec"] as! [String: Any]
        #expect((pod["securityContext"] as! [String: Any])["runAsNonRoot"] as? Bool == true)
        let container = (pod["containers"] as! [[String: Any]])[0]
        let limits = (container["resources"] as! [String: Any])["limits"] as! [String: Any]
        #expect(limits["memory"] as? String == "1Gi" && limits["cpu"] as? String == "2")
        let probes = ["livenessProbe": "/healthz", "readinessProbe": "/readyz"]
        for (probe, path) in probes {
            #expect(((container[probe] as? [String: Any])?["httpGet"] as? [String: Any])?["path"] as? String == path, "\(probe)")
        }
        let args = container["args"] as! [String]
        #expect(args.first == "serve")
        // Kubernetes appends args to the image's ENTRYPOINT unless `command` replaces it; the image's already says serve.
        let dockerfile = try String(contentsOf: deploy.appendingPathComponent("Dockerfile"), encoding: .utf8)
        let binary = try #require(container["command"] as? [String], "args would be appended to the ENTRYPOINT").first ?? ""
        #expect(dockerfile.contains("COPY --from=build /distill \(binary)"))
        // Every flag the manifest passes exists on `distill serve`; every $(VAR) comes from the ConfigMap.
        let help = try serveHelp()
        for flag in args where flag.hasPrefix("--") { #expect(help.contains(flag), "distill serve has no \(flag)") }
        for arg in args where arg.hasPrefix("$(") { #expect(config[String(arg.dropFirst(2).dropLast())] != nil, "\(arg) is not in the ConfigMap") }
        // The forward target and spool are well-formed (parsed by the code serve uses); the spool is a writable volume.
        let forward = try ForwardTarget(config["DISTILL_FORWARD"] as! String)
        #expect(forward.kind == .loki && forward.endpoint.path == "/loki/api/v1/push")
        let spoolPath = args[args.firstIndex(of: "--spool")! + 1]
        let spoolMount = try #require((container["volumeMounts"] as! [[String: Any]]).first { $0["mountPath"] as? String == spoolPath })
        #expect(spoolMount["readOnly"] as? Bool != true)
        let envFrom = (container["envFrom"] as! [[String: Any]])[0]["configMapRef"] as! [String: Any]
        #expect(envFrom["name"] as? String == (configMap["metadata"] as! [String: Any])["name"] as? String)
        let port = (container["ports"] as! [[String: Any]])[0]
        #expect(port["containerPort"] as? Int == Int(args[args.firstIndex(of: "--port")! + 1]))
        let service = documents[3]["spec"] as! [String: Any]
        #expect((service["selector"] as! [String: String]) == selector)
        #expect(((service["ports"] as! [[String: Any]])[0]["targetPort"] as? String) == port["name"] as? String)
        // The model is a read-only volume at the path --model names (not baked into the image): reloads find new files.
        let mounts = container["volumeMounts"] as! [[String: Any]]
        let modelPath = args[args.firstIndex(of: "--model")! + 1]
        let mount = try #require(mounts.first { $0["mountPath"] as? String == modelPath }, "nothing is mounted at \(modelPath)")
        #expect(mount["readOnly"] as? Bool == true)
        let volume = try #require((pod["volumes"] as! [[String: Any]]).first { $0["name"] as? String == mount["name"] as? String })
        #expect(volume["hostPath"] != nil || volume["persistentVolumeClaim"] != nil)

        // The ServiceMonitor selects the Service by its labels and scrapes its named port.
        let monitor = try yaml("kubernetes/servicemonitor.yaml")[0]
        #expect(monitor["apiVersion"] as? String == "monitoring.coreos.com/v1" && monitor["kind"] as? String == "ServiceMonitor")
        let monitorSpec = monitor["spec"] as! [String: Any]
        let serviceLabels = (documents[3]["metadata"] as! [String: Any])["labels"] as! [String: String]
        let wanted = (monitorSpec["selector"] as! [String: Any])["matchLabels"] as! [String: String]
        #expect(wanted.allSatisfy { serviceLabels[$0.key] == $0.value }, "the ServiceMonitor selects no Service")
        let endpoint = (monitorSpec["endpoints"] as! [[String: Any]])[0]
        #expect(endpoint["port"] as? String == (service["ports"] as! [[String: Any]])[0]["name"] as? String && endpoint["path"] as? String == "/metrics")
        #expect(((monitorSpec["namespaceSelector"] as? [String: Any])?["matchNames"] as? [String]) == [(documents[3]["metadata"] as! [String: Any])["namespace"] as! String])
    }

    @Test("Vector and Fluent Bit send JSON to /v1/logs on the service's port")
    func shippers() throws {
        let vector = try yaml("vector/vector.yaml")[0]
        let sink = (vector["sinks"] as! [String: Any])["distill"] as! [String: Any]
        #expect(sink["type"] as? String == "http" && (sink["uri"] as? String)?.hasSuffix(":8080/v1/logs") == true)
        #expect((sink["encoding"] as? [String: Any])?["codec"] as? String == "json")
        let inputs = sink["inputs"] as! [String]
        #expect(inputs.allSatisfy { (vector["sources"] as! [String: Any])[$0] != nil })
        let fluent = try yaml("fluent-bit/fluent-bit.yaml")[0]
        let output = ((fluent["pipeline"] as! [String: Any])["outputs"] as! [[String: Any]])[0]
        #expect(output["name"] as? String == "http" && output["uri"] as? String == "/v1/logs" && output["port"] as? Int == 8080)
        #expect(["json", "json_lines", "json_stream"].contains(output["format"] as? String ?? ""))
        // Both compress; serve inflates gzip (LogsIntakeTests).
        #expect(sink["compression"] as? String == "gzip" && output["compress"] as? String == "gzip")
        // Both retry what a full forward queue answers (503) instead of dropping the batch.
        #expect(((sink["request"] as? [String: Any])?["retry_attempts"] as? Int ?? 0) >= 1000)
        #expect(output["retry_limit"] as? String == "no_limits")
    }

    @Test("OpenTelemetry Collector: every pipeline component declared, OTLP/HTTP protobuf to distill's port, batches under --max-batch")
    func collector() throws {
        let config = try yaml("otel-collector/otel-collector.yaml")[0]
        let pipelines = ((config["service"] as! [String: Any])["pipelines"] as! [String: Any])
        let logs = pipelines["logs"] as! [String: [String]]
        for (section, names) in [("receivers", logs["receivers"]!), ("processors", logs["processors"]!), ("exporters", logs["exporters"]!)] {
            let declared = config[section] as! [String: Any]
            for name in names { #expect(declared[name] != nil, "\(section) \(name) is used but not declared") }
        }
        let extensions = config["extensions"] as! [String: Any]
        for name in (config["service"] as! [String: Any])["extensions"] as! [String] { #expect(extensions[name] != nil) }
        let exporter = (config["exporters"] as! [String: Any])["otlphttp/distill"] as! [String: Any]
        #expect((exporter["endpoint"] as? String)?.hasSuffix(":8080") == true && exporter["encoding"] as? String == "proto")
        #expect((exporter["sending_queue"] as? [String: Any])?["storage"] as? String == "file_storage")
        let batch = (config["processors"] as! [String: Any])["batch"] as! [String: Any]
        #expect((batch["send_batch_max_size"] as? Int ?? .max) <= ServeOptions(model: URL(fileURLWithPath: "/")).maxBatch)
    }

    @Test("Dockerfile: multi-stage, static Swift stdlib, non-root user, serves on the port the manifest probes")
    func dockerfile() throws {
        let text = try String(contentsOf: deploy.appendingPathComponent("Dockerfile"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("#") }
        #expect(lines.filter { $0.hasPrefix("FROM ") }.count == 2)
        #expect(text.contains("--static-swift-stdlib"))
        // Every folder Package.swift's targets live in is copied into the build stage.
        for folder in ["Package.swift", "Sources", "Tests"] { #expect(lines.contains { $0.hasPrefix("COPY \(folder)") }, "\(folder) is not copied") }
        let user = lines.first { $0.hasPrefix("USER ") }
        #expect(user != nil && user != "USER root" && user != "USER 0")
        let entry = lines.first { $0.hasPrefix("ENTRYPOINT ") }!
        #expect(entry.contains("\"serve\"") && entry.contains("\"8080\"") && entry.contains("\"0.0.0.0\""))
        // The model is a volume, not a layer; the build context leaves out builds, caches and run folders.
        #expect(lines.contains("VOLUME /model") && !lines.contains { $0.hasPrefix("COPY") && $0.contains("/model") })
        let ignore = try String(contentsOf: projectRoot.appendingPathComponent(".dockerignore"), encoding: .utf8)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        for folder in [".build*/", ".cache/", "runs/", ".git/"] { #expect(ignore.contains(folder), ".dockerignore does not leave out \(folder)") }
        for needed in ["Package.swift", "Sources", "Tests"] { #expect(!ignore.contains { $0.hasPrefix(needed) }, ".dockerignore leaves out \(needed)") }
    }

    @Test("OpenAPI: every route the server has, with the request and answer fields it uses")
    func openAPI() throws {
        let text = try String(contentsOf: projectRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let api = try Yams.load(yaml: text) as! [String: Any]
        #expect((api["openapi"] as? String)?.hasPrefix("3.") == true)
        let paths = api["paths"] as! [String: Any]
        #expect(Set(paths.keys) == ["/v1/classify", "/v1/logs", "/healthz", "/readyz", "/metrics", "/admin/reload"])
        let schemas = (api["components"] as! [String: Any])["schemas"] as! [String: Any]
        let prediction = (schemas["Prediction"] as! [String: Any])["required"] as! [String]
        #expect(Set(prediction) == ["label", "probability", "top", "template"])
        let request = (schemas["ClassifyRequest"] as! [String: Any])["properties"] as! [String: Any]
        #expect(Set(request.keys) == ["texts", "top_k"])
        // Every operation has a unique operationId; every security requirement names a declared scheme.
        let schemes = ((api["components"] as! [String: Any])["securitySchemes"] as? [String: Any]) ?? [:]
        #expect((schemes["bearer"] as? [String: Any])?["scheme"] as? String == "bearer")
        var ids: [String] = []
        for (path, item) in paths {
            for (method, operation) in item as! [String: Any] {
                let op = operation as! [String: Any]
                let id = op["operationId"] as? String
                #expect(id != nil, "\(method) \(path) has no operationId")
                ids.append(id ?? "")
                for requirement in (op["security"] as? [[String: Any]]) ?? [] {
                    for name in requirement.keys { #expect(schemes[name] != nil, "\(path): unknown security scheme \(name)") }
                }
            }
        }
        #expect(Set(ids).count == ids.count)
    }

    @Test("Kubernetes label job: Indexed shards over the teacher Service, one store per shard on a shared volume; the merge step reads them; every flag exists")
    func labelJob() throws {
        let documents = try yaml("kubernetes/label-job.yaml")
        let kinds = documents.compactMap { $0["kind"] as? String }
        #expect(kinds == ["ConfigMap", "PersistentVolumeClaim", "PersistentVolumeClaim", "Deployment", "Service", "Job"])
        func named(_ kind: String, _ name: String) throws -> [String: Any] {
            try #require(documents.first { $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name },
                         "no \(kind) \(name)")
        }
        for d in documents { #expect((d["metadata"] as? [String: Any])?["namespace"] as? String == "distill") }
        let job = try named("Job", "distill-label")["spec"] as! [String: Any]
        #expect(job["completionMode"] as? String == "Indexed")
        let completions = try #require(job["completions"] as? Int)
        #expect((job["parallelism"] as? Int ?? 1) <= completions)
        let pod = (job["template"] as! [String: Any])["spec"] as! [String: Any]
        #expect(["Never", "OnFailure"].contains(pod["restartPolicy"] as? String ?? ""))
        let container = (pod["containers"] as! [[String: Any]])[0]
        #expect(container["command"] as? [String] == ["/usr/local/bin/distill"])
        let args = container["args"] as! [String]
        func value(_ flag: String) throws -> String { args[try #require(args.firstIndex(of: flag), "no \(flag)") + 1] }
        #expect(args.first == "label")
        // The shard index is the pod's completion index, through an env var Kubernetes expands in args.
        #expect(try value("--shard") == "$(SHARD)/\(completions)")
        let env = try #require((container["env"] as? [[String: Any]])?.first { $0["name"] as? String == "SHARD" })
        #expect(((env["valueFrom"] as? [String: Any])?["fieldRef"] as? [String: Any])?["fieldPath"] as? String
                == "metadata.annotations['batch.kubernetes.io/job-completion-index']")
        // One store and one output per shard.
        #expect(try value("--store").contains("$(SHARD)") && value("--out").contains("$(SHARD)"))
        // The teacher URL names the Service and its port; the Service selects the llama.cpp pods on their port.
        let teacherURL = try #require(URL(string: String(try value("--teacher").dropFirst("openai:".count))))
        let service = try named("Service", teacherURL.host ?? "")["spec"] as! [String: Any]
        let servicePort = (service["ports"] as! [[String: Any]])[0]
        #expect(servicePort["port"] as? Int == teacherURL.port && teacherURL.path == "/v1")
        let deployment = try named("Deployment", "distill-teacher")["spec"] as! [String: Any]
        let teacherPod = (deployment["template"] as! [String: Any])
        #expect((service["selector"] as! [String: String]) == (teacherPod["metadata"] as! [String: Any])["labels"] as? [String: String])
        let server = ((teacherPod["spec"] as! [String: Any])["containers"] as! [[String: Any]])[0]
        let serverPort = (server["ports"] as! [[String: Any]])[0]
        #expect(servicePort["targetPort"] as? String == serverPort["name"] as? String)
        let serverArgs = server["args"] as! [String]
        #expect(serverArgs[serverArgs.firstIndex(of: "--port")! + 1] == String(serverPort["containerPort"] as! Int))
        #expect(serverArgs[serverArgs.firstIndex(of: "-np")! + 1] == "1", "one slot per replica: no batching, reproducible answers")
        // Every llama-server flag exists on the llama-server this repository builds (the same llama.cpp).
        let llamaHelp = try help(try llamaServerBinary(), ["--help"])
        for flag in serverArgs where flag.hasPrefix("-") { #expect(llamaHelp.contains(flag + " ") || llamaHelp.contains(flag + ","), "llama-server has no \(flag)") }
        // Files: the labels from the ConfigMap (a valid label file), input and stores on the shared volume.
        let labelsPath = try value("--labels")
        let mounts = container["volumeMounts"] as! [[String: Any]]
        func volume(of path: String, in mounts: [[String: Any]], pod: [String: Any]) throws -> [String: Any] {
            let mount = try #require(mounts.first { path.hasPrefix(($0["mountPath"] as! String) + "/") }, "\(path) is on no volume")
            return try #require((pod["volumes"] as! [[String: Any]]).first { $0["name"] as? String == mount["name"] as? String })
        }
        let config = try named("ConfigMap", ((try volume(of: labelsPath, in: mounts, pod: pod))["configMap"] as! [String: Any])["name"] as! String)
        let labelText = try #require((config["data"] as! [String: String])[URL(fileURLWithPath: labelsPath).lastPathComponent])
        let names = labelText.split(separator: "\n").map { String($0.split(separator: ":")[0]) }
        #expect(Set(names) == Set(realLogLabels))
        let data = try volume(of: try value("--store"), in: mounts, pod: pod)
        let claim = try named("PersistentVolumeClaim", (data["persistentVolumeClaim"] as! [String: Any])["claimName"] as! String)
        #expect(((claim["spec"] as! [String: Any])["accessModes"] as? [String]) == ["ReadWriteMany"], "shards on several nodes write one volume")
        #expect(try volume(of: try value("--input"), in: mounts, pod: pod)["persistentVolumeClaim"] != nil)
        let labelHelp = try help(distillBinary, ["label", "run", "--help"])
        for flag in args where flag.hasPrefix("--") { #expect(labelHelp.contains(flag), "distill label has no \(flag)") }

        // The merge step: every shard's store in, one store out, then the unsharded run over the merged store.
        let merge = try yaml("kubernetes/label-merge-job.yaml")[0]
        let mergePod = ((merge["spec"] as! [String: Any])["template"] as! [String: Any])["spec"] as! [String: Any]
        let script = (((mergePod["containers"] as! [[String: Any]])[0]["args"] as! [String])[0])
        let stores = (0..<completions).map { try! value("--store").replacingOccurrences(of: "$(SHARD)", with: String($0)) }
        #expect(script.contains("distill label merge " + stores.joined(separator: " ") + " --out "), "\(script)")
        let finalRun = try #require(script.components(separatedBy: "&&").last).split(separator: " ").map(String.init)
        #expect(!finalRun.contains("--shard") && finalRun.contains("--store") && finalRun.contains("--out"))
        let mergeOut = script.components(separatedBy: " --out ")[1].split(separator: " ")[0]
        #expect(finalRun[finalRun.firstIndex(of: "--store")! + 1] == mergeOut)
        let mergeHelp = try help(distillBinary, ["label", "merge", "--help"])
        #expect(mergeHelp.contains("--out"))
        for flag in finalRun where flag.hasPrefix("--") { #expect(labelHelp.contains(flag), "distill label has no \(flag)") }
        #expect(((mergePod["volumes"] as! [[String: Any]]).first { $0["name"] as? String == "data" }?["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String
                == (data["persistentVolumeClaim"] as! [String: Any])["claimName"] as? String)
    }

    /// The llama-server `scripts/build_llama_server.sh` built (it only prints the path when built already).
    func llamaServerBinary() throws -> URL {
        let output = try help(URL(fileURLWithPath: "/bin/bash"), [projectRoot.appendingPathComponent("scripts/build_llama_server.sh").path])
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("LLAMA_SERVER=") }, "no llama-server (make llm): \(output)")
        return URL(fileURLWithPath: String(line.dropFirst("LLAMA_SERVER=".count)))
    }

    func serveHelp() throws -> String { try help(distillBinary, ["serve", "--help"]) }

    /// What `binary arguments` prints on stdout and stderr.
    func help(_ binary: URL, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
