import DistillRuntime
import Foundation
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// A target's on-disk spool (`--spool DIR`, one subfolder per target URL): each accepted batch is one file
/// `SEQUENCE.batch`, written to a temporary name, fsync'd and renamed, so a file exists whole or not at all; a
/// batch that reached the store is deleted. Delivery is at least once: a batch sent but not yet deleted when the
/// process dies is sent again on restart (Elasticsearch deduplicates by `_id`). One process per spool folder
/// (a lock file).
///
/// File layout: `DSPL`, version byte 2, record count (UInt32 LE), then per record the group and item, each as
/// UInt32 LE length and bytes; last the CRC-32 (UInt32 LE) of everything before it.
struct SpoolFolder: Sendable {
    let folder: URL
    private let lock: RunLock
    static let magic: [UInt8] = Array("DSPL".utf8) + [2]
    /// Sequences are written as 16 digits.
    static let maxSequence: UInt64 = 9_999_999_999_999_999

    /// A batch found on disk.
    struct Entry {
        var sequence: UInt64
        var bytes: Int
        var records: Int
    }

    /// A file that is not a whole spool batch (as opposed to one that cannot be read now).
    struct Damage: Error, LocalizedError {
        var file: URL
        var detail: String
        var errorDescription: String? { "spool file \(file.path): \(detail)" }
    }

    init(_ folder: URL) throws {
        self.folder = folder
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw ForwardError.spool(folder, "cannot create the folder (\(error.localizedDescription))")
        }
        guard FileManager.default.isWritableFile(atPath: folder.path) else { throw ForwardError.spool(folder, "the folder is not writable") }
        do { lock = try RunLock(folder.appendingPathComponent(".lock")) } catch {
            throw ForwardError.spool(folder, "\(error.localizedDescription) (one distill serve per spool folder)")
        }
    }

    func url(_ sequence: UInt64) -> URL {
        let digits = String(sequence)
        return folder.appendingPathComponent(String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".batch")
    }

    /// The batches left by a previous run, oldest first. Half-written files (a kill during a write, never
    /// acknowledged to the shipper) are removed; damaged ones are renamed `.corrupt` and reported.
    func recover(report: (String) -> Void) -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var entries: [Entry] = []
        for name in names.sorted() {
            let file = folder.appendingPathComponent(name)
            if name.hasSuffix(".tmp") { try? FileManager.default.removeItem(at: file); continue }
            guard name.hasSuffix(".batch"), let sequence = UInt64(name.dropLast(6)), sequence <= Self.maxSequence else { continue }
            do {
                let fragments = try read(sequence)
                entries.append(Entry(sequence: sequence, bytes: fragments.byteCount, records: fragments.count))
            } catch {
                if error is Damage { setAside(sequence) }
                report("\(error.localizedDescription); \(error is Damage ? "renamed to \(name).corrupt and skipped" : "skipped until the next start")")
            }
        }
        return entries
    }

    func write(_ fragments: [Fragment], sequence: UInt64) throws {
        var data = Data(Self.magic)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { data.append(contentsOf: $0) } }
        u32(fragments.count)
        for f in fragments {
            u32(f.group.count); data.append(contentsOf: f.group)
            u32(f.item.count); data.append(contentsOf: f.item)
        }
        u32(Int(CRC32.checksum(data)))
        let final = url(sequence), temporary = final.deletingPathExtension().appendingPathExtension("tmp")
        // 0600: the records are whole log lines.
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ForwardError.spool(folder, "cannot create \(temporary.lastPathComponent): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { raw -> Int in
            var done = 0
            while done < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; return -1 }
                done += n
            }
            return done
        }
        let reason = written < 0 ? String(cString: strerror(errno)) : nil
        // fsync before the rename: an acknowledged batch survives a power loss, not only a killed process.
        let synced = reason == nil && fsync(fd) == 0
        close(fd)
        guard reason == nil, synced, rename(temporary.path, final.path) == 0 else {
            let why = reason ?? String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ForwardError.spool(folder, "cannot write \(final.lastPathComponent): \(why)")
        }
        // And the folder, so that the new name itself survives a power loss.
        let dir = open(folder.path, O_RDONLY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    /// The batch's records; throws ``Damage`` for a file that is not a whole batch, other errors for I/O.
    func read(_ sequence: UInt64) throws -> [Fragment] {
        let file = url(sequence)
        let bytes = try [UInt8](Data(contentsOf: file))
        guard bytes.count >= Self.magic.count + 8, bytes.starts(with: Self.magic) else { throw Damage(file: file, detail: "not a Distill spool file (bad header)") }
        let body = bytes[..<(bytes.count - 4)]
        let stored = UInt32(bytes[bytes.count - 4]) | UInt32(bytes[bytes.count - 3]) << 8 | UInt32(bytes[bytes.count - 2]) << 16 | UInt32(bytes[bytes.count - 1]) << 24
        guard CRC32.checksum(body) == stored else { throw Damage(file: file, detail: "checksum mismatch (the file was changed or cut short)") }
        var i = Self.magic.count
        func u32() throws -> Int {
            guard i + 4 <= body.count else { throw Damage(file: file, detail: "truncated at byte \(i)") }
            defer { i += 4 }
            return Int(body[i]) | Int(body[i + 1]) << 8 | Int(body[i + 2]) << 16 | Int(body[i + 3]) << 24
        }
        func chunk() throws -> [UInt8] {
            let n = try u32()
            guard n <= body.count - i else { throw Damage(file: file, detail: "a length of \(n) bytes at byte \(i - 4) runs past the end") }
            defer { i += n }
            return Array(body[i..<(i + n)])
        }
        let count = try u32()
        var fragments: [Fragment] = []
        fragments.reserveCapacity(min(count, 100_000))
        for _ in 0..<count { fragments.append(Fragment(group: try chunk(), item: try chunk())) }
        guard i == body.count else { throw Damage(file: file, detail: "\(body.count - i) bytes after the last record") }
        return fragments
    }

    /// The highest sequence any batch file in the folder is named with (read or not, `.corrupt` included).
    func highestSequence() -> UInt64 {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.compactMap { name -> UInt64? in
            guard let dot = name.firstIndex(of: "."), name.dropFirst(name.distance(from: name.startIndex, to: dot)).hasPrefix(".batch") else { return nil }
            return UInt64(name[..<dot]).flatMap { $0 <= Self.maxSequence ? $0 : nil }
        }.max() ?? 0
    }

    func remove(_ sequence: UInt64) { try? FileManager.default.removeItem(at: url(sequence)) }

    /// Renames a damaged batch to `.corrupt` (kept for inspection, never read again).
    func setAside(_ sequence: UInt64) {
        let file = url(sequence)
        try? FileManager.default.removeItem(at: file.appendingPathExtension("corrupt"))
        try? FileManager.default.moveItem(at: file, to: file.appendingPathExtension("corrupt"))
    }
}

/// CRC-32 (IEEE 802.3, the zlib and gzip checksum).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
