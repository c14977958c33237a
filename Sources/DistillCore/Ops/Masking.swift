/// Where `mask` (broadcastable to `x`) is non-zero, the output is `value`; elsewhere it is `x`.
/// Masked positions receive no gradient.
public func maskedFill(_ x: Tensor, mask: Tensor, value: Float) -> Tensor {
    let plan = BroadcastPlan(x.shape, mask.shape, op: "maskedFill")
    require(plan.shape == x.shape, .mismatch(op: "maskedFill", x.shape, mask.shape, detail: "the mask must broadcast to x's shape"))
    let out = Tensor(uninitializedShape: x.shape)
    let px = x.storage.pointer, pm = mask.storage.pointer, po = out.storage.pointer
    let n = plan.inner, sm = plan.bInner
    for r in 0..<plan.rows {
        let m = pm + plan.bRowBase[r]
        for j in 0..<n { po[r * n + j] = m[j * sm] != 0 ? value : px[r * n + j] }
    }
    recordIfNeeded(out, inputs: [x]) { tape, g in
        keepAlive(mask)
        guard let gx = tape.gradient(of: x) else { return }
        for r in 0..<plan.rows {
            let m = pm + plan.bRowBase[r]
            for j in 0..<n where m[j * sm] == 0 { gx[r * n + j] += g[r * n + j] }
        }
    }
    return out
}

/// The additive attention mask for a batch of padded sequences.
///
/// `paddingMask` is `[B, S]` with 1 for real tokens and 0 for padding (the `attention_mask` a tokenizer
/// returns). The result is `[B, 1, 1, S]`: 0 where attended, the most negative finite Float where padded,
/// as Hugging Face BERT does, ready to add to `[B, H, S, S]` scores.
public func additiveAttentionMask(paddingMask: Tensor) -> Tensor {
    require(paddingMask.rank == 2, .wrongRank(op: "additiveAttentionMask", shape: paddingMask.shape, expected: "[batch, sequence]"))
    let (b, s) = (paddingMask.shape[0], paddingMask.shape[1])
    let out = Tensor(uninitializedShape: [b, 1, 1, s])
    let pm = paddingMask.storage.pointer, po = out.storage.pointer
    for i in 0..<b * s { po[i] = pm[i] != 0 ? 0 : -Float.greatestFiniteMagnitude }
    return out
}
