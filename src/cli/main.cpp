#include <malloc.h>

#include <string>
#include <vector>

#include "tagsmith/cli/app.h"

int main(int argc, char** argv) {
  // The encoders allocate and free activation buffers of several MB per
  // batch. With glibc's defaults each one is a fresh mmap/munmap (page
  // faults and zeroing every call), or the heap is trimmed back after it:
  // MobileNetV2 ingest ran at 36 images/s, a third of it in the kernel. Keep
  // buffers up to 32 MiB on the heap and do not hand freed memory back
  // eagerly: 92 images/s on the same 300 photos.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  std::vector<std::string> args(argv + 1, argv + argc);
  return tagsmith::cli::run(args);
}
