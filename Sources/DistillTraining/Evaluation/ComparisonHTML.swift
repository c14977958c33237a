import Foundation

/// A self-contained HTML page comparing models of one run (the demo's teacher and students): the table, and
/// size/quality and latency/quality scatter plots (log-scaled cost axes) with each chart's Pareto front — the models
/// no other model beats on both cost and macro-F1 — drawn as a line and marked in the table.
public enum ComparisonHTML {
    /// One model of the comparison.
    public struct Row: Codable, Sendable {
        /// The model, as the table names it.
        public var name: String
        /// Shares in 0...1 on the comparison's test lines.
        public var accuracy: Double
        public var macroF1: Double
        public var agreementWithTeacher: Double?
        /// Unknown for peers that do not say (nil: left blank; a row without a size or latency is left out of that chart).
        public var parameters: Int?
        public var sizeOnDiskBytes: Int?
        /// The latency axis: the demo's median single-line latency, the quality benchmark's batch time per line.
        public var millisecondsPerLine: Double?
        /// Lines per second.
        public var throughput: Double?

        enum CodingKeys: String, CodingKey {
            case name, accuracy, macroF1 = "macro_f1", agreementWithTeacher = "agreement_with_teacher", parameters
            case sizeOnDiskBytes = "size_bytes", millisecondsPerLine = "ms_per_line", throughput = "lines_per_second"
        }

        public init(name: String, accuracy: Double, macroF1: Double, agreementWithTeacher: Double?, parameters: Int?, sizeOnDiskBytes: Int?,
                    millisecondsPerLine: Double?, throughput: Double?) {
            (self.name, self.accuracy, self.macroF1, self.agreementWithTeacher) = (name, accuracy, macroF1, agreementWithTeacher)
            (self.parameters, self.sizeOnDiskBytes, self.millisecondsPerLine, self.throughput) = (parameters, sizeOnDiskBytes, millisecondsPerLine, throughput)
        }
    }

    /// Indices of the rows on the Pareto front of (lower `cost`, higher macro-F1), by ascending cost; rows without a
    /// cost are not on it.
    public static func paretoFront(_ rows: [Row], cost: (Row) -> Double?) -> [Int] {
        let order = rows.indices.filter { cost(rows[$0]) != nil }.sorted { (cost(rows[$0])!, -rows[$0].macroF1) < (cost(rows[$1])!, -rows[$1].macroF1) }
        var front: [Int] = [], best = -Double.infinity
        for i in order where rows[i].macroF1 > best {
            front.append(i)
            best = rows[i].macroF1
        }
        return front
    }

    /// A comparison as a file (`distill report --comparison`): the page's title and subtitle, what `ms_per_line`
    /// measures, and the rows.
    public struct Document: Codable, Sendable {
        /// The page's heading.
        public var title: String
        /// A line under it: what was measured on what.
        public var subtitle: String
        /// What `ms_per_line` measures (default: ``singleLineLatency``).
        public var latency: String?
        /// The models, in table order.
        public var rows: [Row]
    }

    /// What the demo's `ms_per_line` is.
    public static let singleLineLatency = "median single-line latency"

    /// The page: the table, then the size and latency charts, each marking its Pareto front.
    public static func page(title: String, subtitle: String, rows: [Row], latency: String = singleLineLatency) -> String {
        // Each front once: the table marks its members, the chart draws it.
        let sizeOrder = paretoFront(rows) { $0.sizeOnDiskBytes.map(Double.init) }, latencyOrder = paretoFront(rows) { $0.millisecondsPerLine }
        let sizeFront = Set(sizeOrder), latencyFront = Set(latencyOrder)
        var table = "<table id=\"models\"><tr><th>model</th><th>accuracy</th><th>macro-F1</th><th>agreement with teacher</th><th>parameters</th>"
            + "<th>size</th><th>\(ReportHTML.escape(latency))</th><th>throughput</th><th>Pareto (size / latency)</th></tr>"
        for (i, r) in rows.enumerated() {
            let marks = [sizeFront.contains(i) ? "size" : nil, latencyFront.contains(i) ? "latency" : nil].compactMap { $0 }.joined(separator: ", ")
            table += "<tr class=\"model\" data-pareto=\"\(marks)\"><td>\(ReportHTML.escape(r.name))</td><td>\(ReportHTML.format(r.accuracy))</td>"
                + "<td>\(ReportHTML.format(r.macroF1))</td><td>\(r.agreementWithTeacher.map(ReportHTML.format) ?? "")</td>"
                + "<td>\(r.parameters.map { $0.formatted(.number.grouping(.automatic)) } ?? "")</td><td>\(r.sizeOnDiskBytes.map { String(format: "%.2f MB", Double($0) / 1e6) } ?? "")</td>"
                + "<td>\(r.millisecondsPerLine.map { String(format: "%.3f ms", $0) } ?? "")</td><td>\(r.throughput.map { String(format: "%.0f lines/s", $0) } ?? "")</td>"
                + "<td>\(marks.isEmpty ? "—" : marks)</td></tr>"
        }
        table += "</table>\n"
        let body = "<h1>\(ReportHTML.escape(title))</h1>\n<p>\(ReportHTML.escape(subtitle))</p>\n" + table
            + "<section><h2>Size against quality</h2><p>Size on disk (log scale) and macro-F1 on the test lines; the line joins the Pareto front "
            + "(no other model is both smaller and better).</p>\n"
            + scatter(id: "pareto-size", rows: rows, front: sizeOrder, cost: { $0.sizeOnDiskBytes.map { Double($0) / 1e6 } }, unit: "MB")
            + "</section>\n<section><h2>Latency against quality</h2><p>\(ReportHTML.escape(latency.prefix(1).uppercased() + latency.dropFirst())) (log scale) and macro-F1.</p>\n"
            + scatter(id: "pareto-latency", rows: rows, front: latencyOrder, cost: { $0.millisecondsPerLine }, unit: "ms")
            + "</section>\n"
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(ReportHTML.escape(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
        h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}
        svg text{font-size:11px;font-family:system-ui,sans-serif}
        table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}th:first-child,td:first-child{text-align:left}
        tr[data-pareto=""] td{color:#777}
        </style></head><body>
        \(body)
        </body></html>

        """
    }

    /// A scatter plot: cost (log10 x) against macro-F1 (y), the front as a step line, each point labelled by its row number.
    static func scatter(id: String, rows: [Row], front: [Int], cost: (Row) -> Double?, unit: String) -> String {
        let width = 720, height = 320, left = 50, right = 20, top = 20, bottom = 40
        let costs = rows.map { cost($0).map { max($0, 1e-6) } }
        let known = costs.compactMap { $0 }
        let lo = log10(known.min() ?? 1) - 0.15, hi = max(log10(known.max() ?? 10) + 0.15, lo + 0.3)
        let f1s = rows.map(\.macroF1)
        let yLo = max(0, (f1s.min() ?? 0) - 0.05), yHi = min(1, max((f1s.max() ?? 1) + 0.05, yLo + 0.1))
        func x(_ c: Double) -> Double { Double(left) + (log10(max(c, 1e-6)) - lo) / (hi - lo) * Double(width - left - right) }
        func y(_ v: Double) -> Double { Double(height - bottom) - (v - yLo) / (yHi - yLo) * Double(height - top - bottom) }
        var svg = "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\">"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width - left - right)\" height=\"\(height - top - bottom)\" fill=\"none\" stroke=\"#ccc\"/>"
        // Decade ticks on the cost axis.
        for e in Int(lo.rounded(.up))...max(Int(lo.rounded(.up)), Int(hi.rounded(.down))) {
            let px = x(pow(10, Double(e)))
            svg += "<line x1=\"\(String(format: "%.1f", px))\" y1=\"\(height - bottom)\" x2=\"\(String(format: "%.1f", px))\" y2=\"\(height - bottom + 4)\" stroke=\"#999\"/>"
            svg += "<text x=\"\(String(format: "%.1f", px))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(pow(10, Double(e)).formatted()) \(unit)</text>"
        }
        svg += "<text x=\"\(left - 6)\" y=\"\(top + 4)\" text-anchor=\"end\">\(String(format: "%.2f", yHi))</text>"
        svg += "<text x=\"\(left - 6)\" y=\"\(height - bottom)\" text-anchor=\"end\">\(String(format: "%.2f", yLo))</text>"
        svg += "<text transform=\"translate(12,\((height - bottom + top) / 2)) rotate(-90)\" text-anchor=\"middle\">macro-F1</text>"
        if front.count > 1 {
            // A step line: quality holds until the next, costlier model on the front.
            var points: [String] = []
            for (k, i) in front.enumerated() {
                if k > 0 { points.append(String(format: "%.1f,%.1f", x(costs[i]!), y(rows[front[k - 1]].macroF1))) }
                points.append(String(format: "%.1f,%.1f", x(costs[i]!), y(rows[i].macroF1)))
            }
            svg += "<polyline class=\"front\" fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>"
        }
        let onFront = Set(front)
        for (i, r) in rows.enumerated() {
            guard let c = costs[i] else { continue }
            let (px, py) = (x(c), y(r.macroF1))
            svg += "<circle class=\"point\" data-model=\"\(ReportHTML.escape(r.name))\" data-front=\"\(onFront.contains(i))\" cx=\"\(String(format: "%.1f", px))\" cy=\"\(String(format: "%.1f", py))\" r=\"5\" "
                + "fill=\"\(onFront.contains(i) ? "#2ca02c" : "#999")\"><title>\(ReportHTML.escape(r.name)): macro-F1 \(ReportHTML.format(r.macroF1)), \(String(format: "%.3g", c)) \(unit)</title></circle>"
            svg += "<text x=\"\(String(format: "%.1f", px + 7))\" y=\"\(String(format: "%.1f", py - 6))\">\(i + 1)</text>"
        }
        svg += "<text x=\"\(width - right)\" y=\"\(height - 4)\" text-anchor=\"end\">points numbered as the table's rows</text>"
        return svg + "</svg>\n"
    }
}
