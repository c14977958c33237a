import Foundation

extension URL {
    /// Whether this file or folder is `folder` itself or lies somewhere inside it, comparing standardized paths
    /// with symbolic links resolved. The guard before writing or clearing a folder a user named.
    public func isSameOrInside(_ folder: URL) -> Bool {
        let path = standardizedFileURL.resolvingSymlinksInPath().path
        let container = folder.standardizedFileURL.resolvingSymlinksInPath().path
        return path == container || path.hasPrefix(container.hasSuffix("/") ? container : container + "/")
    }
}
