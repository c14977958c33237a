// AdamW's element-wise update (CVectorKernels.h). Written with intrinsics so the square root and the division run
// on whole vectors (Swift's SIMD8<Float>.squareRoot() compiles to eight scalar square roots here), with no
// contraction into fused multiply-adds: the result is the same, bit for bit, in every lane width and on every CPU.
#include "CVectorKernels.h"
#include <immintrin.h>

#pragma clang fp contract(off)

static inline void scalar_tail(distill_adamw_rule r, float *w, float *m, float *v, const float *g, long i, long n) {
    const float om1 = 1 - r.beta1, om2 = 1 - r.beta2;
    for (; i < n; i++) {
        const float gi = g[i];
        w[i] -= r.decay * w[i];
        m[i] = r.beta1 * m[i] + om1 * gi;
        v[i] = r.beta2 * v[i] + om2 * gi * gi;
        w[i] -= r.step_size * m[i] / (__builtin_sqrtf(v[i] * r.inverse_c2) + r.epsilon);
    }
}

static void adamw_sse(distill_adamw_rule r, float *w, float *m, float *v, const float *g, long n) {
    const __m128 decay = _mm_set1_ps(r.decay), b1 = _mm_set1_ps(r.beta1), b2 = _mm_set1_ps(r.beta2);
    const __m128 om1 = _mm_set1_ps(1 - r.beta1), om2 = _mm_set1_ps(1 - r.beta2), eps = _mm_set1_ps(r.epsilon);
    const __m128 step = _mm_set1_ps(r.step_size), ic2 = _mm_set1_ps(r.inverse_c2);
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m128 gi = _mm_loadu_ps(g + i);
        __m128 wi = _mm_loadu_ps(w + i), mi = _mm_loadu_ps(m + i), vi = _mm_loadu_ps(v + i);
        wi = _mm_sub_ps(wi, _mm_mul_ps(decay, wi));
        mi = _mm_add_ps(_mm_mul_ps(b1, mi), _mm_mul_ps(om1, gi));
        vi = _mm_add_ps(_mm_mul_ps(b2, vi), _mm_mul_ps(_mm_mul_ps(om2, gi), gi));
        wi = _mm_sub_ps(wi, _mm_div_ps(_mm_mul_ps(step, mi), _mm_add_ps(_mm_sqrt_ps(_mm_mul_ps(vi, ic2)), eps)));
        _mm_storeu_ps(w + i, wi);
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
    }
    scalar_tail(r, w, m, v, g, i, n);
}

__attribute__((target("avx"))) static void adamw_avx(distill_adamw_rule r, float *w, float *m, float *v, const float *g, long n) {
    const __m256 decay = _mm256_set1_ps(r.decay), b1 = _mm256_set1_ps(r.beta1), b2 = _mm256_set1_ps(r.beta2);
    const __m256 om1 = _mm256_set1_ps(1 - r.beta1), om2 = _mm256_set1_ps(1 - r.beta2), eps = _mm256_set1_ps(r.epsilon);
    const __m256 step = _mm256_set1_ps(r.step_size), ic2 = _mm256_set1_ps(r.inverse_c2);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 gi = _mm256_loadu_ps(g + i);
        __m256 wi = _mm256_loadu_ps(w + i), mi = _mm256_loadu_ps(m + i), vi = _mm256_loadu_ps(v + i);
        wi = _mm256_sub_ps(wi, _mm256_mul_ps(decay, wi));
        mi = _mm256_add_ps(_mm256_mul_ps(b1, mi), _mm256_mul_ps(om1, gi));
        vi = _mm256_add_ps(_mm256_mul_ps(b2, vi), _mm256_mul_ps(_mm256_mul_ps(om2, gi), gi));
        wi = _mm256_sub_ps(wi, _mm256_div_ps(_mm256_mul_ps(step, mi), _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vi, ic2)), eps)));
        _mm256_storeu_ps(w + i, wi);
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
    }
    scalar_tail(r, w, m, v, g, i, n);
}

typedef void (*adamw_kernel)(distill_adamw_rule, float *, float *, float *, const float *, long);

/// The widest kernel this CPU runs (`__builtin_cpu_supports` reads what the runtime found at start-up).
static adamw_kernel kernel(void) { return __builtin_cpu_supports("avx") ? adamw_avx : adamw_sse; }

void distill_adamw_range(distill_adamw_rule rule, float *w, float *m, float *v, const float *g, long n) {
    kernel()(rule, w, m, v, g, n);
}

int distill_adamw_range_lanes(int lanes, distill_adamw_rule rule, float *w, float *m, float *v, const float *g, long n) {
    if (lanes == 4) {
        adamw_sse(rule, w, m, v, g, n);
        return 0;
    }
    if (lanes == 8 && __builtin_cpu_supports("avx")) {
        adamw_avx(rule, w, m, v, g, n);
        return 0;
    }
    return -1;
}

static inline void prefetch_row(const float *row, long width) {
    for (long b = 0; b < width * (long)sizeof(float); b += 64) distill_prefetch_write((const char *)row + b);
}

void distill_adamw_rows(distill_adamw_rule rule, float *w, float *m, float *v, const float *g, const long *rows, long count,
                        long width, long ahead) {
    const adamw_kernel update = kernel();
    for (long s = 0; s < count; s++) {
        if (s + ahead < count) {
            const long next = rows[s + ahead] * width;
            prefetch_row(w + next, width);
            prefetch_row(m + next, width);
            prefetch_row(v + next, width);
        }
        const long at = rows[s] * width;
        update(rule, w + at, m + at, v + at, g + s * width, width);
    }
}
