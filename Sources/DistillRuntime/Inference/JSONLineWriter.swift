/// Appends JSON values to a byte buffer without building objects: the output side of `distill classify` and
/// `distill serve`, where a generic serializer would cost more than the model.
public struct JSONLineWriter {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    public mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A JSON string literal (quotes, backslashes and control characters escaped; other UTF-8 as is).
    public mutating func string(_ s: String) {
        bytes.append(34)
        for b in s.utf8 {
            switch b {
            case 34: bytes.append(92); bytes.append(34)
            case 92: bytes.append(92); bytes.append(92)
            case 10: bytes.append(92); bytes.append(110)
            case 13: bytes.append(92); bytes.append(114)
            case 9: bytes.append(92); bytes.append(116)
            case 0..<32:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(34)
    }

    public mutating func int(_ v: Int) { bytes.append(contentsOf: String(v).utf8) }

    /// A probability with 6 significant decimals (`0.912345`, `1`, `3.1e-07`).
    public mutating func probability(_ v: Float) {
        guard v.isFinite else { raw("null"); return }  // a broken model's NaN must not break the JSON
        if v >= 1 { bytes.append(49); return }
        if v <= 0 { bytes.append(48); return }
        if v >= 1e-4 {
            var scaled = Int((Double(v) * 1_000_000).rounded())
            if scaled >= 1_000_000 { bytes.append(49); return }
            if scaled == 0 { bytes.append(48); return }
            var digits = [UInt8](repeating: 48, count: 6)
            for k in stride(from: 5, through: 0, by: -1) { digits[k] = UInt8(48 + scaled % 10); scaled /= 10 }
            while digits.last == 48 { digits.removeLast() }
            bytes.append(48); bytes.append(46)
            bytes.append(contentsOf: digits)
        } else {
            bytes.append(contentsOf: "\(v)".utf8)
        }
    }

    /// One prediction as the fields `"label":…,"probability":…,"top":[…],"template":"…"` (no braces).
    public mutating func predictionFields(_ p: Classifier.Prediction, labels: [String], topK: Int) {
        raw("\"label\":"); string(p.label(in: labels))
        raw(",\"probability\":"); probability(p.probability)
        raw(",\"top\":[")
        for (n, k) in p.top(topK).enumerated() {
            if n > 0 { bytes.append(44) }
            raw("{\"label\":"); string(labels[k]); raw(",\"probability\":"); probability(p.probabilities[k]); bytes.append(125)
        }
        raw("],\"template\":\"")
        Classifier.appendHex(p.templateHash, to: &bytes)
        bytes.append(34)
    }
}
