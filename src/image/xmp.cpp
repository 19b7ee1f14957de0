// Photo keywords through Exiv2 (Debian 12: 0.27). Exiv2 reports every
// problem as an exception (Exiv2::AnyError, or std:: ones on absurd sizes in
// a corrupt file); each entry point turns them into MetadataError naming the
// file, so a corrupt photo is a clear message, never a crash.
#include "tagsmith/image/xmp.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <mutex>

// Exiv2 0.27's headers use std::auto_ptr (deprecated since C++11).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <exiv2/exiv2.hpp>
#pragma GCC diagnostic pop

#include "tagsmith/common/files.h"
#include "tagsmith/common/utf8.h"

namespace tagsmith::image {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSubjectKey = "Xmp.dc.subject";
constexpr const char* kHierarchyKey = "Xmp.lr.hierarchicalSubject";
constexpr const char* kIptcKeywordsKey = "Iptc.Application2.Keywords";
constexpr const char* kLightroomNs = "http://ns.adobe.com/lightroom/1.0/";

// Adobe's XMP toolkit keeps global state: Exiv2 asks for a lock function to
// serialise it when several threads parse or serialise XMP (ingest workers).
void xmp_lock(void* data, bool lock) {
  auto* mu = static_cast<std::mutex*>(data);
  if (lock)
    mu->lock();
  else
    mu->unlock();
}

void initialise_exiv2() {
  static std::once_flag once;
  std::call_once(once, [] {
    static std::mutex toolkit_mutex;
    Exiv2::XmpParser::initialize(xmp_lock, &toolkit_mutex);
    // Exiv2 writes its warnings to stderr; they belong in our log, quietly:
    // a missing or odd tag in a photo is not the user's problem.
    Exiv2::LogMsg::setHandler([](int level, const char* msg) {
      std::string text(msg);
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      if (level >= Exiv2::LogMsg::error)
        spdlog::debug("exiv2: {}", text);
      else
        spdlog::trace("exiv2: {}", text);
    });
    try {
      Exiv2::XmpProperties::ns("lr");
    } catch (const Exiv2::AnyError&) {
      Exiv2::XmpProperties::registerNs(kLightroomNs, "lr");
    }
  });
}

std::string trimmed(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// IPTC keywords are Latin-1 unless the envelope says UTF-8 (ESC % G); XMP is
// always UTF-8. Bytes that are not UTF-8 are read as Latin-1.
std::string as_utf8(const std::string& s) {
  if (!find_invalid_utf8(s)) return s;
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

void add_unique(std::vector<std::string>& into, std::string value) {
  value = trimmed(as_utf8(value));
  if (value.empty()) return;
  if (std::find(into.begin(), into.end(), value) == into.end()) into.push_back(std::move(value));
}

void collect_xmp(const Exiv2::XmpData& xmp, PhotoKeywords& out) {
  for (const auto& d : xmp) {
    const std::string key = d.key();
    std::vector<std::string>* into = nullptr;
    if (key == kSubjectKey)
      into = &out.subjects;
    else if (key == kHierarchyKey)
      into = &out.hierarchical;
    if (!into) continue;
    // A bag holds count() items; a property written as plain text holds one.
    const long n = d.count();
    if (n <= 1) {
      add_unique(*into, d.toString());
    } else {
      for (long i = 0; i < n; ++i) add_unique(*into, d.toString(i));
    }
  }
}

void collect_iptc(const Exiv2::IptcData& iptc, PhotoKeywords& out) {
  for (const auto& d : iptc)
    if (d.key() == kIptcKeywordsKey) add_unique(out.subjects, d.toString());
}

// Writes `keywords` into `xmp` as bags, merged with or replacing what is there.
void put_keywords(Exiv2::XmpData& xmp, const PhotoKeywords& keywords, KeywordWrite mode) {
  PhotoKeywords all;
  if (mode == KeywordWrite::kMerge) collect_xmp(xmp, all);
  all.merge(keywords);
  for (const char* key : {kSubjectKey, kHierarchyKey}) {
    for (auto it = xmp.findKey(Exiv2::XmpKey(key)); it != xmp.end();
         it = xmp.findKey(Exiv2::XmpKey(key)))
      xmp.erase(it);
  }
  const auto put = [&](const char* key, const std::vector<std::string>& values) {
    if (values.empty()) return;
    Exiv2::XmpArrayValue bag(Exiv2::xmpBag);
    for (const auto& v : values) bag.read(v);
    xmp.add(Exiv2::XmpKey(key), &bag);
  };
  put(kSubjectKey, all.subjects);
  put(kHierarchyKey, all.hierarchical);
}

[[noreturn]] void rethrow_as_metadata_error(const std::string& what, const std::string& name) {
  try {
    throw;
  } catch (const MetadataError&) {
    throw;
  } catch (const Exiv2::AnyError& e) {
    throw MetadataError(fmt::format("{}: cannot {}: {}", name, what, e.what()));
  } catch (const std::bad_alloc&) {
    throw MetadataError(fmt::format("{}: cannot {}: corrupt metadata (absurd sizes)", name, what));
  } catch (const tagsmith::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw MetadataError(fmt::format("{}: cannot {}: {}", name, what, e.what()));
  }
}

bool is_sidecar_name(const fs::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".xmp";
}

Exiv2::XmpData parse_sidecar_text(const std::string& text, const std::string& name) {
  Exiv2::XmpData xmp;
  if (Exiv2::XmpParser::decode(xmp, text) != 0)
    throw MetadataError(fmt::format("{}: cannot read the XMP sidecar: not well-formed XMP", name));
  return xmp;
}

}  // namespace

void PhotoKeywords::merge(const PhotoKeywords& other) {
  for (const auto& s : other.subjects) add_unique(subjects, s);
  for (const auto& s : other.hierarchical) add_unique(hierarchical, s);
}

std::vector<std::string> split_hierarchy(const std::string& subject) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= subject.size()) {
    const std::size_t bar = subject.find(kHierarchySeparator, start);
    const std::size_t end = bar == std::string::npos ? subject.size() : bar;
    if (auto part = trimmed(subject.substr(start, end - start)); !part.empty())
      parts.push_back(std::move(part));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return parts;
}

PhotoKeywords read_embedded_keywords(std::span<const std::uint8_t> bytes,
                                     const std::string& name_for_errors) {
  initialise_exiv2();
  PhotoKeywords out;
  try {
    auto image = Exiv2::ImageFactory::open(reinterpret_cast<const Exiv2::byte*>(bytes.data()),
                                           static_cast<long>(bytes.size()));
    image->readMetadata();
    collect_xmp(image->xmpData(), out);
    collect_iptc(image->iptcData(), out);
  } catch (...) {
    rethrow_as_metadata_error("read its metadata", name_for_errors);
  }
  return out;
}

PhotoKeywords read_keywords(const fs::path& file) {
  initialise_exiv2();
  const std::string name = file.string();
  if (is_sidecar_name(file)) {
    try {
      PhotoKeywords out;
      collect_xmp(parse_sidecar_text(read_file_text(file), name), out);
      return out;
    } catch (...) {
      rethrow_as_metadata_error("read the XMP sidecar", name);
    }
  }
  const auto bytes = read_file_bytes(file);
  return read_embedded_keywords(bytes, name);
}

fs::path sidecar_path(const fs::path& photo, bool full_name) {
  if (full_name) return fs::path(photo.string() + ".xmp");
  fs::path p = photo;
  return p.replace_extension(".xmp");
}

std::optional<fs::path> find_sidecar(const fs::path& photo) {
  for (bool full : {false, true}) {
    std::error_code ec;
    const fs::path p = sidecar_path(photo, full);
    if (fs::is_regular_file(p, ec)) return p;
  }
  return std::nullopt;
}

void write_sidecar(const fs::path& sidecar, const PhotoKeywords& keywords, KeywordWrite mode) {
  initialise_exiv2();
  const std::string name = sidecar.string();
  try {
    Exiv2::XmpData xmp;
    std::error_code ec;
    if (fs::exists(sidecar, ec)) xmp = parse_sidecar_text(read_file_text(sidecar), name);
    put_keywords(xmp, keywords, mode);
    std::string packet;
    // As Exiv2's own XmpSidecar writes them: no packet wrapper, compact RDF.
    if (Exiv2::XmpParser::encode(
            packet, xmp,
            Exiv2::XmpParser::omitPacketWrapper | Exiv2::XmpParser::useCompactFormat) != 0)
      throw MetadataError(fmt::format("{}: cannot encode the XMP packet", name));
    write_file_atomic(sidecar, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + packet);
  } catch (...) {
    rethrow_as_metadata_error("write the XMP sidecar", name);
  }
}

void write_embedded_copy(const fs::path& photo, const fs::path& copy, const PhotoKeywords& keywords,
                         KeywordWrite mode) {
  initialise_exiv2();
  const std::string name = photo.string();
  std::error_code ec;
  if (fs::exists(copy, ec) && fs::equivalent(photo, copy, ec))
    throw MetadataError(fmt::format(
        "{}: the copy would overwrite the original photo; choose another folder", name));
  const fs::path tmp = copy.parent_path() / (".tagsmith-" + copy.filename().string() + ".tmp");
  struct RemoveTmp {
    const fs::path& p;
    ~RemoveTmp() {
      std::error_code ignored;
      fs::remove(p, ignored);
    }
  } remove_tmp{tmp};
  try {
    const int type = Exiv2::ImageFactory::getType(photo.string());
    if (type == Exiv2::ImageType::none)
      throw MetadataError(fmt::format("{}: not a photo format Exiv2 knows", name));
    const auto access = Exiv2::ImageFactory::checkMode(type, Exiv2::mdXmp);
    if (access != Exiv2::amWrite && access != Exiv2::amReadWrite)
      throw MetadataError(
          fmt::format("{}: Exiv2 cannot embed XMP in this format; export sidecars instead", name));
    fs::copy_file(photo, tmp, fs::copy_options::overwrite_existing);
    auto image = Exiv2::ImageFactory::open(tmp.string());
    image->readMetadata();
    put_keywords(image->xmpData(), keywords, mode);
    image->writeMetadata();
    image.reset();
    fs::rename(tmp, copy);
  } catch (...) {
    rethrow_as_metadata_error("embed XMP in a copy", name);
  }
}

}  // namespace tagsmith::image
