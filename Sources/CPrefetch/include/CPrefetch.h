#ifndef DISTILL_CPREFETCH_H
#define DISTILL_CPREFETCH_H

/// Asks the CPU to bring the cache line holding `address` in ahead of its use (a hint: never faults, no result).
/// Kernels that read random rows of large tables call it a few rows ahead, so the rows' cache misses overlap.
static inline void distill_prefetch_read(const void *address) { __builtin_prefetch(address, 0, 3); }

/// As `distill_prefetch_read`, for a line that is about to be written.
static inline void distill_prefetch_write(const void *address) { __builtin_prefetch(address, 1, 3); }

#endif
