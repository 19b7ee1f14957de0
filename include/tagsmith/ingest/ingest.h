#pragma once
// Ingest: turning folders of photos into library assets.
//
// Pipeline: list files → (N workers) read, hash, decode, analyse → (optional)
// batch-encode with a vision model → (one writer) commit each asset in its own
// transaction. Because a file becomes visible only with its commit, a crash at
// any moment loses at most the in-flight files, and a re-run picks them up:
// paths already committed with the same size and mtime are skipped unread.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "tagsmith/image/colour.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/library/library.h"

namespace tagsmith::ingest {

// What ingest needs from a vision model: batched image embeddings. Implemented
// by vision::ClipModel (through an adapter in the CLI) and by test doubles.
class ImageEmbedder {
 public:
  virtual ~ImageEmbedder() = default;
  virtual std::string version() const = 0;
  virtual int preferred_batch() const { return 16; }
  // One L2-normalised vector per image (RGB, CV_8UC3).
  virtual std::vector<std::vector<float>> embed(const std::vector<cv::Mat>& images) = 0;
};

struct Progress {
  std::int64_t done = 0, total = 0;
  std::int64_t ingested = 0, skipped = 0, rejected = 0;
  double seconds = 0;
};

struct IngestOptions {
  int threads = 0;  // decode workers; 0 = number of cores
  image::DecodeLimits limits;
  image::ColourOptions colour;
  ImageEmbedder* embedder = nullptr;  // null: no recognition (colours, hashes still done)
  std::function<void(const Progress&)> on_progress;  // called from the writer thread
};

struct FileError {
  std::string path;
  std::string reason;
};

struct IngestReport {
  std::int64_t files = 0;     // image files found
  std::int64_t ingested = 0;  // new assets
  std::int64_t skipped = 0;   // already in the library (same path, or same content: alias)
  std::int64_t aliases = 0;   // of skipped: new path for content already present
  std::int64_t rejected = 0;  // could not be ingested (see errors)
  std::int64_t embedded = 0;  // embeddings computed
  std::vector<FileError> errors;
  double seconds = 0;
};

// Extensions ingest looks at (lower-case, with dot). Other files are ignored.
bool is_image_extension(const std::filesystem::path& path);

// Lists image files under `inputs` (files or directories, recursively), sorted.
std::vector<std::filesystem::path> list_image_files(
    const std::vector<std::filesystem::path>& inputs);

IngestReport ingest(library::Library& library, const std::vector<std::filesystem::path>& inputs,
                    const IngestOptions& options);

}  // namespace tagsmith::ingest
