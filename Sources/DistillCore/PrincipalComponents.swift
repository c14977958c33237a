import Foundation
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// Principal component analysis of the rows of a matrix, as model2vec reduces its static embeddings: center the
/// rows, eigendecompose their covariance (LAPACK `dsyevd`, in double precision), project onto the `components`
/// leading eigenvectors, and flip each component's sign so that its largest-magnitude score is positive (so the
/// result does not depend on the eigensolver's sign choice).
public struct PrincipalComponents: Sendable {
    /// `[rows, components]` scores, row-major.
    public let scores: [Float]
    public let rows: Int
    public let components: Int
    /// Share of the total variance each kept component explains, largest first.
    public let explainedVarianceRatio: [Double]

    /// Fits and projects `data` (`[rows, columns]`, row-major). Non-finite values count as 0. `components` is
    /// capped at `columns`; fewer than 2 rows or a zero-variance matrix give zero scores.
    public init(_ data: [Float], rows: Int, columns: Int, components: Int) throws {
        guard rows >= 0, columns > 0, data.count == rows * columns else {
            throw PrincipalComponentsError.shape(rows: rows, columns: columns, count: data.count)
        }
        let k = max(0, min(components, columns))
        self.rows = rows
        self.components = k
        var x = data.map { $0.isFinite ? Double($0) : 0 }
        guard rows >= 2, k > 0 else {
            scores = [Float](repeating: 0, count: rows * k)
            explainedVarianceRatio = [Double](repeating: 0, count: k)
            return
        }
        // Center the columns.
        var mean = [Double](repeating: 0, count: columns)
        for r in 0..<rows { for c in 0..<columns { mean[c] += x[r * columns + c] } }
        for c in 0..<columns { mean[c] /= Double(rows) }
        for r in 0..<rows { for c in 0..<columns { x[r * columns + c] -= mean[c] } }
        // Covariance (upper triangle is all LAPACK reads; dsyrk fills it).
        var covariance = [Double](repeating: 0, count: columns * columns)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(columns), Int32(rows), 1 / Double(rows - 1), x, Int32(columns), 0,
                    &covariance, Int32(columns))
        // Row-major upper = column-major lower for LAPACK.
        let (values, vectors) = try Self.symmetricEigen(&covariance, n: columns, uplo: "L")
        let total = values.reduce(0) { $0 + max($1, 0) }
        // dsyevd returns ascending eigenvalues; eigenvector j is column j of the column-major result, i.e. the
        // contiguous slice vectors[j * n ..< (j + 1) * n].
        let order = (0..<columns).reversed().prefix(k)
        var out = [Float](repeating: 0, count: rows * k)
        var ratios: [Double] = []
        for (slot, j) in order.enumerated() {
            ratios.append(total > 0 ? max(values[j], 0) / total : 0)
            var column = [Double](repeating: 0, count: rows)
            vectors.withUnsafeBufferPointer { v in
                cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, x, Int32(columns), v.baseAddress! + j * columns, 1, 0, &column, 1)
            }
            var largest = 0
            for r in 1..<rows where abs(column[r]) > abs(column[largest]) { largest = r }
            let sign: Double = column[largest] < 0 ? -1 : 1
            for r in 0..<rows { out[r * k + slot] = Float(sign * column[r]) }
        }
        scores = out
        explainedVarianceRatio = ratios
    }

    /// Eigenvalues (ascending) and column-major eigenvectors of the symmetric `n x n` matrix `a` (column-major,
    /// triangle `uplo`); `a` is overwritten.
    static func symmetricEigen(_ a: inout [Double], n: Int, uplo: String) throws -> ([Double], [Double]) {
        var n32 = Int32(n), lda = Int32(n), info: Int32 = 0
        var values = [Double](repeating: 0, count: n)
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workSize = 0.0, iworkSize: Int32 = 0
        let jobz = "V", triangle = uplo
        // Workspace query, then the solve.
        jobz.withCString { j in triangle.withCString { u in
            dsyevd_(j, u, &n32, &a, &lda, &values, &workSize, &lwork, &iworkSize, &liwork, &info)
        } }
        guard info == 0 else { throw PrincipalComponentsError.eigensolver(info: Int(info)) }
        lwork = Int32(workSize); liwork = iworkSize
        var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        jobz.withCString { j in triangle.withCString { u in
            dsyevd_(j, u, &n32, &a, &lda, &values, &work, &lwork, &iwork, &liwork, &info)
        } }
        guard info == 0 else { throw PrincipalComponentsError.eigensolver(info: Int(info)) }
        return (values, a)
    }
}

/// Why a ``PrincipalComponents`` fit failed.
public enum PrincipalComponentsError: Error, LocalizedError, Equatable {
    case shape(rows: Int, columns: Int, count: Int)
    case eigensolver(info: Int)

    public var errorDescription: String? {
        switch self {
        case let .shape(rows, columns, count):
            return "PCA: \(rows) x \(columns) needs \(rows * columns) values, got \(count)"
        case let .eigensolver(info):
            return "PCA: LAPACK dsyevd failed (info \(info)); the embeddings may hold values too large to square"
        }
    }
}
