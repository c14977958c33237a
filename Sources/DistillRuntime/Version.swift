/// The Distill release (`distill --version`, `distill_build_info`).
public let distillVersion = "0.1.0"
