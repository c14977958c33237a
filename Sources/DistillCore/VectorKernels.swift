/// Small vector kernels shared by forward and backward passes. All are parallel above `parallelFor`'s grain.

/// `y[i] += x[i]`
@inline(__always)
func vAdd(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    parallelFor(count) { r in for i in r { y[i] += x[i] } }
}

/// `y[i] *= a`
@inline(__always)
func vScale(_ y: UnsafeMutablePointer<Float>, _ a: Float, count: Int) {
    parallelFor(count) { r in for i in r { y[i] *= a } }
}

/// `y[i] += a * x[i]`
@inline(__always)
func vAxpy(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, count: Int) {
    parallelFor(count) { r in for i in r { y[i] += a * x[i] } }
}

/// Applies `f` element-wise from `x` into `y`.
@inline(__always)
func vMap(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, grain: Int = 32_768, _ f: (Float) -> Float) {
    parallelFor(count, grain: grain) { r in for i in r { y[i] = f(x[i]) } }
}
