#include "tagsmith/image/decode.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <string_view>
#include <vector>
#include <vips/vips8>

#include "damage.h"
#include "tagsmith/common/files.h"

namespace tagsmith::image {
namespace {

bool starts_with(std::span<const std::uint8_t> b, std::initializer_list<int> magic,
                 std::size_t at = 0) {
  if (b.size() < at + magic.size()) return false;
  std::size_t i = at;
  for (int m : magic) {
    if (m >= 0 && b[i] != static_cast<std::uint8_t>(m)) return false;
    ++i;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The names libvips' loaders for a format sign their messages with
// ("vipspng", "VipsJpeg", "webp2vips", "magick2vips", "TIFFReadDirectory", …).
std::vector<std::string_view> loader_names(std::string_view format) {
  if (format == "jpeg") return {"jpeg", "jpg"};
  if (format == "png") return {"png"};
  if (format == "webp") return {"webp"};
  if (format == "tiff") return {"tiff", "magick"};
  if (format == "bmp") return {"bmp", "magick"};
  if (format == "gif") return {"gif"};
  return {};
}

// libvips' error log, boiled down to what it says about a file of this
// format. The log is one for the whole process (not per thread): when files
// fail at the same time, each one's log holds the others' lines too, so lines
// signed by another format's loader are dropped, repeats are dropped, and so
// is the noise ("unable to read buffer", ImageMagick's source locations).
std::string decoder_detail(std::string_view format, std::string_view log) {
  static const std::vector<std::string_view> all_loaders = {"png",  "jpeg",   "jpg", "webp",
                                                            "tiff", "magick", "bmp", "gif"};
  const auto own = loader_names(format);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string_view::npos) end = log.size();
    std::string line(log.substr(start, end - start));
    start = end + 1;
    if (const auto at = line.find(" `"); at != std::string::npos)
      line.erase(at);  // " `' @ error/…"
    while (!line.empty() && (line.back() == ' ' || line.back() == '.')) line.pop_back();
    if (line.empty() || line.ends_with("unable to read buffer") ||
        line.ends_with("unable to write to memory"))
      continue;
    const std::string signer = lower(line.substr(0, line.find(':')));
    auto signed_by = [&](const std::vector<std::string_view>& names) {
      return std::any_of(names.begin(), names.end(),
                         [&](std::string_view n) { return signer.find(n) != std::string::npos; });
    };
    if (signed_by(all_loaders) && !signed_by(own)) continue;
    if (std::find(lines.begin(), lines.end(), line) == lines.end()) lines.push_back(line);
  }
  // The log is cleared after a failure only, so it can hold lines from
  // earlier successful calls: the last few lines are the ones that matter.
  constexpr std::size_t kMostLines = 3;
  std::string out;
  for (std::size_t i = lines.size() > kMostLines ? lines.size() - kMostLines : 0; i < lines.size();
       ++i)
    out += (out.empty() ? "" : "; ") + lines[i];
  return out;
}

// Why a file of `format` did not decode: what its structure shows, then
// what the decoder said; never nothing.
std::string failure_reason(std::string_view format, std::span<const std::uint8_t> bytes,
                           std::string_view log) {
  const std::string damage = describe_damage(format, bytes);
  const std::string detail = decoder_detail(format, log);
  if (!damage.empty() && !detail.empty()) return fmt::format("{} ({})", damage, detail);
  if (!damage.empty()) return damage;
  if (!detail.empty()) return "corrupt or unsupported: " + detail;
  return "corrupt or unsupported data (the decoder gave no detail)";
}

}  // namespace

std::string sniff_format(std::span<const std::uint8_t> h) {
  if (starts_with(h, {0xFF, 0xD8, 0xFF})) return "jpeg";
  if (starts_with(h, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) return "png";
  if (starts_with(h, {'R', 'I', 'F', 'F'}) && starts_with(h, {'W', 'E', 'B', 'P'}, 8))
    return "webp";
  if (starts_with(h, {'I', 'I', 0x2A, 0x00}) || starts_with(h, {'M', 'M', 0x00, 0x2A}))
    return "tiff";
  if (starts_with(h, {'B', 'M'}) && h.size() >= 26) return "bmp";
  if (starts_with(h, {'G', 'I', 'F', '8', -1, 'a'})) return "gif";
  return "";
}

void init_decoder() {
  static std::once_flag once;
  std::call_once(once, [] {
    // libvips logs a warning for every damaged tile; we report failures
    // ourselves, once, in words, so its log stays quiet.
    g_log_set_handler(
        "VIPS", G_LOG_LEVEL_WARNING, [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {},
        nullptr);
    if (VIPS_INIT("tagsmith") != 0) throw Error("libvips failed to start");
    // We parallelise across files; one libvips worker per image avoids
    // oversubscribing the cores. Caching operations by buffer is useless for
    // a one-pass ingest and only costs memory.
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
  });
}

int shrink_factor(int width, int height, const NeededSize& need) {
  if (need.full() || width <= 0 || height <= 0) return 1;
  const int longest = std::max(width, height), shortest = std::min(width, height);
  // libjpeg rounds scaled sizes up; judging them rounded down keeps the
  // promise either way.
  for (const int s : {8, 4, 2})
    if (longest / s >= need.longest_side && shortest / s >= need.shortest_side) return s;
  return 1;
}

DecodedImage decode(std::span<const std::uint8_t> bytes, const DecodeLimits& limits,
                    const NeededSize& need) {
  if (bytes.empty()) throw DecodeError("empty file (0 bytes)");
  if (bytes.size() > limits.max_file_bytes) {
    throw DecodeError(fmt::format("file is {} bytes, over the limit of {} bytes", bytes.size(),
                                  limits.max_file_bytes));
  }
  DecodedImage out;
  out.format = sniff_format(bytes.first(std::min<std::size_t>(bytes.size(), 32)));
  if (out.format.empty()) {
    throw DecodeError("not an image in a supported format (JPEG, PNG, WebP, TIFF, BMP, GIF)");
  }
  try {
    // Opening reads the header only; pixels are decoded on demand below,
    // after the size guard.
    auto open = [&](int shrink) {
      auto options = vips::VImage::option()
                         ->set("access", VIPS_ACCESS_SEQUENTIAL)
                         ->set("fail_on", VIPS_FAIL_ON_TRUNCATED);
      if (shrink > 1) options->set("shrink", shrink);  // jpegload's DCT-domain scaling
      return vips::VImage::new_from_buffer(bytes.data(), bytes.size(), "", options);
    };
    vips::VImage img = open(1);
    out.source_width = img.width();
    out.source_height = img.height();
    const std::uint64_t pixels =
        static_cast<std::uint64_t>(img.width()) * static_cast<std::uint64_t>(img.height());
    if (pixels > limits.max_pixels) {
      throw DecodeError(fmt::format("image is {}x{} = {} pixels, over the limit of {} pixels",
                                    img.width(), img.height(), pixels, limits.max_pixels));
    }
    if (img.get_typeof(VIPS_META_ORIENTATION) != 0)
      out.orientation = img.get_int(VIPS_META_ORIENTATION);
    // Orientations 5 to 8 turn the photo by a quarter (autorot below).
    const bool sideways = out.orientation >= 5 && out.orientation <= 8;
    out.width = sideways ? out.source_height : out.source_width;
    out.height = sideways ? out.source_width : out.source_height;
    if (out.format == "jpeg") {
      // Reopened, since the header told the size only now; opening reads
      // the header alone, so this costs next to nothing.
      out.shrink = shrink_factor(out.source_width, out.source_height, need);
      if (out.shrink > 1) img = open(out.shrink);
    }
    img = img.autorot();
    // Colour management: CMYK, 16-bit, greyscale, LAB… all become sRGB 8-bit.
    const VipsInterpretation interp = img.interpretation();
    if (interp == VIPS_INTERPRETATION_CMYK) {
      img = img.icc_import(
          vips::VImage::option()->set("embedded", true)->set("input_profile", "cmyk"));
      img = img.colourspace(VIPS_INTERPRETATION_sRGB);
    } else if (interp != VIPS_INTERPRETATION_sRGB || img.format() != VIPS_FORMAT_UCHAR) {
      // guess_interpretation copes with files whose header says something odd.
      img = img.colourspace(VIPS_INTERPRETATION_sRGB);
    }
    if (img.has_alpha()) {
      const double white = img.format() == VIPS_FORMAT_USHORT ? 65535.0 : 255.0;
      img = img.flatten(
          vips::VImage::option()->set("background", std::vector<double>{white, white, white}));
    }
    if (img.format() != VIPS_FORMAT_UCHAR) {
      if (img.format() == VIPS_FORMAT_USHORT) img = img / 257.0;
      img = img.cast(VIPS_FORMAT_UCHAR);
    }
    if (img.bands() == 1) img = img.bandjoin({img, img});
    if (img.bands() > 3) img = img.extract_band(0, vips::VImage::option()->set("n", 3));
    if (img.bands() != 3)
      throw DecodeError(fmt::format("unsupported image with {} bands", img.bands()));

    // Decoded straight into the matrix: no second buffer to fill and copy.
    out.rgb = cv::Mat(img.height(), img.width(), CV_8UC3);
    img.write(vips::VImage::new_from_memory(out.rgb.data, out.rgb.total() * out.rgb.elemSize(),
                                            img.width(), img.height(), 3, VIPS_FORMAT_UCHAR));
  } catch (const vips::VError& e) {
    // libvips' error log is one for the process; clearing it before each
    // decode (as this once did) wiped the reasons of files failing on other
    // threads. Clearing it after a failure keeps it short, and the damage
    // found in the file itself does not depend on it.
    vips_error_clear();
    throw DecodeError(fmt::format("cannot decode {} data: {}", out.format,
                                  failure_reason(out.format, bytes, e.what())));
  }
  return out;
}

DecodedImage decode_file(const std::filesystem::path& path, const DecodeLimits& limits,
                         const NeededSize& need) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);  // fails for a pipe: read and see
  if (!ec && size > limits.max_file_bytes) {
    throw DecodeError(
        fmt::format("file is {} bytes, over the limit of {} bytes", size, limits.max_file_bytes));
  }
  std::vector<std::uint8_t> bytes;
  try {
    bytes = read_file_bytes(path, limits.max_file_bytes);
  } catch (const FileTooLargeError&) {
    throw DecodeError(fmt::format("file is over the limit of {} bytes", limits.max_file_bytes));
  } catch (const Error& e) {
    throw DecodeError(e.what());  // missing, unreadable: the caller's input
  }
  return decode(bytes, limits, need);
}

}  // namespace tagsmith::image
