// CBLAS and OpenBLAS thread control, from Debian's libopenblas-dev (pkg-config: openblas).
#include <cblas.h>
