import DistillText
import Foundation
import PropertyBased
import Testing

/// No log line may trap a scanner: digit runs of any length in every token shape the maskers look at, and
/// random bytes, through every mask on its own and all together, the normalizer (every envelope), the model-text
/// hot path, the template miner and the n-gram featurizer.
@Suite("Scanners take any line")
struct ScannerPropertyTests {
    /// Every mask alone, none, and all: each classifier path is reached without the ones before it.
    static let maskSets: [LogMasks] = [[], .all] + LogMasks.names.map(\.1)

    /// Token shapes that put a digit run where a scanner reads numbers: IPv4 octets and ports, IPv6 groups,
    /// timestamps, durations, sizes, percentages, hex, HDFS block ids, syslog priorities, JSON escapes.
    static let shapes: [@Sendable (String) -> String] = [
        { $0 }, { "-\($0)" }, { "+\($0)" }, { "blk_-\($0)" }, { "blk_\($0)" }, { "\($0).1.1.1" }, { "1.1.1.\($0)" },
        { "10.0.0.1:\($0)" }, { "\($0):\($0)" }, { "[::1]:\($0)" }, { "[\($0)::1]" }, { "fe80::\($0)" }, { "\($0)ms" },
        { "\($0).5s" }, { "\($0)MiB" }, { "\($0)%" }, { "0x\($0)" }, { "\($0)abcdef" }, { "2026-11-29T\($0):00:00Z" },
        { "\($0)-\($0)-\($0)" }, { "<\($0)>1 2026-11-29T01:02:03Z host app - - - msg" }, { "<\($0)>Nov 29 01:02:03 host app: msg" },
        { "{\"msg\":\"x\\u\($0)\",\"level\":\"\($0)\"}" }, { "I\($0) 01:02:03.456789 1 file.go:\($0)] msg" },
        { "payments-\($0)-x2k4q" }, { "\($0)m\($0)s" }, { "ERROR [\($0)] pid=\($0) port \($0)" },
    ]

    static let normalizer = LogNormalizer()
    static let featurizer = NGramFeaturizer()

    /// Runs `line` through everything that reads raw log lines; returns the all-masks masked text.
    static func exercise(_ line: String) -> String {
        var masked = ""
        for masks in maskSets {
            let out = LogMasker(masks: masks).mask(line)
            if masks == .all { masked = out }
            _ = LogNormalizer(masks: masks).normalize(line)
        }
        var buffer: [UInt8] = []
        let range = normalizer.writeModelText(line, into: &buffer)
        precondition(range.upperBound <= buffer.count)
        _ = featurizer.features(line)
        let miner = TemplateMiner()
        _ = miner.add(line)
        _ = miner.match(line)
        return masked
    }

    @Test("digit runs of 1 to 100 digits in every numeric token shape")
    func digitRuns() async {
        await propertyCheck(count: 300, input: Gen.int(in: 1...100), Gen.int(in: 0..<Self.shapes.count), Gen.number.string(of: 1...1)) { length, shape, lead in
            // A leading digit other than 0 keeps the run a decimal number of exactly `length` digits.
            let digits = (lead == "0" ? "7" : lead) + String(repeating: "9", count: length - 1)
            let line = "job " + Self.shapes[shape](digits) + " done"
            let masked = Self.exercise(line)
            #expect(masked.hasPrefix("job ") && masked.hasSuffix(" done"), "\(line) -> \(masked)")
            if shape == 0 {
                // A bare digit run of any length is one number, never an address.
                #expect(masked == "job <NUM> done", "\(line) -> \(masked)")
            }
        }
    }

    @Test("every run length 1-100 as a bare number, an IPv4 octet, a port and an HDFS block id")
    func exhaustiveLengths() {
        let masker = LogMasker()
        for length in 1...100 {
            let run = String(repeating: "9", count: length)
            #expect(masker.mask("n \(run) x") == "n <NUM> x")
            // An octet of 1-2 nines is at most 99; from 3 digits (999 and up) it is no address and stays as written.
            #expect(masker.mask("a 1.2.3.\(run) x") == (length <= 2 ? "a <IP> x" : "a 1.2.3.\(run) x"))
            #expect(masker.mask("p 10.0.0.1:\(run) x") == "p <IP>:<PORT> x")
            let block = masker.mask("Receiving block blk_-\(run) src")
            #expect(block.hasPrefix("Receiving block blk_") && block.hasSuffix(" src"))
            _ = Self.exercise("blk_-\(run) 1.1.1.\(run) \(run):\(run) [\(run)::1]:\(run) <\(run)>1 \(run)ms")
        }
    }

    @Test("random bytes, including invalid UTF-8 and control bytes")
    func randomBytes() async {
        await propertyCheck(count: 400, input: Gen.uint8(in: 0...255).array(of: 0...300)) { bytes in
            let line = String(decoding: bytes, as: UTF8.self)
            let masked = Self.exercise(line)
            #expect(masked.utf8.count <= line.utf8.count * 12 + 16)
            let normalized = Self.normalizer.normalize(utf8: bytes)
            #expect(normalized.masked == LogMasker().mask(normalized.message))
        }
    }

    @Test("random printable text built from the characters scanners branch on")
    func scannerAlphabet() async {
        let alphabet = Array("0123456789abcdefxX:.-+/\\[]<>{}\"'=,;@%_ TZmshBKiMG\t")
        await propertyCheck(count: 400, input: Gen.int(in: 0..<alphabet.count).array(of: 0...120)) { picks in
            let line = String(picks.map { alphabet[$0] })
            let masked = Self.exercise(line)
            #expect(masked.count <= line.count * 12 + 16)
        }
    }
}
