import Foundation

/// A target's on-disk spool (`--spool DIR`, one subfolder per target): each accepted batch is one file
/// `SEQUENCE.batch`, written to a temporary name and renamed, so a file exists whole or not at all; a batch that
/// reached the store is deleted. Delivery is at least once: a batch sent but not yet deleted when the process is
/// killed is sent again on restart (Elasticsearch deduplicates by `_id`).
///
/// File layout: `DSPL`, version byte 1, record count (UInt32 LE), then per record the group and item, each as
/// UInt32 LE length and bytes.
struct SpoolFolder: Sendable {
    let folder: URL
    static let magic: [UInt8] = Array("DSPL".utf8) + [1]

    /// A batch found on disk.
    struct Entry {
        var sequence: UInt64
        var bytes: Int
        var records: Int
    }

    init(_ folder: URL) throws {
        self.folder = folder
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw ForwardError.spool(folder, "cannot create the folder (\(error.localizedDescription))")
        }
        guard FileManager.default.isWritableFile(atPath: folder.path) else { throw ForwardError.spool(folder, "the folder is not writable") }
    }

    func url(_ sequence: UInt64) -> URL {
        let digits = String(sequence)
        return folder.appendingPathComponent(String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".batch")
    }

    /// The batches left by a previous run, oldest first. Half-written files (a kill during a write, never
    /// acknowledged to the shipper) are removed; unreadable ones are renamed `.corrupt` and reported.
    func recover(report: (String) -> Void) -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var entries: [Entry] = []
        for name in names.sorted() {
            let file = folder.appendingPathComponent(name)
            if name.hasSuffix(".tmp") { try? FileManager.default.removeItem(at: file); continue }
            guard name.hasSuffix(".batch"), let sequence = UInt64(name.dropLast(6)) else { continue }
            do {
                let fragments = try read(sequence)
                entries.append(Entry(sequence: sequence, bytes: fragments.reduce(0) { $0 + $1.byteCount }, records: fragments.count))
            } catch {
                try? FileManager.default.moveItem(at: file, to: file.appendingPathExtension("corrupt"))
                report("spool \(file.path): \(error.localizedDescription); renamed to \(name).corrupt and skipped")
            }
        }
        return entries
    }

    func write(_ fragments: [Fragment], sequence: UInt64) throws {
        var data = Data(Self.magic)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { data.append(contentsOf: $0) } }
        u32(fragments.count)
        for f in fragments {
            u32(f.group.count); data.append(contentsOf: f.group)
            u32(f.item.count); data.append(contentsOf: f.item)
        }
        let final = url(sequence), temporary = final.deletingPathExtension().appendingPathExtension("tmp")
        do {
            try data.write(to: temporary)
            guard rename(temporary.path, final.path) == 0 else { throw ForwardError.spool(folder, "rename failed: \(String(cString: strerror(errno)))") }
        } catch let error as ForwardError { throw error } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ForwardError.spool(folder, "cannot write \(final.lastPathComponent) (\(error.localizedDescription))")
        }
    }

    func read(_ sequence: UInt64) throws -> [Fragment] {
        let file = url(sequence)
        let bytes = try [UInt8](Data(contentsOf: file))
        var i = 0
        func u32() throws -> Int {
            guard i + 4 <= bytes.count else { throw ForwardError.spool(file, "truncated at byte \(i)") }
            defer { i += 4 }
            return Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24
        }
        func chunk() throws -> [UInt8] {
            let n = try u32()
            guard n <= bytes.count - i else { throw ForwardError.spool(file, "a length of \(n) bytes at byte \(i - 4) runs past the end") }
            defer { i += n }
            return Array(bytes[i..<(i + n)])
        }
        guard bytes.starts(with: Self.magic) else { throw ForwardError.spool(file, "not a Distill spool file (bad header)") }
        i = Self.magic.count
        let count = try u32()
        var fragments: [Fragment] = []
        fragments.reserveCapacity(min(count, 100_000))
        for _ in 0..<count { fragments.append(Fragment(group: try chunk(), item: try chunk())) }
        guard i == bytes.count else { throw ForwardError.spool(file, "\(bytes.count - i) bytes after the last record") }
        return fragments
    }

    func remove(_ sequence: UInt64) { try? FileManager.default.removeItem(at: url(sequence)) }
}
