#pragma once
// Ingest: turning folders of photos into library assets.
//
// Pipeline: list files → (N workers) read, hash, decode, analyse → (optional)
// batch-encode with a vision model → (one writer) commit each asset in its own
// transaction. Each photo is decoded once, only as large as its consumers need
// (the 512 px analysis working copy, the embedder's input_size()): a large
// JPEG is shrunk while it is decoded. Because a file becomes visible only with its commit, a crash
// at any moment loses at most the in-flight files, and a re-run picks them up: paths already
// committed with the same size and mtime are skipped unread.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "tagsmith/image/colour.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/image/xmp.h"
#include "tagsmith/library/library.h"

namespace tagsmith::ingest {

// What ingest needs from a vision model: batched image embeddings. Implemented
// by vision::ClipModel (through an adapter in the CLI) and by test doubles.
class ImageEmbedder {
 public:
  virtual ~ImageEmbedder() = default;
  virtual std::string version() const = 0;
  virtual int preferred_batch() const { return 16; }
  // The shortest side the model's preprocessing scales a photo to (its
  // input crop): ingest decodes photos no smaller than that, and only as
  // large as the analysis needs besides. 0: the embedder gets the photo at
  // full resolution.
  virtual int input_size() const { return 0; }
  // One vector per image (RGB, CV_8UC3), stored as it is: the encoder's
  // native feature (CLIP's are unit length; consumers that compare by
  // cosine normalise).
  virtual std::vector<std::vector<float>> embed(const std::vector<cv::Mat>& images) = 0;
};

// What ingest needs from a person-segmentation model: where the people are,
// so that colour analysis looks for the product on them rather than taking
// skin and hair for it. Implemented over vision::PersonSegmenter by the
// application layer, and by test doubles. Called from the decode workers
// concurrently: implementations must be thread-safe.
class PersonMasker {
 public:
  virtual ~PersonMasker() = default;
  virtual std::string version() const = 0;
  // CV_8U mask (any size; non-zero = person) of an RGB image (CV_8UC3).
  virtual cv::Mat person_mask(const cv::Mat& rgb) = 0;
};

// What ingest does with the keywords a new photo carries (embedded XMP
// dc:subject / lr:hierarchicalSubject and IPTC Keywords, and those of its
// sidecar photo.xmp or photo.jpg.xmp; image/xmp.h). Implemented by the
// application layer over tagging/keywords.h (keywords become imported
// tags) and by test doubles. Called on the writer thread only, right after
// the asset is committed, once per new asset that carries keywords.
class KeywordImporter {
 public:
  struct Outcome {
    std::int64_t tags = 0;               // tags recorded from the keywords
    std::vector<std::string> unmatched;  // keywords not imported (no node, ambiguous, conflict)
  };
  virtual ~KeywordImporter() = default;
  virtual Outcome import(store::AssetId asset, const image::PhotoKeywords& keywords) = 0;
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
  // Null: colours are analysed without a person mask. Otherwise the masker
  // runs on the photos that pass the skin gate: at least this share of their
  // (working-size) pixels is skin-coloured (image/skin.h). A person model
  // costs far more per photo than all the rest of ingest, and a photo with
  // (almost) no skin-coloured pixels shows no person whose skin could be
  // taken for the product, so it has nothing to gain from it. The gate is
  // only as selective as skin colour is rare: on clothing-small (flat lays,
  // warm backgrounds, beige and brown products) 95 % of the photos without a
  // person pass it (bench_person), so it saves most on cool-coloured
  // products shot on white or grey.
  PersonMasker* person_masker = nullptr;
  double person_gate_skin_fraction = 0.01;
  std::function<void(const Progress&)> on_progress;  // called from the writer thread
  // Null: photo metadata is not read. Otherwise each new photo's keywords
  // (and its sidecar's) are read by the decode workers and handed to it.
  KeywordImporter* keywords = nullptr;
};

struct FileError {
  std::string path;
  std::string reason;
};

struct IngestReport {
  std::int64_t files = 0;          // image files found, and entries not taken (FileListing)
  std::int64_t ingested = 0;       // new assets
  std::int64_t skipped = 0;        // already in the library (same path, or same content: alias)
  std::int64_t aliases = 0;        // of skipped: new path for content already present
  std::int64_t rejected = 0;       // could not be ingested (see errors)
  std::int64_t embedded = 0;       // embeddings computed
  std::int64_t person_masked = 0;  // new assets whose colours were analysed with a person mask
  std::vector<FileError> errors;
  double seconds = 0;
  // Keywords (IngestOptions::keywords): new assets whose photo or sidecar
  // carried some, the tags recorded from them, the keywords not imported
  // (each occurrence counted; the first kMaxUnmatchedListed distinct ones
  // listed with how often they occurred), and photos whose metadata could
  // not be read (the photo itself is still ingested; see metadata_errors).
  static constexpr std::size_t kMaxUnmatchedListed = 100;
  std::int64_t with_keywords = 0;
  std::int64_t keyword_tags = 0;
  std::int64_t keywords_unmatched = 0;
  std::vector<std::pair<std::string, std::int64_t>> unmatched_keywords;
  std::vector<FileError> metadata_errors;
};

// Extensions ingest looks at (lower-case, with dot). Other files are ignored.
bool is_image_extension(const std::filesystem::path& path);

struct FileListing {
  std::vector<std::filesystem::path> files;  // to ingest: sorted, each once
  // Entries of the folders walked that could hold photos and were not taken,
  // each with its reason (ingest rejects them like undecodable files).
  std::vector<FileError> not_taken;
};

// Lists the image files under `inputs`.
// A folder is walked recursively. Hidden entries (".git", "._a.jpg") and
// files without an image extension are skipped. Symbolic links are never
// walked through: a link to a file inside the folder is listed under its own
// name; a link to a folder inside it is skipped (the walk reaches its
// contents anyway); a link that leads out of the folder is not followed and
// is not_taken, as are unreadable folders, and broken links and link loops
// whose name could be a photo's or a folder's (an image extension or none).
// FIFOs and devices with a photo's name are listed: the reader rejects them
// unopened. A path named in `inputs` that is not a folder is always listed,
// whatever its name, kind or link target. Throws InputError for an input
// that does not exist or cannot be resolved (a link loop).
FileListing list_image_files(const std::vector<std::filesystem::path>& inputs);

IngestReport ingest(library::Library& library, const std::vector<std::filesystem::path>& inputs,
                    const IngestOptions& options);

// Ingests files already listed (by list_image_files, or taken from the job
// queue by a worker); `listing.not_taken` are recorded as rejected. Several
// processes may ingest into one shared library at once: a file whose content
// another process committed first becomes an alias of that asset.
IngestReport ingest_files(library::Library& library, const FileListing& listing,
                          const IngestOptions& options);

}  // namespace tagsmith::ingest
