import DistillCore
import Foundation

/// Post-training int8 quantization of weights: per-channel (per row: a Linear layer's output channel, an
/// embedding's token) symmetric scales, `w ≈ scale[row] · q` with `q` in −127…127.
///
/// Stored in safetensors as the `I8` tensor under the weight's own name plus an `F32` tensor
/// `<name>.int8_scale` of shape `[rows]`. Loading dequantizes once into the model's F32 parameters, so
/// inference runs the same F32 kernels (F32 accumulation) on weights that lost at most half a step
/// (`scale / 2`) each; the file is about a quarter of the F32 one.
public enum Int8Quantization {
    /// The `quantization.method` written to `config.json` and the safetensors metadata.
    public static let method = "int8-per-channel-symmetric"
    /// Suffix of the scale tensor stored beside each quantized weight.
    public static let scaleSuffix = ".int8_scale"

    /// Which tensors are quantized: matrices of at least ``minimumElements`` (embedding tables, wide Linear
    /// layers). Biases, LayerNorm parameters, heads and small matrices stay F32: they weigh little and matter much
    /// (measured on the demo's tiny BERT, 2x32: quantizing its 32x32 attention matrices too cost 1.0 point of
    /// held-out accuracy; the embedding table alone, 0.07 points up and 99.9% of labels unchanged).
    public static func quantizes(_ tensor: Tensor) -> Bool { tensor.shape.count == 2 && tensor.count >= minimumElements }

    /// The smallest matrix quantized (a 128x128 layer; all of a 384-wide MiniLM's matrices).
    public static let minimumElements = 16_384

    /// Row-wise quantization of a `[rows, columns]` tensor.
    public static func quantize(_ tensor: Tensor) -> (values: [Int8], scales: [Float]) {
        precondition(tensor.shape.count == 2, "int8 quantization takes a matrix")
        let (rows, columns) = (tensor.shape[0], tensor.shape[1])
        var values = [Int8](repeating: 0, count: rows * columns)
        var scales = [Float](repeating: 0, count: rows)
        tensor.withUnsafeBufferPointer { w in
            for r in 0..<rows {
                var largest: Float = 0
                for c in 0..<columns { largest = max(largest, abs(w[r * columns + c])) }
                let scale = largest > 0 ? largest / 127 : 1
                scales[r] = scale
                for c in 0..<columns {
                    values[r * columns + c] = Int8(max(-127, min(127, (w[r * columns + c] / scale).rounded())))
                }
            }
        }
        return (values, scales)
    }

    /// `scale[row] · q` into `destination` (`rows · columns` values).
    public static func dequantize(_ values: UnsafeRawPointer, scales: [Float], columns: Int, into destination: UnsafeMutableBufferPointer<Float>) {
        for r in 0..<scales.count {
            let s = scales[r]
            for c in 0..<columns {
                destination[r * columns + c] = s * Float(values.load(fromByteOffset: r * columns + c, as: Int8.self))
            }
        }
    }
}
