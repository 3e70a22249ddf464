/* The ABI is declarations only; this file lets SwiftPM build the target. */
#include "filterjit_abi.h"
