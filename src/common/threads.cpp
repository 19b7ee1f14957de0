#include "tagsmith/common/threads.h"

#include <dlfcn.h>

namespace tagsmith {

void limit_blas_threads(int threads) {
  using SetThreads = void (*)(int);
  if (auto* set = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set(threads);
}

}  // namespace tagsmith
