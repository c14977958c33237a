#ifndef DISTILL_CVECTORKERNELS_H
#define DISTILL_CVECTORKERNELS_H

/// Asks the CPU to bring the cache line holding `address` in ahead of its use (a hint: never faults, no result).
/// Kernels that read random rows of large tables call it a few rows ahead, so the rows' cache misses overlap.
static inline void distill_prefetch_read(const void *address) { __builtin_prefetch(address, 0, 3); }

/// As `distill_prefetch_read`, for a line that is about to be written.
static inline void distill_prefetch_write(const void *address) { __builtin_prefetch(address, 1, 3); }

/// Tells the CPU the thread is spinning on a flag (x86 `pause`, Arm `yield`): the loop costs less power and the
/// other hyper-thread of the core runs faster while it waits.
static inline void distill_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

/// One AdamW step's constants: `decay` = lr·λ (0: none), `step_size` = lr / (1 − β₁ᵗ), `inverse_c2` = 1 / (1 − β₂ᵗ).
typedef struct {
    float decay, beta1, beta2, epsilon, step_size, inverse_c2;
} distill_adamw_rule;

/// AdamW on `n` contiguous elements, element by element in this order (no fused multiply-add, so every CPU gives
/// the same bits): `w −= decay·w`, `m = β₁·m + (1−β₁)·g`, `v = β₂·v + ((1−β₂)·g)·g`,
/// `w −= (step_size·m) / (sqrt(v·inverse_c2) + ε)`. Eight lanes with AVX where the CPU has it, four with SSE otherwise.
void distill_adamw_range(distill_adamw_rule rule, float *w, float *m, float *v, const float *g, long n);

/// `distill_adamw_range` with the kernel of `lanes` lanes (4: SSE, 8: AVX), for tests that compare them: 0, or -1
/// (nothing done) when this CPU lacks it.
int distill_adamw_range_lanes(int lanes, distill_adamw_rule rule, float *w, float *m, float *v, const float *g, long n);

/// The same on rows `rows[0..<count]` of `width`-wide tables `w`, `m`, `v` (lazy Adam), row `s`'s gradient at
/// `g + s·width`; each row's cache lines in the three tables are prefetched `ahead` rows before its update.
void distill_adamw_rows(distill_adamw_rule rule, float *w, float *m, float *v, const float *g, const long *rows, long count,
                        long width, long ahead);

/// `y[j] = Σ_e factors[entries[e]] · x[entries[e]·stride + j]` for `j < width`, summed from +0 in the order of
/// `entries` (each product rounded, then added: the bits of zeroing `y` and adding one scaled row per entry), held
/// in registers 32 floats at a time (AVX where the CPU has it, SSE otherwise).
void distill_weighted_row_sum(float *y, const float *x, long stride, const int *entries, const float *factors, long count, long width);

/// `distill_weighted_row_sum` with the kernel of `lanes` lanes (4: SSE, 8: AVX), for tests: 0, or -1 (nothing
/// done) when this CPU lacks it.
int distill_weighted_row_sum_lanes(int lanes, float *y, const float *x, long stride, const int *entries, const float *factors, long count,
                                   long width);

#endif
