import CompressNIO
import Foundation
import NIOCore

/// A request body's `Content-Encoding`: identity, gzip or deflate (what Vector's and Fluent Bit's HTTP outputs
/// send with compression on). Inflated bodies are held to the same `--max-body-bytes` as plain ones, so a small
/// compressed bomb is refused after the limit, not after memory runs out.
enum BodyEncoding {
    case identity, gzip, deflate

    init(_ header: String?) throws {
        switch header?.trimmingCharacters(in: .whitespaces).lowercased() {
        case nil, "", "identity": self = .identity
        case "gzip", "x-gzip": self = .gzip
        case "deflate": self = .deflate
        case let other?:
            throw ServeError(415, "Content-Encoding '\(other)' is not supported (gzip, deflate or none)")
        }
    }

    /// The body's bytes, inflated when compressed.
    func decoded(_ buffer: ByteBuffer, limit: Int) throws -> [UInt8] {
        let algorithm: CompressionAlgorithm
        switch self {
        case .identity: return Array(buffer.readableBytesView)
        case .gzip: algorithm = .gzip()
        case .deflate: algorithm = .zlib()
        }
        var compressed = buffer
        do {
            let inflated = try compressed.decompress(with: algorithm, maxSize: limit + 1)
            guard inflated.readableBytes <= limit else { throw CompressNIOError.bufferOverflow }
            return Array(inflated.readableBytesView)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw ServeError.tooLarge("the body inflates to more than \(limit) bytes (--max-body-bytes)")
        } catch {
            throw ServeError.badRequest("the \(self) body does not inflate: \(error)")
        }
    }
}
