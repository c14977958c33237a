import Foundation

/// A self-contained HTML page of an ``EvaluationReport`` (no network: inline CSS and SVG): headline numbers, the
/// confusion matrix as a heat map, per-class precision/recall/F1 bars, the reliability diagram, the training
/// and dev curves of a run's `train.jsonl`, and the run's checks. `train` writes it as `report.html`, `eval --html`
/// where asked.
public enum ReportHTML {
    /// A point of a run's `train.jsonl`: a training step's loss or a dev evaluation.
    public struct Curves: Sendable {
        public var loss: [(step: Int, value: Double)] = []
        public var devMacroF1: [(step: Int, value: Double)] = []

        /// Reads `train.jsonl` (lines that are not JSON objects are skipped: the file may be mid-write).
        public static func read(_ url: URL) -> Curves? {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
            var curves = Curves()
            for line in text.split(separator: "\n") {
                guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any], let step = o["step"] as? Int else { continue }
                if let e = o["eval"] as? [String: Any], let f1 = e["macro_f1"] as? Double { curves.devMacroF1.append((step, f1)) }
                else if let loss = o["loss"] as? Double, loss.isFinite { curves.loss.append((step, loss)) }
            }
            return curves
        }
    }

    /// The page.
    public static func page(_ report: EvaluationReport, title: String, curves: Curves? = nil) -> String {
        var body = "<h1>\(escape(title))</h1>\n"
        body += "<div class=\"numbers\" id=\"headline\">" + headline(report) + "</div>\n"
        if let checks = report.checks, !checks.warnings.isEmpty {
            body += "<section id=\"warnings\"><h2>Warnings</h2><ul>" + checks.warnings.map { "<li>\(escape($0))</li>" }.joined() + "</ul></section>\n"
        }
        body += "<section><h2>Confusion matrix</h2><p>Rows: gold label; columns: predicted. Darker: more lines.</p>\n" + confusion(report) + "</section>\n"
        body += "<section><h2>Per class</h2>\n" + perClass(report) + "</section>\n"
        if let bins = report.reliability {
            body += "<section><h2>Reliability</h2><p>Accuracy against confidence per bin (ECE \(format(report.expectedCalibrationError))); the diagonal is perfect calibration.</p>\n"
                + reliability(bins) + "</section>\n"
        }
        if let curves, !curves.loss.isEmpty {
            body += "<section><h2>Training</h2>\n" + lineChart(id: "loss-curve", points: curves.loss, label: "training loss")
            if !curves.devMacroF1.isEmpty { body += lineChart(id: "dev-curve", points: curves.devMacroF1, label: "dev macro-F1", range: 0...1) }
            body += "</section>\n"
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
        h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}
        .numbers span{display:inline-block;margin:0 1.5em .5em 0}.numbers b{font-size:1.3em}
        svg text{font-size:11px;font-family:system-ui,sans-serif}
        table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
        #warnings li{color:#a40}
        </style></head><body>
        \(body)
        </body></html>

        """
    }

    static func headline(_ r: EvaluationReport) -> String {
        var items = [("examples", "\(r.examples)"), ("accuracy", format(r.accuracy)), ("macro-F1", format(r.macroF1)), ("ECE", format(r.expectedCalibrationError))]
        if let a = r.agreementWithTeacher { items.append(("agreement with teacher", format(a))) }
        if let p = r.parameters { items.append(("parameters", "\(p)")) }
        if let s = r.sizeOnDiskBytes { items.append(("size", String(format: "%.2f MiB", Double(s) / 1_048_576))) }
        if let sp = r.speed { items.append(("latency p50", String(format: "%.3f ms", sp.p50Milliseconds))) }
        return items.map { "<span>\(escape($0.0))<br><b>\(escape($0.1))</b></span>" }.joined()
    }

    static func confusion(_ r: EvaluationReport) -> String {
        let k = r.labels.count, cell = 34, left = 150, top = 110
        let maxCount = max(1, r.confusion.flatMap { $0 }.max() ?? 1)
        var svg = "<svg id=\"confusion\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(left + k * cell + 80)\" height=\"\(top + k * cell + 10)\">"
        for (j, label) in r.labels.enumerated() {
            svg += "<text transform=\"translate(\(left + j * cell + cell / 2),\(top - 6)) rotate(-60)\">\(escape(label))</text>"
        }
        for (i, row) in r.confusion.enumerated() {
            svg += "<text x=\"\(left - 6)\" y=\"\(top + i * cell + cell / 2 + 4)\" text-anchor=\"end\">\(escape(r.labels[i]))</text>"
            for (j, n) in row.enumerated() {
                let shade = n == 0 ? 0 : 0.12 + 0.88 * Double(n) / Double(maxCount)
                let color = i == j ? "31,119,180" : "214,39,40"
                svg += "<rect class=\"cell\" data-gold=\"\(i)\" data-predicted=\"\(j)\" data-count=\"\(n)\" x=\"\(left + j * cell)\" y=\"\(top + i * cell)\" width=\"\(cell - 1)\" height=\"\(cell - 1)\" fill=\"rgba(\(color),\(String(format: "%.3f", shade)))\" stroke=\"#ddd\"><title>\(escape(r.labels[i])) → \(escape(r.labels[j])): \(n)</title></rect>"
                if n > 0 {
                    svg += "<text x=\"\(left + j * cell + cell / 2)\" y=\"\(top + i * cell + cell / 2 + 4)\" text-anchor=\"middle\" fill=\"\(shade > 0.55 ? "#fff" : "#222")\">\(n)</text>"
                }
            }
        }
        return svg + "</svg>\n"
    }

    static func perClass(_ r: EvaluationReport) -> String {
        let rowHeight = 18, left = 150, width = 300
        var svg = "<svg id=\"per-class\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(left + width + 170)\" height=\"\(r.perClass.count * rowHeight * 3 + 20)\">"
        let colors = [("precision", "#1f77b4"), ("recall", "#ff7f0e"), ("f1", "#2ca02c")]
        for (i, c) in r.perClass.enumerated() {
            let y0 = i * rowHeight * 3 + 10
            svg += "<text x=\"\(left - 6)\" y=\"\(y0 + rowHeight + 4)\" text-anchor=\"end\">\(escape(c.label)) (\(c.support))</text>"
            for (k, (name, color)) in colors.enumerated() {
                let value = [c.precision, c.recall, c.f1][k]
                svg += "<rect class=\"bar\" data-label=\"\(escape(c.label))\" data-metric=\"\(name)\" data-value=\"\(format(value))\" x=\"\(left)\" y=\"\(y0 + k * (rowHeight - 2))\" width=\"\(String(format: "%.1f", value * Double(width)))\" height=\"\(rowHeight - 5)\" fill=\"\(color)\"><title>\(name) \(format(value))</title></rect>"
                svg += "<text x=\"\(left + Int(value * Double(width)) + 4)\" y=\"\(y0 + k * (rowHeight - 2) + 10)\">\(name) \(format(value))</text>"
            }
        }
        return svg + "</svg>\n"
    }

    static func reliability(_ bins: [EvaluationReport.CalibrationBin]) -> String {
        let size = 260, pad = 30
        var svg = "<svg id=\"reliability\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(size + 2 * pad)\" height=\"\(size + 2 * pad)\">"
        svg += "<rect x=\"\(pad)\" y=\"\(pad)\" width=\"\(size)\" height=\"\(size)\" fill=\"none\" stroke=\"#999\"/>"
        svg += "<line x1=\"\(pad)\" y1=\"\(pad + size)\" x2=\"\(pad + size)\" y2=\"\(pad)\" stroke=\"#999\" stroke-dasharray=\"4\"/>"
        for b in bins where b.examples > 0 {
            let x = Double(pad) + b.lower * Double(size), w = (b.upper - b.lower) * Double(size) - 1
            let h = b.accuracy * Double(size)
            svg += "<rect class=\"bin\" data-examples=\"\(b.examples)\" x=\"\(String(format: "%.1f", x))\" y=\"\(String(format: "%.1f", Double(pad + size) - h))\" width=\"\(String(format: "%.1f", w))\" height=\"\(String(format: "%.1f", h))\" fill=\"rgba(31,119,180,0.7)\"><title>confidence \(format(b.meanConfidence)), accuracy \(format(b.accuracy)), \(b.examples) lines</title></rect>"
        }
        svg += "<text x=\"\(pad + size / 2)\" y=\"\(pad + size + 22)\" text-anchor=\"middle\">confidence</text>"
        svg += "<text transform=\"translate(12,\(pad + size / 2)) rotate(-90)\" text-anchor=\"middle\">accuracy</text>"
        return svg + "</svg>\n"
    }

    static func lineChart(id: String, points: [(step: Int, value: Double)], label: String, range: ClosedRange<Double>? = nil) -> String {
        let width = 640, height = 200, pad = 36
        let steps = points.map(\.step), values = points.map(\.value)
        let (x0, x1) = (Double(steps.min() ?? 0), Double(max((steps.max() ?? 1), (steps.min() ?? 0) + 1)))
        let lo = range?.lowerBound ?? (values.min() ?? 0), hi = max(range?.upperBound ?? (values.max() ?? 1), lo + 1e-9)
        func x(_ s: Int) -> Double { Double(pad) + (Double(s) - x0) / (x1 - x0) * Double(width - 2 * pad) }
        func y(_ v: Double) -> Double { Double(height - pad) - (v - lo) / (hi - lo) * Double(height - 2 * pad) }
        // At most 400 points drawn (a long run has thousands of steps).
        let stride = max(1, points.count / 400)
        let path = Swift.stride(from: 0, to: points.count, by: stride).map { String(format: "%.1f,%.1f", x(points[$0].step), y(points[$0].value)) }.joined(separator: " ")
        var svg = "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\">"
        svg += "<rect x=\"\(pad)\" y=\"\(pad)\" width=\"\(width - 2 * pad)\" height=\"\(height - 2 * pad)\" fill=\"none\" stroke=\"#ccc\"/>"
        svg += "<polyline class=\"curve\" data-points=\"\(points.count)\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"\(path)\"/>"
        svg += "<text x=\"\(pad)\" y=\"\(pad - 8)\">\(escape(label)): \(format(values.first ?? 0)) → \(format(values.last ?? 0)) over \(steps.last ?? 0) steps</text>"
        svg += "<text x=\"\(pad - 4)\" y=\"\(pad + 4)\" text-anchor=\"end\">\(format(hi))</text><text x=\"\(pad - 4)\" y=\"\(height - pad)\" text-anchor=\"end\">\(format(lo))</text>"
        return svg + "</svg>\n"
    }

    static func format(_ v: Double) -> String { String(format: "%.4f", v) }

    /// HTML text escaping (labels and warnings come from user files).
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
