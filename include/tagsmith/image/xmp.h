#pragma once
// Keywords in photo metadata, the way DAM and photo tools exchange them
// (Lightroom, Bridge, digiKam, PhotoPrism), read and written with Exiv2.
//
// What is read and written:
//   XMP  dc:subject               flat keywords (an rdf:Bag of text)
//   XMP  lr:hierarchicalSubject   keyword paths, components separated by '|'
//                                 (Lightroom's convention: "Product type|Dress|Maxi dress")
//   IPTC Iptc.Application2.Keywords   flat keywords (read only; merged into subjects)
//
// Contract:
//  * read_*: a photo (its embedded XMP and IPTC) and/or its sidecar. Values
//    are trimmed, empty ones dropped, duplicates removed (first one kept, in
//    file order). A file Exiv2 cannot parse throws MetadataError naming the
//    file and the reason -- never crashes, never returns half a result.
//  * write_sidecar: writes (atomically) an XMP sidecar with the keywords. An
//    existing sidecar's other properties (ratings, develop settings, ...) are
//    kept; its keywords are merged with the new ones (KeywordWrite::kMerge,
//    nothing a person wrote there is lost) or replaced (kReplace).
//  * write_embedded_copy: copies the photo to `copy` and embeds the keywords
//    in the copy's XMP (JPEG, PNG, TIFF, WebP: what Exiv2 writes). The
//    original is never opened for writing. Unsupported formats throw
//    MetadataError before anything is written.
//  * find_sidecar: `photo.xmp` (Lightroom, Bridge) or `photo.jpg.xmp`
//    (darktable, digiKam), whichever exists, in that order.
//
// Thread-safety: every call may run on any thread. Adobe's XMP toolkit
// inside Exiv2 is not thread-safe on its own; this module initialises it
// once with a lock (Exiv2::XmpParser::initialize), so calls serialise only
// inside the toolkit's XMP (de)serialisation.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/common/error.h"

namespace tagsmith::image {

// The file's metadata cannot be read or written (corrupt, truncated, a
// format Exiv2 does not write). The message names the file.
class MetadataError : public InputError {
 public:
  using InputError::InputError;
};

// Lightroom's separator between the components of a hierarchical subject.
inline constexpr char kHierarchySeparator = '|';

struct PhotoKeywords {
  std::vector<std::string> subjects;      // dc:subject and IPTC Keywords
  std::vector<std::string> hierarchical;  // lr:hierarchicalSubject, "A|B|C"
  bool empty() const { return subjects.empty() && hierarchical.empty(); }
  // Adds the other's values not present yet (order kept).
  void merge(const PhotoKeywords& other);
};

enum class KeywordWrite { kMerge, kReplace };

// The keywords embedded in a photo's bytes (XMP packet and IPTC). Empty for
// a photo without them; MetadataError for bytes Exiv2 cannot parse.
PhotoKeywords read_embedded_keywords(std::span<const std::uint8_t> bytes,
                                     const std::string& name_for_errors = "photo");
// The keywords of a file: a photo's embedded ones, or a sidecar's (.xmp).
PhotoKeywords read_keywords(const std::filesystem::path& file);
std::optional<std::filesystem::path> find_sidecar(const std::filesystem::path& photo);
// Sidecar names for a photo: "dir/name.xmp" (stem) and "dir/name.jpg.xmp" (full).
std::filesystem::path sidecar_path(const std::filesystem::path& photo, bool full_name = false);

void write_sidecar(const std::filesystem::path& sidecar, const PhotoKeywords& keywords,
                   KeywordWrite mode = KeywordWrite::kMerge);
void write_embedded_copy(const std::filesystem::path& photo, const std::filesystem::path& copy,
                         const PhotoKeywords& keywords, KeywordWrite mode = KeywordWrite::kMerge);

// Splits "A|B|C" into its trimmed, non-empty components.
std::vector<std::string> split_hierarchy(const std::string& subject);

}  // namespace tagsmith::image
