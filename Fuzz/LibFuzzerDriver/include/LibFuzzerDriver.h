#ifndef CUBBY_LIBFUZZER_DRIVER_H
#define CUBBY_LIBFUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer): runs the fuzzing loop with
/// libFuzzer's command line, calling `callback` for each input. SwiftPM gives every executable a
/// main of its own, so cubby-fuzz's main calls this rather than libFuzzer's main.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
