/// Vectorized `e^x` for 8 lanes: range reduction `x = n·ln2 + r` (|r| <= ln2/2), a degree-6 polynomial for
/// `e^r`, and `2^n` built in the exponent bits. Relative error <= 2 ulp over the finite range; inputs below
/// -87.3 give 0 (and -inf gives 0), above 88.7 give +inf.
@inline(__always)
func simdExp(_ input: SIMD8<Float>) -> SIMD8<Float> {
    var x = input
    x.replace(with: SIMD8(repeating: 88.7), where: x .> 88.7)
    let tooSmall = x .< -87.3
    x.replace(with: SIMD8(repeating: -87.3), where: tooSmall)
    // Round x·log2(e) to an integer with the 1.5·2^23 trick: the integer lands in the low mantissa bits.
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let shifted = x * 1.44269504088896341 + magic
    let n = shifted - magic
    let ni = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    // r = x - n ln2, with ln2 split in two for accuracy (Cody–Waite).
    var r = x - n * 0.693359375
    r = r - n * -2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    let bits = (ni &+ 127) &<< 23
    var out = p * unsafeBitCast(bits, to: SIMD8<Float>.self)
    out.replace(with: SIMD8(repeating: 0), where: tooSmall)
    out.replace(with: SIMD8(repeating: .infinity), where: input .> 88.7)
    return out
}

/// Applies `simdExp` to `n` floats in place after subtracting `shift`, returning their sum.
@inline(__always)
func expShiftedSum(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, scale: Float, shift: Float) -> Float {
    var total = SIMD8<Float>(repeating: 0)
    var j = 0
    while j + 8 <= n {
        let v = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self) * scale - shift
        let e = simdExp(v)
        UnsafeMutableRawPointer(y + j).storeBytes(of: e, as: SIMD8<Float>.self)
        total += e
        j += 8
    }
    var tail: Float = 0
    while j < n {
        let e = simdExp(SIMD8(repeating: x[j] * scale - shift))[0]
        y[j] = e
        tail += e
        j += 1
    }
    return total.sum() + tail
}
