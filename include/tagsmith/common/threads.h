#pragma once
// Thread pools of the numeric libraries we link.
//
// libtorch, FAISS and OpenBLAS each keep a pool. OpenBLAS sizes its own to
// every core at load time, so inside torch's or our own threads it
// oversubscribes the CPU (measured: training a head 2.5x slower on 2 cores).
// We parallelise at a higher level, so BLAS calls run single-threaded.

namespace tagsmith {

// Sets OpenBLAS's thread count when OpenBLAS is the BLAS in use (looked up at
// run time: Debian may route libblas.so.3 to another implementation).
void limit_blas_threads(int threads = 1);

}  // namespace tagsmith
