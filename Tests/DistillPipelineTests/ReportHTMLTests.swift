import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

/// Issue 16 item 5: the report people look at, rendered by a real browser.
@Suite("HTML reports")
struct ReportHTMLTests {
    /// Chromium's DOM of `page` after loading it headless, and the size in bytes of a screenshot of it.
    func render(_ page: URL) throws -> (dom: String, screenshotBytes: Int) {
        func chromium(_ arguments: [String]) throws -> Data {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
            process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"] + arguments + [page.absoluteString]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return data
        }
        let dom = String(decoding: try chromium(["--dump-dom"]), as: UTF8.self)
        let shot = page.deletingLastPathComponent().appendingPathComponent("shot.png")
        _ = try chromium(["--screenshot=\(shot.path)", "--window-size=1100,1600"])
        let bytes = (try? FileManager.default.attributesOfItem(atPath: shot.path)[.size] as? Int) ?? 0
        return (dom, bytes ?? 0)
    }

    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test("train writes report.html (and eval --html): headless Chromium finds the heat map, bars, reliability and curves; nothing is fetched")
    func trainReport() throws {
        let dir = try makeProject(epochs: 3, checkpointEvery: 50)
        let trained = try runDistill(["train", "--recipe", dir.appendingPathComponent("recipe.yaml").path])
        #expect(trained.status == 0, "\(trained.stderr)")
        let page = dir.appendingPathComponent("run/report.html")
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<script"), "self-contained")
        let (dom, screenshot) = try render(page)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("run/report.json"))) as! [String: Any]
        let labels = report["labels"] as! [String]
        let confusion = report["confusion"] as! [[Int]]
        #expect(count("class=\"cell\"", in: dom) == labels.count * labels.count, "one heat-map cell per gold x predicted pair")
        // The cells carry the report's counts.
        for (i, row) in confusion.enumerated() {
            for (j, n) in row.enumerated() { #expect(dom.contains("data-gold=\"\(i)\" data-predicted=\"\(j)\" data-count=\"\(n)\""), "cell \(i),\(j)") }
        }
        #expect(count("class=\"bar\"", in: dom) == 3 * labels.count)
        let bins = report["reliability"] as! [[String: Any]]
        #expect(bins.count == report["calibrationBins"] as? Int && count("class=\"bin\"", in: dom) == bins.filter { ($0["examples"] as! Int) > 0 }.count)
        #expect(bins.map { $0["examples"] as! Int }.reduce(0, +) == report["examples"] as? Int)
        #expect(dom.contains("id=\"loss-curve\"") && dom.contains("id=\"dev-curve\"") && dom.contains("class=\"curve\""))
        #expect(screenshot > 20_000, "the page rendered (\(screenshot) bytes of PNG)")

        let evalPage = dir.appendingPathComponent("eval.html")
        let evaluated = try runDistill(["eval", "--model", dir.appendingPathComponent("run/final").path, "--data", dir.appendingPathComponent("data/test.jsonl").path,
                                        "--html", evalPage.path])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let evalHTML = try String(contentsOf: evalPage, encoding: .utf8)
        #expect(count("class=\"cell\"", in: evalHTML) == labels.count * labels.count && evalHTML.contains("id=\"reliability\""))
    }

    @Test("the demo's comparison page: headless Chromium finds one point per model in both Pareto charts; the front is the undominated models")
    func comparisonPage() throws {
        // Sizes and latencies of the demo's kinds of models (a 90 MB teacher, int8 and F32 students, a worse big bag).
        let rows = [("teacher", 0.93, 90e6, 2.1), ("tiny BERT", 0.88, 4.2e6, 0.09), ("tiny BERT int8", 0.879, 1.3e6, 0.08),
                    ("bag", 0.86, 67e6, 0.02), ("bag int8", 0.862, 17e6, 0.02), ("bag, hard labels", 0.80, 67e6, 0.02)].map {
            ComparisonHTML.Row(name: $0.0, accuracy: $0.1, macroF1: $0.1, agreementWithTeacher: nil, parameters: 1000, sizeOnDiskBytes: Int($0.2),
                               millisecondsPerLine: $0.3, throughput: 1000 / $0.3)
        }
        #expect(ComparisonHTML.paretoFront(rows) { $0.sizeOnDiskBytes.map(Double.init) } == [2, 1, 0], "smallest first; the bags are beaten by the int8 BERT")
        #expect(ComparisonHTML.paretoFront(rows) { $0.millisecondsPerLine } == [4, 2, 1, 0], "the int8 bag is the fastest; the F32 bag ties it and is worse")
        let page = temporaryFolder("comparison").appendingPathComponent("report.html")
        try Data(ComparisonHTML.page(title: "demo <run>", subtitle: "s", rows: rows).utf8).write(to: page)
        let (dom, screenshot) = try render(page)
        #expect(dom.contains("id=\"pareto-size\"") && dom.contains("id=\"pareto-latency\"") && dom.contains("demo &lt;run&gt;"))
        #expect(count("class=\"point\"", in: dom) == 2 * rows.count && count("class=\"front\"", in: dom) == 2)
        #expect(count("data-front=\"true\"", in: dom) == 3 + 4 && count("class=\"model\"", in: dom) == rows.count)
        #expect(screenshot > 10_000, "the page rendered (\(screenshot) bytes of PNG)")
    }

    @Test("the quality benchmark's page: bench/quality_table.py's comparison rendered by `distill report`; a model without a size stays in the table, off the size chart; the student-peer interval resamples whole templates; bad JSON names the key")
    func qualityPage() throws {
        let dir = temporaryFolder("quality")
        let split = dir.appendingPathComponent("split"), predictions = dir.appendingPathComponent("predictions")
        try FileManager.default.createDirectory(at: split, withIntermediateDirectories: true)
        let gold = ["normal", "database", "normal", "auth", "network", "normal"]
        for test in ["test-heldout", "test-seen"] {
            try gold.enumerated().map { #"{"text": "line \#($0.offset)", "label": "\#($0.element)", "template": "t\#($0.offset % 3)"}"# }.joined(separator: "\n")
                .write(to: split.appendingPathComponent("\(test).jsonl"), atomically: true, encoding: .utf8)
        }
        let models: [(String, [String], String)] = [
            ("teacher", gold, #"{"size_bytes": 90000000, "lines_per_second": 400}"#),
            ("student", ["normal", "database", "normal", "auth", "normal", "normal"], #"{"size_bytes": 2000000, "lines_per_second": 90000}"#),
            ("peer", ["normal", "normal", "normal", "auth", "network", "normal"], #"{"lines_per_second": 20000}"#),
        ]
        var arguments = [projectRoot.appendingPathComponent("bench/quality_table.py").path, split.path, dir.appendingPathComponent("quality.md").path, "teacher"]
        for (name, answers, meta) in models {
            let folder = predictions.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for test in ["test-heldout", "test-seen"] {
                try answers.map { #"{"label": "\#($0)"}"# }.joined(separator: "\n").write(to: folder.appendingPathComponent("\(test).jsonl"), atomically: true, encoding: .utf8)
            }
            try meta.write(to: folder.appendingPathComponent("meta.json"), atomically: true, encoding: .utf8)
            arguments.append("\(name)=\(folder.path):\(name == "peer" ? "peer" : name == "teacher" ? "teacher" : "student")")
        }
        let table = Process()
        table.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        table.arguments = ["python3"] + arguments
        table.standardOutput = FileHandle.nullDevice
        try table.run()
        table.waitUntilExit()
        #expect(table.terminationStatus == 0)
        // Student and peer each miss one line of template t1 (network, database): resampled by whole templates, every
        // draw scores them alike, where resampling lines one by one would not.
        let markdown = try String(contentsOf: dir.appendingPathComponent("quality.md"), encoding: .utf8)
        #expect(markdown.contains("Resampling the 3 held-out templates") && markdown.contains("lies in [+0.0, +0.0] points (95%)"), "\(markdown)")
        let page = dir.appendingPathComponent("quality.html")
        let run = try runDistill(["report", "--comparison", dir.appendingPathComponent("quality-comparison.json").path, "--out", page.path])
        #expect(run.status == 0 && run.stderr.contains("report: 3 models"), "\(run.output)")
        let (dom, _) = try render(page)
        #expect(count("class=\"model\"", in: dom) == 3 && dom.contains("batch time per line"))
        let sizeChart = try #require(dom.range(of: "id=\"pareto-size\"").map { String(dom[$0.lowerBound...]) })
        let sizeSVG = String(sizeChart.prefix(upTo: sizeChart.range(of: "</svg>")!.lowerBound))
        #expect(count("class=\"point\"", in: sizeSVG) == 2, "the peer has no size: not on the size chart")
        #expect(count("class=\"point\"", in: dom) == 2 + 3)

        let broken = try runDistill(["report", "--comparison", "-", "--out", "-"], stdin: Data(#"{"title": "t", "subtitle": "s", "rows": [{"name": "x", "accuracy": "high"}]}"#.utf8))
        #expect(broken.status == 1 && broken.stderr.contains("<stdin>: key 'rows.0.accuracy'"), "\(broken.output)")
    }

    @Test("labels and warnings from user files are escaped")
    func escaping() throws {
        var report = EvaluationReport.compute(probabilities: [[0.9, 0.1], [0.2, 0.8]], gold: [0, 1], labels: ["<script>x</script>", "a&b"])
        report.checks = try JSONDecoder().decode(RunChecks.self, from: Data(#"{"warnings": ["\"quoted\" <b>"]}"#.utf8))
        let page = ReportHTML.page(report, title: "t<i>")
        #expect(!page.contains("<script>x") && page.contains("&lt;script&gt;x&lt;/script&gt;") && page.contains("a&amp;b"))
        #expect(page.contains("&quot;quoted&quot; &lt;b&gt;") && page.contains("t&lt;i&gt;"))
    }
}
