import DistillCore
let x = Tensor(shape: [2, 2], scalars: [0.1, 0.2, 0.3, 0.4])
var yy: Tensor? = nil
var ss: Tensor? = nil
let (_, g3) = valueAndGradient(of: [x]) { () -> Tensor in let y = tanh(x); yy = y; let s = sum(y); ss = s; print("y ptr", y.storage.pointer, "s ptr", s.storage.pointer); return s }
print(g3[x]!.scalars, g3[x]!.storage.pointer, yy!.scalars)
