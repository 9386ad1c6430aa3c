// The declaration is all this target provides; compiler-rt's libFuzzer defines the function.
#include "LibFuzzerDriver.h"
