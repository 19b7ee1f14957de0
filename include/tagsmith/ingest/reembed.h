#pragma once
// Embedding the back catalogue with another encoder.
//
// Vectors from different encoders are not comparable, so when a library
// switches encoder (a new model imported, or ingest run with --model), every
// asset needs a vector under the new version before similar-image search,
// trained heads or the encoder's tagging evidence can use it. embed_missing()
// finds the assets without one, decodes their files again (the source path,
// else any other path the content is known by) in parallel, and encodes them
// in the embedder's batches. It is idempotent and resumable: an interrupted
// run leaves the vectors it stored, and the next run embeds only the rest.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tagsmith/ingest/ingest.h"

namespace tagsmith::ingest {

struct ReembedOptions {
  int threads = 0;  // decode workers; 0 = number of cores
  image::DecodeLimits limits;
  std::function<void(std::int64_t done, std::int64_t total, double seconds)> on_progress;
};

struct ReembedReport {
  std::int64_t missing = 0;       // assets without a vector under the embedder's version
  std::int64_t embedded = 0;      // vectors stored by this run
  std::vector<FileError> errors;  // assets whose files could not be read again
  double seconds = 0;
};

ReembedReport embed_missing(library::Library& library, ImageEmbedder& embedder,
                            const ReembedOptions& options = {});

}  // namespace tagsmith::ingest
