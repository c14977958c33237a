import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The operating system's reason for a failed file operation ("No space left on device", "Is a directory"),
/// instead of Foundation's "The operation could not be completed (NSCocoaErrorDomain error 512)".
public func fileErrorReason(_ error: any Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return posixReason(Int32(underlying.code))
    }
    if ns.domain == NSPOSIXErrorDomain { return posixReason(Int32(ns.code)) }
    if ns.domain == NSCocoaErrorDomain {
        switch ns.code {
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or directory"
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
        case NSFileWriteFileExistsError: return "a file of that name is in the way"
        case NSFileWriteOutOfSpaceError: return "no space left on device"
        case NSFileWriteVolumeReadOnlyError: return "read-only file system"
        case NSFileReadCorruptFileError: return "not in the expected format"
        case NSFileReadInapplicableStringEncodingError: return "not valid text in the expected encoding"
        case NSFileReadUnknownError: return "cannot read it (a folder, or unreadable?)"
        case NSFileWriteUnknownError: return "cannot write it"
        default: break
        }
    }
    return ns.localizedDescription
}

/// `strerror` with the symbolic name of common codes: "No space left on device (ENOSPC)".
public func posixReason(_ code: Int32) -> String {
    let names: [Int32: String] = [ENOENT: "ENOENT", EACCES: "EACCES", ENOSPC: "ENOSPC", EISDIR: "EISDIR", ENOTDIR: "ENOTDIR",
                                  EBADF: "EBADF", EPIPE: "EPIPE", EEXIST: "EEXIST", EROFS: "EROFS", EIO: "EIO"]
    return String(cString: strerror(code)) + (names[code].map { " (\($0))" } ?? "")
}
