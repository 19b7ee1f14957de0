#pragma once
// What is wrong with an image file the decoder refused (private to src/image).
//
// The decoders' own messages are poor ("libpng read error", "unable to parse
// image") and, because libvips keeps one error log for the whole process,
// cannot be told apart when several files fail at once. The file's structure
// can: each format says where it ends (PNG's IEND chunk, JPEG's end-of-image
// marker, GIF's trailer, the sizes in RIFF, BMP and TIFF headers), so a file
// cut short by an interrupted copy or download is recognised for certain, and
// a checksum or a marker in the wrong place points at corruption.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tagsmith::image {

// "truncated: …" or "corrupt: …" for damage the file's structure shows, ""
// when its structure looks whole (the damage, if any, is in the compressed
// data). `format` is sniff_format's answer.
std::string describe_damage(std::string_view format, std::span<const std::uint8_t> bytes);

}  // namespace tagsmith::image
