// Writes the synthetic seed images of fuzz/corpus/image_decode (tiny, one per
// format and pixel layout the decoder normalises). Not part of the build:
//   g++ -std=c++20 -O1 fuzz/tools/make_image_seeds.cpp -o /tmp/make_image_seeds \
//       $(pkg-config --cflags --libs opencv4) && /tmp/make_image_seeds fuzz/corpus/image_decode
// (GIF and the EXIF-rotated JPEG are written by fuzz/tools/make_image_seeds.py,
// OpenCV writes neither.)
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const std::filesystem::path out = argc > 1 ? argv[1] : ".";
  std::filesystem::create_directories(out);
  // A product-like picture: a coloured blob on a light backdrop (BGR).
  cv::Mat bgr(12, 16, CV_8UC3, cv::Scalar(235, 240, 240));
  cv::circle(bgr, {8, 6}, 4, cv::Scalar(40, 30, 180), cv::FILLED);
  cv::Mat grey, bgra, deep;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  bgra(cv::Rect(0, 0, 4, 4)).setTo(cv::Scalar(0, 0, 0, 0));
  bgr.convertTo(deep, CV_16UC3, 257.0);
  const auto write = [&](const std::string& name, const cv::Mat& m, std::vector<int> params = {}) {
    cv::imwrite((out / name).string(), m, params);
  };
  write("rgb.jpg", bgr, {cv::IMWRITE_JPEG_QUALITY, 60});
  write("progressive.jpg", bgr, {cv::IMWRITE_JPEG_PROGRESSIVE, 1, cv::IMWRITE_JPEG_QUALITY, 50});
  write("grey.jpg", grey, {cv::IMWRITE_JPEG_QUALITY, 60});
  write("rgb.png", bgr);
  write("grey.png", grey);
  write("alpha.png", bgra);
  write("16bit.png", deep);
  write("rgb.webp", bgr, {cv::IMWRITE_WEBP_QUALITY, 50});
  write("lossless.webp", bgra, {cv::IMWRITE_WEBP_QUALITY, 101});
  write("rgb.tiff", bgr);
  write("16bit.tiff", deep);
  write("rgb.bmp", bgr);
  write("grey.bmp", grey);
  return 0;
}
