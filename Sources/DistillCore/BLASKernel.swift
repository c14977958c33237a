import Foundation
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// Which OpenBLAS kernel family runs the GEMMs, and the one this CPU should run.
///
/// OpenBLAS picks its kernels when the library loads, from the CPU model. A build older than the CPU (Debian
/// 12's 0.3.21 on Sapphire or Emerald Rapids, for one) does not know the model and falls back to `Prescott`,
/// its SSE3 kernels: measured here, 512³ SGEMM ran at 22 GFLOP/s there against 83 with `Haswell` and 155
/// with `SkylakeX`. `OPENBLAS_CORETYPE` chooses the family, but only before the library loads, so the
/// command-line program re-executes itself once with it set (see ``recommendedCoreType()``).
public enum BLASKernel {
    /// The name of the kernel family OpenBLAS loaded (`Haswell`, `SkylakeX`, `Prescott`, …); `Accelerate` on
    /// Apple platforms.
    public static var coreName: String {
        #if canImport(Accelerate)
        return "Accelerate"
        #else
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
        #endif
    }

    /// The `OPENBLAS_CORETYPE` to set, or nil when nothing should change: the user chose one already
    /// (`OPENBLAS_CORETYPE` is set, whatever its value), or OpenBLAS recognised the CPU (it loaded anything
    /// but its generic `Prescott` fallback). Otherwise the best family the CPU's flags allow: `SkylakeX` on
    /// Intel CPUs with AVX-512 F/BW/DQ/VL, `Haswell` with AVX2 and FMA (AMD's AVX-512 CPUs get `Haswell`:
    /// older OpenBLAS builds are unreliable with their AVX-512), `Sandybridge` with AVX.
    public static func recommendedCoreType(environment: [String: String] = ProcessInfo.processInfo.environment,
                                           loadedCore: String = coreName,
                                           cpuInfo: @autoclosure () -> String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String? {
        // Every `distill` start asks: /proc/cpuinfo is read only when the answer can be yes.
        guard environment["OPENBLAS_CORETYPE"] == nil, loadedCore.lowercased() == "prescott", let cpuInfo = cpuInfo() else { return nil }
        var flags = Set<Substring>(), intel = false
        for line in cpuInfo.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("vendor_id") { intel = line.contains("GenuineIntel") }
            if line.hasPrefix("flags") {
                flags = Set(line.split(separator: " "))
                break
            }
        }
        if intel && ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy({ flags.contains(Substring($0)) }) { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        if flags.contains("avx") { return "Sandybridge" }
        return nil
    }
}
