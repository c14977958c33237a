// The rows' gradient of an embedding bag (CVectorKernels.h): a weighted sum of a few source rows held in registers,
// 32 floats at a time, in the order given and without fused multiply-adds, so it equals, bit for bit, zeroing the
// row and adding `factor · source` once per entry.
#include "CVectorKernels.h"
#include <immintrin.h>

#pragma clang fp contract(off)

static void sum_scalar(float *y, const float *x, long stride, const int *entries, const float *factors, long count, long from, long width) {
    for (long j = from; j < width; j++) {
        float acc = 0;
        for (long e = 0; e < count; e++) acc = acc + factors[entries[e]] * x[(long)entries[e] * stride + j];
        y[j] = acc;
    }
}

static void sum_sse(float *y, const float *x, long stride, const int *entries, const float *factors, long count, long width) {
    long j = 0;
    for (; j + 16 <= width; j += 16) {
        __m128 a0 = _mm_setzero_ps(), a1 = _mm_setzero_ps(), a2 = _mm_setzero_ps(), a3 = _mm_setzero_ps();
        for (long e = 0; e < count; e++) {
            const __m128 f = _mm_set1_ps(factors[entries[e]]);
            const float *row = x + (long)entries[e] * stride + j;
            a0 = _mm_add_ps(a0, _mm_mul_ps(f, _mm_loadu_ps(row)));
            a1 = _mm_add_ps(a1, _mm_mul_ps(f, _mm_loadu_ps(row + 4)));
            a2 = _mm_add_ps(a2, _mm_mul_ps(f, _mm_loadu_ps(row + 8)));
            a3 = _mm_add_ps(a3, _mm_mul_ps(f, _mm_loadu_ps(row + 12)));
        }
        _mm_storeu_ps(y + j, a0);
        _mm_storeu_ps(y + j + 4, a1);
        _mm_storeu_ps(y + j + 8, a2);
        _mm_storeu_ps(y + j + 12, a3);
    }
    sum_scalar(y, x, stride, entries, factors, count, j, width);
}

__attribute__((target("avx"))) static void sum_avx(float *y, const float *x, long stride, const int *entries, const float *factors,
                                                   long count, long width) {
    long j = 0;
    for (; j + 32 <= width; j += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        for (long e = 0; e < count; e++) {
            const __m256 f = _mm256_set1_ps(factors[entries[e]]);
            const float *row = x + (long)entries[e] * stride + j;
            a0 = _mm256_add_ps(a0, _mm256_mul_ps(f, _mm256_loadu_ps(row)));
            a1 = _mm256_add_ps(a1, _mm256_mul_ps(f, _mm256_loadu_ps(row + 8)));
            a2 = _mm256_add_ps(a2, _mm256_mul_ps(f, _mm256_loadu_ps(row + 16)));
            a3 = _mm256_add_ps(a3, _mm256_mul_ps(f, _mm256_loadu_ps(row + 24)));
        }
        _mm256_storeu_ps(y + j, a0);
        _mm256_storeu_ps(y + j + 8, a1);
        _mm256_storeu_ps(y + j + 16, a2);
        _mm256_storeu_ps(y + j + 24, a3);
    }
    sum_sse(y + j, x + j, stride, entries, factors, count, width - j);
}

void distill_weighted_row_sum(float *y, const float *x, long stride, const int *entries, const float *factors, long count, long width) {
    if (__builtin_cpu_supports("avx")) sum_avx(y, x, stride, entries, factors, count, width);
    else sum_sse(y, x, stride, entries, factors, count, width);
}

int distill_weighted_row_sum_lanes(int lanes, float *y, const float *x, long stride, const int *entries, const float *factors, long count,
                                   long width) {
    if (lanes == 4) {
        sum_sse(y, x, stride, entries, factors, count, width);
        return 0;
    }
    if (lanes == 8 && __builtin_cpu_supports("avx")) {
        sum_avx(y, x, stride, entries, factors, count, width);
        return 0;
    }
    return -1;
}
