#include "fixtures.h"

#include <zlib.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <stdexcept>
#include <vips/vips8>

#include "tagsmith/image/synthetic.h"

namespace tagsmith::test {
namespace fs = std::filesystem;

cv::Mat synthetic_product(int width, int height, unsigned seed, cv::Scalar rgb) {
  return image::synthetic_product(width, height, seed, rgb);
}

namespace {
cv::Mat to_bgr(const cv::Mat& rgb) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, rgb.channels() == 4 ? cv::COLOR_RGBA2BGRA : cv::COLOR_RGB2BGR);
  return bgr;
}
void must(bool ok, const fs::path& p) {
  if (!ok) throw std::runtime_error("fixture write failed: " + p.string());
}
vips::VImage to_vips(const cv::Mat& rgb) {
  cv::Mat cont = rgb.isContinuous() ? rgb : rgb.clone();
  return vips::VImage::new_from_memory(cont.data, cont.total() * cont.elemSize(), cont.cols,
                                       cont.rows, cont.channels(), VIPS_FORMAT_UCHAR)
      .copy_memory();
}
}  // namespace

void write_jpeg(const fs::path& p, const cv::Mat& rgb, int quality) {
  must(cv::imwrite(p.string(), to_bgr(rgb), {cv::IMWRITE_JPEG_QUALITY, quality}), p);
}
void write_png(const fs::path& p, const cv::Mat& rgb) {
  must(cv::imwrite(p.string(), to_bgr(rgb)), p);
}
void write_png16(const fs::path& p, const cv::Mat& rgb) {
  cv::Mat wide;
  to_bgr(rgb).convertTo(wide, CV_16UC3, 257.0);
  must(cv::imwrite(p.string(), wide), p);
}
void write_png_alpha(const fs::path& p, const cv::Mat& rgb) {
  cv::Mat rgba;
  cv::cvtColor(rgb, rgba, cv::COLOR_RGB2RGBA);
  // Background (near-white) becomes transparent *black*, so a decoder that
  // ignores alpha would show black where we expect white.
  for (int y = 0; y < rgba.rows; ++y) {
    for (int x = 0; x < rgba.cols; ++x) {
      auto& px = rgba.at<cv::Vec4b>(y, x);
      if (px[0] > 240 && px[1] > 240 && px[2] > 240) px = cv::Vec4b(0, 0, 0, 0);
    }
  }
  must(cv::imwrite(p.string(), to_bgr(rgba)), p);
}
void write_cmyk_jpeg(const fs::path& p, const cv::Mat& rgb) {
  // Naive CMYK separation; libvips writes a 4-band CMYK image as an Adobe CMYK JPEG.
  cv::Mat cmyk(rgb.rows, rgb.cols, CV_8UC4);
  for (int y = 0; y < rgb.rows; ++y) {
    for (int x = 0; x < rgb.cols; ++x) {
      const auto px = rgb.at<cv::Vec3b>(y, x);
      const double r = px[0] / 255.0, g = px[1] / 255.0, b = px[2] / 255.0;
      const double k = 1 - std::max({r, g, b});
      const double d = k < 1 ? 1 - k : 1;
      cmyk.at<cv::Vec4b>(y, x) = cv::Vec4b(cv::saturate_cast<std::uint8_t>(255 * (1 - r - k) / d),
                                           cv::saturate_cast<std::uint8_t>(255 * (1 - g - k) / d),
                                           cv::saturate_cast<std::uint8_t>(255 * (1 - b - k) / d),
                                           cv::saturate_cast<std::uint8_t>(255 * k));
    }
  }
  vips::VImage img =
      to_vips(cmyk).copy(vips::VImage::option()->set("interpretation", VIPS_INTERPRETATION_CMYK));
  img.jpegsave(p.c_str(), vips::VImage::option()->set("Q", 92));
}
void write_exif_rotated_jpeg(const fs::path& p, const cv::Mat& upright, int orientation) {
  cv::Mat stored;
  switch (orientation) {
    case 6:
      cv::rotate(upright, stored, cv::ROTATE_90_COUNTERCLOCKWISE);
      break;
    case 8:
      cv::rotate(upright, stored, cv::ROTATE_90_CLOCKWISE);
      break;
    case 3:
      cv::rotate(upright, stored, cv::ROTATE_180);
      break;
    default:
      stored = upright;
  }
  vips::VImage img =
      to_vips(stored).copy(vips::VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
  img.set(VIPS_META_ORIENTATION, orientation);
  img.jpegsave(p.c_str(), vips::VImage::option()->set("Q", 92));
}
void write_webp(const fs::path& p, const cv::Mat& rgb) {
  must(cv::imwrite(p.string(), to_bgr(rgb)), p);
}
void write_tiff(const fs::path& p, const cv::Mat& rgb) {
  must(cv::imwrite(p.string(), to_bgr(rgb)), p);
}
void write_bmp(const fs::path& p, const cv::Mat& rgb) {
  must(cv::imwrite(p.string(), to_bgr(rgb)), p);
}
void write_gif(const fs::path& p, const cv::Mat& rgb) {
  to_vips(rgb)
      .copy(vips::VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB))
      .gifsave(p.c_str());
}
void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}
void write_png_bomb_header(const fs::path& p, std::uint32_t width, std::uint32_t height) {
  // Well-formed chunks (IHDR, a small IDAT of compressed zeros, IEND): the
  // header is valid and only decoding would discover that data is missing,
  // which is exactly what a decompression bomb looks like to a loader.
  std::string s("\x89PNG\r\n\x1a\n", 8);
  auto be32 = [](std::string& out, std::uint32_t v) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto chunk = [&](const std::string& type, const std::string& data) {
    be32(s, static_cast<std::uint32_t>(data.size()));
    const std::string body = type + data;
    s += body;
    be32(s, static_cast<std::uint32_t>(
                crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size())));
  };
  std::string ihdr;
  be32(ihdr, width);
  be32(ihdr, height);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB
  chunk("IHDR", ihdr);
  std::vector<Bytef> zeros(4096, 0), packed(compressBound(zeros.size()));
  uLongf packed_size = packed.size();
  compress(packed.data(), &packed_size, zeros.data(), zeros.size());
  chunk("IDAT", std::string(packed.begin(), packed.begin() + static_cast<long>(packed_size)));
  chunk("IEND", "");
  write_bytes(p, s);
}
void write_truncated_jpeg(const fs::path& p, const cv::Mat& rgb, double keep) {
  std::vector<std::uint8_t> buf;
  cv::imencode(".jpg", to_bgr(rgb), buf, {cv::IMWRITE_JPEG_QUALITY, 90});
  buf.resize(static_cast<std::size_t>(buf.size() * keep));
  write_bytes(p, std::string(buf.begin(), buf.end()));
}

}  // namespace tagsmith::test
