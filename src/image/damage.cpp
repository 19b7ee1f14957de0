#include "damage.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

namespace tagsmith::image {
namespace {

using Bytes = std::span<const std::uint8_t>;

std::uint32_t be32(Bytes b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}
std::uint32_t le32(Bytes b, std::size_t at) {
  return (std::uint32_t{b[at + 3]} << 24) | (std::uint32_t{b[at + 2]} << 16) |
         (std::uint32_t{b[at + 1]} << 8) | b[at];
}
std::uint16_t be16(Bytes b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
std::uint16_t le16(Bytes b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at + 1] << 8) | b[at]);
}

std::string truncated(std::string_view what, std::size_t have) {
  return fmt::format("truncated: the file ends {} (after {} bytes)", what, have);
}

// PNG's CRC-32 (ISO 3309), over a chunk's type and data.
std::uint32_t crc32(Bytes data) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (const std::uint8_t byte : data) c = table[(c ^ byte) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// Chunks: length, type, data, CRC; the last is IEND.
std::string png_damage(Bytes b) {
  std::size_t at = 8;
  std::string last = "signature";
  for (;;) {
    if (at + 8 > b.size())
      return truncated(fmt::format("after its {} and before IEND", last), b.size());
    const std::uint32_t length = be32(b, at);
    const std::string type(reinterpret_cast<const char*>(&b[at + 4]), 4);
    if (length > 0x7FFFFFFFu) return fmt::format("corrupt: impossible chunk length at byte {}", at);
    if (at + 12 + length > b.size())
      return truncated(fmt::format("inside its {} chunk", type), b.size());
    if (crc32(b.subspan(at + 4, 4 + length)) != be32(b, at + 8 + length))
      return fmt::format("corrupt: checksum mismatch in the {} chunk at byte {}", type, at);
    if (type == "IEND") return "";
    last = type + " chunk";
    at += 12 + length;
  }
}

// Segments up to the first scan, then compressed data (where 0xFF is always
// followed by 0x00 or a restart marker) up to the next marker, and so on to
// the end-of-image marker.
std::string jpeg_damage(Bytes b) {
  std::size_t at = 2;
  for (;;) {
    if (at >= b.size()) return truncated("before its end-of-image marker", b.size());
    if (b[at] != 0xFF)
      return fmt::format("corrupt: no JPEG marker where one belongs (byte {})", at);
    while (at < b.size() && b[at] == 0xFF) ++at;  // fill bytes
    if (at >= b.size()) return truncated("before its end-of-image marker", b.size());
    const std::uint8_t marker = b[at++];
    if (marker == 0xD9) return "";
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;
    if (at + 2 > b.size()) return truncated("inside a segment header", b.size());
    const std::size_t length = be16(b, at);
    if (length < 2) return fmt::format("corrupt: impossible segment length at byte {}", at);
    if (at + length > b.size())
      return truncated(
          fmt::format("inside its {} segment", marker == 0xDA ? "scan header" : "header"),
          b.size());
    at += length;
    if (marker != 0xDA) continue;
    while (at + 1 < b.size() &&
           !(b[at] == 0xFF && b[at + 1] != 0x00 && (b[at + 1] < 0xD0 || b[at + 1] > 0xD7)))
      ++at;
    if (at + 1 >= b.size()) return truncated("inside its compressed image data", b.size());
  }
}

std::string webp_damage(Bytes b) {
  if (b.size() < 12) return truncated("inside its RIFF header", b.size());
  const std::uint64_t declared = std::uint64_t{le32(b, 4)} + 8;
  if (declared > b.size())
    return fmt::format("truncated: the RIFF header says the file has {} bytes, it has {}", declared,
                       b.size());
  return "";
}

// Header, colour table, then extension and image blocks (each a chain of
// sized sub-blocks) up to the trailer.
std::string gif_damage(Bytes b) {
  if (b.size() < 13) return truncated("inside its header", b.size());
  std::size_t at = 13;
  if (b[10] & 0x80) at += 3u << ((b[10] & 0x07) + 1);
  auto skip_sub_blocks = [&]() -> bool {
    while (at < b.size()) {
      const std::uint8_t n = b[at++];
      if (n == 0) return true;
      at += n;
    }
    return false;
  };
  for (;;) {
    if (at >= b.size()) return truncated("before its trailer", b.size());
    const std::uint8_t block = b[at++];
    if (block == 0x3B) return "";
    if (block == 0x21) {
      ++at;  // label
      if (!skip_sub_blocks()) return truncated("inside an extension block", b.size());
    } else if (block == 0x2C) {
      if (at + 9 > b.size()) return truncated("inside an image descriptor", b.size());
      const std::uint8_t flags = b[at + 8];
      at += 9;
      if (flags & 0x80) at += 3u << ((flags & 0x07) + 1);
      ++at;  // LZW minimum code size
      if (!skip_sub_blocks()) return truncated("inside its compressed image data", b.size());
    } else {
      return fmt::format("corrupt: unknown block 0x{:02x} at byte {}", block, at - 1);
    }
  }
}

std::string bmp_damage(Bytes b) {
  if (b.size() < 34) return truncated("inside its header", b.size());
  const std::uint32_t declared = le32(b, 2);
  const std::uint32_t pixels_at = le32(b, 10);
  if (pixels_at >= b.size()) return truncated("before its pixel data", b.size());
  const auto width = static_cast<std::int32_t>(le32(b, 18));
  const auto height = static_cast<std::int32_t>(le32(b, 22));
  const std::uint16_t bits = le16(b, 28);
  const std::uint32_t compression = le32(b, 30);
  if (compression == 0 && width > 0 && bits > 0) {  // uncompressed: the size is known
    const std::uint64_t row = (std::uint64_t(width) * bits + 31) / 32 * 4;
    const std::uint64_t rows = height < 0 ? -std::int64_t{height} : height;
    // Up to 2^45 bytes a row times 2^31 rows: computed wide, never wrapped.
    const unsigned __int128 needed = pixels_at + static_cast<unsigned __int128>(row) * rows;
    if (needed > b.size() && needed >> 64 != 0)
      return fmt::format("corrupt: its header claims {}x{} pixels of {} bits", width, height, bits);
    if (needed > b.size())
      return fmt::format("truncated: its pixels need {} bytes, the file has {}",
                         static_cast<std::uint64_t>(needed), b.size());
  } else if (declared > b.size()) {
    return fmt::format("truncated: the header says the file has {} bytes, it has {}", declared,
                       b.size());
  }
  return "";
}

// The first image directory and the strips or tiles it points to.
std::string tiff_damage(Bytes b) {
  if (b.size() < 8) return truncated("inside its header", b.size());
  const bool little = b[0] == 'I';
  auto u16 = [&](std::size_t at) { return little ? le16(b, at) : be16(b, at); };
  auto u32 = [&](std::size_t at) { return little ? le32(b, at) : be32(b, at); };
  const std::uint64_t directory = u32(4);
  if (directory + 2 > b.size()) return truncated("before its image directory", b.size());
  const std::uint64_t entries = u16(directory);
  if (directory + 2 + entries * 12 > b.size())
    return truncated("inside its image directory", b.size());
  // Values of a SHORT or LONG array tag; nullopt if they lie past the end.
  auto values = [&](std::size_t entry) -> std::optional<std::vector<std::uint64_t>> {
    const std::uint16_t type = u16(entry + 2);
    const std::uint64_t count = u32(entry + 4);
    const std::uint64_t size = type == 3 ? 2 : type == 4 ? 4 : 0;
    if (size == 0 || count > (1u << 24)) return std::vector<std::uint64_t>{};
    const std::uint64_t at = count * size <= 4 ? entry + 8 : u32(entry + 8);
    if (at + count * size > b.size()) return std::nullopt;
    std::vector<std::uint64_t> out;
    for (std::uint64_t i = 0; i < count; ++i)
      out.push_back(size == 2 ? u16(at + i * 2) : u32(at + i * 4));
    return out;
  };
  std::vector<std::uint64_t> offsets, counts;
  for (std::uint64_t i = 0; i < entries; ++i) {
    const std::size_t entry = directory + 2 + i * 12;
    const std::uint16_t tag = u16(entry);
    if (tag != 273 && tag != 279 && tag != 324 && tag != 325) continue;
    auto v = values(entry);
    if (!v) return truncated("inside its table of strip positions", b.size());
    ((tag == 273 || tag == 324) ? offsets : counts) = std::move(*v);
  }
  std::uint64_t end = 0;
  for (std::size_t i = 0; i < std::min(offsets.size(), counts.size()); ++i)
    end = std::max(end, offsets[i] + counts[i]);
  if (end > b.size())
    return fmt::format("truncated: its image data runs to byte {}, the file has {}", end, b.size());
  return "";
}

}  // namespace

std::string describe_damage(std::string_view format, std::span<const std::uint8_t> bytes) {
  if (format == "png") return png_damage(bytes);
  if (format == "jpeg") return jpeg_damage(bytes);
  if (format == "webp") return webp_damage(bytes);
  if (format == "gif") return gif_damage(bytes);
  if (format == "bmp") return bmp_damage(bytes);
  if (format == "tiff") return tiff_damage(bytes);
  return "";
}

}  // namespace tagsmith::image
