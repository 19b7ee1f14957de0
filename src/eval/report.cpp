// The report: Markdown tables, JSON, split.csv and PNG plots drawn with
// OpenCV primitives (no plotting library: the figures are simple and OpenCV
// is already a dependency).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tagsmith/common/error.h"
#include "tagsmith/eval/harness.h"

namespace tagsmith::eval {
namespace fs = std::filesystem;

namespace {

constexpr int kW = 640, kH = 480, kLeft = 70, kRight = 20, kTop = 40, kBottom = 60;
const cv::Scalar kBlack(0, 0, 0), kGrey(200, 200, 200);
// One colour per protocol (BGR), so every plot reads the same way.
cv::Scalar protocol_colour(const std::string& p) {
  if (p == "zero-shot") return {200, 120, 0};
  if (p == "few-shot") return {0, 140, 0};
  return {0, 0, 200};
}

// A unit-square plot area: axes, grid, labels; map() turns data into pixels.
struct Axes {
  cv::Mat img{kH, kW, CV_8UC3, cv::Scalar(255, 255, 255)};
  cv::Point map(double x, double y) const {
    return {kLeft + static_cast<int>(std::lround(x * (kW - kLeft - kRight))),
            kH - kBottom - static_cast<int>(std::lround(y * (kH - kTop - kBottom)))};
  }
  void text(const std::string& s, cv::Point p, double scale = 0.45, cv::Scalar c = kBlack) {
    cv::putText(img, s, p, cv::FONT_HERSHEY_SIMPLEX, scale, c, 1, cv::LINE_AA);
  }
  Axes(const std::string& title, const std::string& xlabel, const std::string& ylabel,
       bool x_ticks = true) {
    for (int i = 0; i <= 10; ++i) {
      const double v = i / 10.0;
      cv::line(img, map(0, v), map(1, v), kGrey, 1);
      text(fmt::format("{:.1f}", v), map(0, v) + cv::Point(-35, 5), 0.4);
      if (x_ticks) {
        cv::line(img, map(v, 0), map(v, 1), kGrey, 1);
        text(fmt::format("{:.1f}", v), map(v, 0) + cv::Point(-10, 18), 0.4);
      }
    }
    cv::rectangle(img, map(0, 1), map(1, 0), kBlack, 1);
    text(title, {kLeft, 25}, 0.6);
    text(xlabel, {kW / 2 - 60, kH - 15});
    text(ylabel, {5, kTop - 8});
  }
  void legend(const std::vector<std::pair<std::string, cv::Scalar>>& entries) {
    int y = kTop + 20;
    for (const auto& [name, colour] : entries) {
      cv::line(img, {kW - kRight - 150, y - 4}, {kW - kRight - 125, y - 4}, colour, 2);
      text(name, {kW - kRight - 118, y});
      y += 18;
    }
  }
};

void save_png(const cv::Mat& img, const fs::path& path, std::vector<fs::path>& written) {
  if (!cv::imwrite(path.string(), img)) throw Error("cannot write " + path.string());
  written.push_back(path);
}

void learning_curve(const AttributeResult& a, const fs::path& path,
                    std::vector<fs::path>& written) {
  Axes ax("Learning curve: " + a.attribute + " (test rows: " + std::to_string(a.test_rows) + ")",
          "k labelled examples per class", "score", false);
  const std::size_t n = a.curve.size();
  // k is spread evenly (1, 5, 10, 20, 50 are roughly log-spaced already).
  auto xpos = [&](std::size_t i) { return n == 1 ? 0.5 : static_cast<double>(i) / (n - 1); };
  for (std::size_t i = 0; i < n; ++i)
    ax.text("k=" + k_label(a.curve[i].k), ax.map(xpos(i), 0) + cv::Point(-12, 18), 0.4);
  const std::vector<std::pair<std::string, cv::Scalar>> series = {
      {"accuracy", {0, 140, 0}}, {"macro-F1", {200, 120, 0}}, {"weighted-F1", {0, 0, 200}}};
  for (std::size_t s = 0; s < series.size(); ++s) {
    auto value = [&](const CurvePoint& c) {
      return s == 0 ? c.metrics.accuracy : s == 1 ? c.metrics.macro_f1 : c.metrics.weighted_f1;
    };
    for (std::size_t i = 0; i < n; ++i) {
      const cv::Point p = ax.map(xpos(i), value(a.curve[i]));
      cv::circle(ax.img, p, 4, series[s].second, cv::FILLED, cv::LINE_AA);
      if (i > 0)
        cv::line(ax.img, ax.map(xpos(i - 1), value(a.curve[i - 1])), p, series[s].second, 2,
                 cv::LINE_AA);
    }
  }
  if (const auto* zs = a.protocol("zero-shot")) {
    cv::line(ax.img, ax.map(0, zs->metrics.accuracy), ax.map(1, zs->metrics.accuracy),
             {150, 150, 150}, 1, cv::LINE_AA);
    ax.text("zero-shot accuracy", ax.map(0, zs->metrics.accuracy) + cv::Point(5, -5), 0.4,
            {120, 120, 120});
  }
  ax.legend(series);
  save_png(ax.img, path, written);
}

void reliability(const AttributeResult& a, const fs::path& path, std::vector<fs::path>& written) {
  Axes ax("Reliability: " + a.attribute, "confidence", "accuracy");
  cv::line(ax.img, ax.map(0, 0), ax.map(1, 1), {150, 150, 150}, 1, cv::LINE_AA);
  std::vector<std::pair<std::string, cv::Scalar>> legend;
  for (const auto& p : a.protocols) {
    const cv::Scalar colour = protocol_colour(p.protocol);
    legend.emplace_back(fmt::format("{} ECE {:.3f}", p.protocol, p.metrics.ece), colour);
    cv::Point prev(-1, -1);
    for (const auto& b : p.metrics.reliability) {
      if (b.count == 0) continue;
      const cv::Point pt = ax.map(b.mean_confidence, b.accuracy);
      // Marker size grows with the bin's share of rows.
      const int r = 2 + static_cast<int>(8.0 * b.count / std::max<std::size_t>(1, p.metrics.n));
      cv::circle(ax.img, pt, r, colour, cv::FILLED, cv::LINE_AA);
      if (prev.x >= 0) cv::line(ax.img, prev, pt, colour, 1, cv::LINE_AA);
      prev = pt;
    }
  }
  ax.legend(legend);
  save_png(ax.img, path, written);
}

void coverage(const AttributeResult& a, const fs::path& path, std::vector<fs::path>& written) {
  Axes ax("Coverage vs precision: " + a.attribute, "coverage (share auto-applied)", "precision");
  std::vector<std::pair<std::string, cv::Scalar>> legend;
  for (const auto& p : a.protocols) {
    const cv::Scalar colour = protocol_colour(p.protocol);
    legend.emplace_back(p.protocol, colour);
    cv::Point prev(-1, -1);
    for (const auto& c : p.metrics.coverage) {
      if (!c.precision) continue;
      const cv::Point pt = ax.map(c.coverage, *c.precision);
      if (prev.x >= 0) cv::line(ax.img, prev, pt, colour, 2, cv::LINE_AA);
      prev = pt;
    }
  }
  ax.legend(legend);
  save_png(ax.img, path, written);
}

// Row-normalised heatmap over the classes that occur (as truth or prediction).
void confusion(const AttributeResult& a, const ProtocolMetrics& p, const fs::path& path,
               std::vector<fs::path>& written) {
  const auto& m = p.metrics.confusion;
  std::vector<std::size_t> used;
  for (std::size_t c = 0; c < m.size(); ++c) {
    std::size_t row = 0, col = 0;
    for (std::size_t o = 0; o < m.size(); ++o) row += m[c][o], col += m[o][c];
    if (row + col > 0) used.push_back(c);
  }
  const int n = std::max<int>(1, static_cast<int>(used.size()));
  const int cell = std::clamp(440 / n, 8, 60), left = 130, top = 50;
  cv::Mat img(top + n * cell + 130, std::max(left + n * cell + 20, 560), CV_8UC3,
              cv::Scalar(255, 255, 255));
  cv::putText(img, "Confusion (" + p.protocol + "): " + a.attribute + "  rows = truth", {10, 25},
              cv::FONT_HERSHEY_SIMPLEX, 0.55, kBlack, 1, cv::LINE_AA);
  for (int i = 0; i < static_cast<int>(used.size()); ++i) {
    std::size_t total = 0;
    for (std::size_t o : used) total += m[used[i]][o];
    for (int j = 0; j < static_cast<int>(used.size()); ++j) {
      const std::size_t v = m[used[i]][used[j]];
      const double share = total ? static_cast<double>(v) / total : 0;
      const int shade = 255 - static_cast<int>(std::lround(share * 215));
      const cv::Rect r(left + j * cell, top + i * cell, cell, cell);
      cv::rectangle(img, r, cv::Scalar(255, shade, shade), cv::FILLED);
      cv::rectangle(img, r, kGrey, 1);
      if (cell >= 24 && v > 0)
        cv::putText(img, std::to_string(v), {r.x + 3, r.y + cell / 2 + 4}, cv::FONT_HERSHEY_SIMPLEX,
                    0.35, share > 0.5 ? cv::Scalar(255, 255, 255) : kBlack, 1, cv::LINE_AA);
    }
    const std::string name = a.classes[used[i]].substr(0, 16);
    cv::putText(img, name, {5, top + i * cell + cell / 2 + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4,
                kBlack, 1, cv::LINE_AA);
    // Column labels, written downwards by rotating a strip.
    cv::Mat strip(20, 125, CV_8UC3, cv::Scalar(255, 255, 255));
    cv::putText(strip, name, {2, 14}, cv::FONT_HERSHEY_SIMPLEX, 0.4, kBlack, 1, cv::LINE_AA);
    cv::Mat rotated;
    cv::rotate(strip, rotated, cv::ROTATE_90_CLOCKWISE);
    const int x = left + i * cell + std::max(0, (cell - 20) / 2);
    const cv::Rect dst(x, top + n * cell + 3, rotated.cols, rotated.rows);
    if (dst.x + dst.width <= img.cols && dst.y + dst.height <= img.rows) rotated.copyTo(img(dst));
  }
  save_png(img, path, written);
}

std::string pct(double v) {
  return fmt::format("{:.1f} %", 100 * v);
}
std::string opt3(const std::optional<double>& v) {
  return v ? fmt::format("{:.3f}", *v) : "—";
}

std::string markdown(const EvalResult& r) {
  std::string md = "# tagsmith evaluation report\n\n";
  md += fmt::format("- dataset: `{}`\n- model: {}\n- seed: {} (split in `split.csv`)\n- k: {}\n",
                    r.dataset, r.model.empty() ? "none (colour only)" : "`" + r.model + "`", r.seed,
                    [&] {
                      std::vector<std::string> ks;
                      for (int k : r.ks) ks.push_back(k_label(k));
                      return fmt::format("{}", fmt::join(ks, ", "));
                    }());
  md += r.split_column.empty()
            ? fmt::format("- split: seeded, {:.0f} % of each class held out for testing\n",
                          100 * r.test_fraction)
            : fmt::format("- split: published, rows whose `{}` is `{}` are the test set\n",
                          r.split_column, r.test_value);
  md += fmt::format("- rows: {}, images found: {}, missing images: {}\n", r.rows, r.images,
                    r.missing_images.size());
  md += fmt::format(
      "- throughput: ingest + encode {:.1f} images/s ({} images in {:.1f} s); whole run {:.1f} s\n",
      r.ingest_images_per_second, r.ingest.ingested + r.ingest.skipped, r.ingest.seconds,
      r.seconds);
  for (const auto& n : r.notes) md += "- note: " + n + "\n";
  md +=
      "\n## Summary\n\n| attribute | protocol | n | accuracy | macro-F1 | weighted-F1 | top-5 | "
      "ECE | auto share | auto precision |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& a : r.attributes)
    for (const auto& p : a.protocols) {
      const auto& m = p.metrics;
      md += fmt::format("| {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {} | {} |\n",
                        a.attribute, p.protocol, m.n, m.accuracy, m.macro_f1, m.weighted_f1,
                        m.top5_accuracy, m.ece, pct(m.auto_share), opt3(m.auto_precision));
    }
  for (const auto& a : r.attributes) {
    md += fmt::format("\n## {}\n\n{} labelled images: {} train, {} test.\n", a.attribute,
                      a.labelled, a.train_rows, a.test_rows);
    for (const auto& n : a.notes) md += "\n> " + n + "\n";
    if (!a.curve.empty()) {
      md +=
          "\n### Learning curve (few-shot)\n\n| k | train rows | accuracy | macro-F1 | weighted-F1 "
          "| ECE | seconds |\n"
          "|---:|---:|---:|---:|---:|---:|---:|\n";
      for (const auto& c : a.curve)
        md += fmt::format("| {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.1f} |\n",
                          k_label(c.k), c.train_rows, c.metrics.accuracy, c.metrics.macro_f1,
                          c.metrics.weighted_f1, c.metrics.ece, c.seconds);
      md += fmt::format("\n![learning curve](learning_curve_{}.png)\n", a.attribute);
    }
    if (a.protocols.empty()) continue;
    md +=
        "\n### Thresholds for target precision\n\n| protocol | 95 % | 97 % | 99 % "
        "|\n|---|---:|---:|---:|\n";
    for (const auto& p : a.protocols) {
      auto t = [&](double target) {
        for (const auto& [k, v] : p.metrics.threshold_for_precision)
          if (std::abs(k - target) < 1e-9) return opt3(v);
        return std::string("—");
      };
      md += fmt::format("| {} | {} | {} | {} |\n", p.protocol, t(0.95), t(0.97), t(0.99));
    }
    md +=
        "\n### Most confused pairs\n\n| protocol | a | b | a→b | b→a |\n|---|---|---|---:|---:|\n";
    for (const auto& p : a.protocols)
      for (const auto& c : p.metrics.most_confused)
        md += fmt::format("| {} | {} | {} | {} | {} |\n", p.protocol, c.a, c.b, c.a_as_b, c.b_as_a);
    bool any_segments = false;
    for (const auto& p : a.protocols) any_segments |= !p.segments.empty();
    if (any_segments) {
      md += fmt::format(
          "\n### Per segment ({})\n\n| protocol | segment | n | accuracy | macro-F1 | weighted-F1 "
          "| ECE |\n"
          "|---|---|---:|---:|---:|---:|---:|\n",
          r.segment_by);
      for (const auto& p : a.protocols)
        for (const auto& [seg, m] : p.segments)
          md += fmt::format("| {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} |\n", p.protocol,
                            seg.empty() ? "(blank)" : seg, m.n, m.accuracy, m.macro_f1,
                            m.weighted_f1, m.ece);
    }
    md += fmt::format("\n![reliability](reliability_{0}.png) ![coverage](coverage_{0}.png)\n",
                      a.attribute);
    for (const auto& p : a.protocols)
      md += fmt::format("![confusion {1}](confusion_{0}_{1}.png)\n", a.attribute, p.protocol);
  }
  md += "\n## Data problems\n\n";
  if (r.missing_images.empty() && r.unmapped.empty() && r.blank.empty() && r.ingest.errors.empty())
    md += "None.\n";
  for (const auto& m : r.missing_images)
    md += fmt::format("- line {}: image `{}` not found\n", m.line, m.image);
  for (const auto& [column, values] : r.unmapped)
    for (const auto& [value, count] : values)
      md += fmt::format("- column `{}`: value `{}` is not mapped ({} rows, not scored)\n", column,
                        value, count);
  for (const auto& [column, count] : r.blank)
    md += fmt::format("- column `{}`: {} blank cells\n", column, count);
  for (const auto& e : r.ingest.errors) md += fmt::format("- `{}`: {}\n", e.path, e.reason);
  return md;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

void write_text(const fs::path& path, const std::string& text, std::vector<fs::path>& written) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw Error("cannot write " + path.string());
  written.push_back(path);
}

}  // namespace

std::vector<fs::path> write_report(const EvalResult& r, const fs::path& dir) {
  fs::create_directories(dir);
  std::vector<fs::path> written;
  std::string split = "image,attribute,node,side,rank\n";
  for (const auto& s : r.split)
    split += fmt::format("{},{},{},{},{}\n", csv_field(s.image), s.attribute, s.node,
                         s.test ? "test" : "train", s.rank);
  write_text(dir / "split.csv", split, written);
  nlohmann::json j = r;
  // Image paths need not be UTF-8, JSON text must be: such bytes become U+FFFD.
  write_text(dir / "report.json",
             j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", written);
  write_text(dir / "report.md", markdown(r), written);
  for (const auto& a : r.attributes) {
    if (!a.curve.empty())
      learning_curve(a, dir / ("learning_curve_" + a.attribute + ".png"), written);
    if (a.protocols.empty()) continue;
    reliability(a, dir / ("reliability_" + a.attribute + ".png"), written);
    coverage(a, dir / ("coverage_" + a.attribute + ".png"), written);
    for (const auto& p : a.protocols)
      confusion(a, p, dir / ("confusion_" + a.attribute + "_" + p.protocol + ".png"), written);
  }
  return written;
}

}  // namespace tagsmith::eval
