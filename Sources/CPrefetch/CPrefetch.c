// CPrefetch is header-only (include/CPrefetch.h); SwiftPM builds a C target from at least one source file.
#include "CPrefetch.h"
