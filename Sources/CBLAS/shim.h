// CBLAS and OpenBLAS thread control, from Debian's libopenblas-dev (pkg-config: openblas).
#include <cblas.h>

// LAPACK's symmetric eigensolver (divide and conquer), which OpenBLAS exports with the Fortran calling convention
// (used by DistillCore's PrincipalComponents).
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);
