#include "tagsmith/vision/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "tagsmith/vision/clip_config.h"
#include "temp_dir.h"
#include "vision_fixtures.h"

namespace tagsmith::vision {
namespace {

// Writes a safetensors file: 8-byte length, header, data.
void write_st(const std::filesystem::path& p, const std::string& header, const std::string& data) {
  std::ofstream f(p, std::ios::binary);
  const std::uint64_t n = header.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << header << data;
}

std::string u16s(std::initializer_list<std::uint16_t> v) {
  std::string s;
  for (auto x : v) s.append(reinterpret_cast<const char*>(&x), 2);
  return s;
}

TEST(Safetensors, ReadsF32F16Bf16AsFloat) {
  test::TempDir tmp;
  const float f32[3] = {1.5f, -2.25f, 1e-3f};
  std::string data(reinterpret_cast<const char*>(f32), 12);
  // fp16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal)
  data += u16s({0x3C00, 0xC000, 0x7BFF, 0x0001});
  // bf16: 1.0, -0.5, 3.140625
  data += u16s({0x3F80, 0xBF00, 0x4049});
  write_st(
      tmp / "t.safetensors",
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
      R"("h":{"dtype":"F16","shape":[2,2],"data_offsets":[12,20]},)"
      R"("b":{"dtype":"BF16","shape":[3],"data_offsets":[20,26]}})",
      data);
  SafetensorsFile f(tmp / "t.safetensors");
  EXPECT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.at("h").shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(f.at("h").dtype, DType::kF16);
  EXPECT_EQ(f.read_float("a"), (std::vector<float>{1.5f, -2.25f, 1e-3f}));
  EXPECT_EQ(f.read_float("h"), (std::vector<float>{1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -24)}));
  EXPECT_EQ(f.read_float("b"), (std::vector<float>{1.0f, -0.5f, 3.140625f}));
  EXPECT_THROW(f.at("nope"), ModelError);
}

TEST(Safetensors, HalfConversionRoundTripsEveryFiniteValue) {
  // Every finite fp16 value converts exactly (fp32 holds them all): compare
  // with the value computed from the bit fields.
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const int exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    if (exp == 0x1F) continue;
    const double mag = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, exp - 25);
    const double want = (h & 0x8000) ? -mag : mag;
    ASSERT_EQ(half_to_float(static_cast<std::uint16_t>(h)), static_cast<float>(want)) << h;
  }
  EXPECT_TRUE(std::isinf(half_to_float(0x7C00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
}

TEST(Safetensors, RejectsCorruptFiles) {
  test::TempDir tmp;
  auto expect_error = [&](const std::string& name, const std::string& needle) {
    try {
      SafetensorsFile f(tmp / name);
      ADD_FAILURE() << name << " was accepted";
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  };
  { std::ofstream(tmp / "short.safetensors") << "abc"; }
  expect_error("short.safetensors", "8-byte");
  write_st(tmp / "json.safetensors", "{not json", "");
  expect_error("json.safetensors", "not JSON");
  write_st(tmp / "range.safetensors", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
           std::string(8, '\0'));
  expect_error("range.safetensors", "outside");
  write_st(tmp / "size.safetensors", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
           std::string(8, '\0'));
  expect_error("size.safetensors", "needs 12 bytes");
  {
    std::ofstream f(tmp / "len.safetensors", std::ios::binary);
    const std::uint64_t n = 1ull << 40;
    f.write(reinterpret_cast<const char*>(&n), 8);
  }
  expect_error("len.safetensors", "header length");
  expect_error("missing.safetensors", "cannot open");
}

TEST(ClipConfig, ReadsTinyFixtureAndDefaults) {
  auto c = ClipConfig::from_json_file(test::vision_fixtures() / "tiny-clip" / "config.json");
  EXPECT_EQ(c.vision.hidden_size, 64);
  EXPECT_EQ(c.vision.patch_size, 8);
  EXPECT_EQ(c.vision.num_positions(), 17);
  EXPECT_EQ(c.text.hidden_size, 32);
  EXPECT_EQ(c.text.vocab_size, 764);
  EXPECT_EQ(c.projection_dim, 24);
  auto d = ClipConfig::from_json_text("{}", "empty");  // ViT-B/32 defaults
  EXPECT_EQ(d.vision.hidden_size, 768);
  EXPECT_EQ(d.vision.num_hidden_layers, 12);
  EXPECT_EQ(d.text.hidden_size, 512);
  EXPECT_EQ(d.text.num_attention_heads, 8);
  EXPECT_EQ(d.text.max_position_embeddings, 77);
  EXPECT_THROW(ClipConfig::from_json_text(R"({"vision_config":{"hidden_act":"relu"}})", "x"),
               ModelError);
  EXPECT_THROW(ClipConfig::from_json_text(R"({"vision_config":{"patch_size":30}})", "x"),
               ModelError);
}

TEST(ClipConfig, ValidationNamesTheTensorAndBothShapes) {
  auto dir = test::vision_fixtures() / "tiny-clip";
  SafetensorsFile st(dir / "model.safetensors");
  auto good = ClipConfig::from_json_file(dir / "config.json");
  EXPECT_NO_THROW(validate_checkpoint(st, good));
  auto bad = good;
  bad.vision.intermediate_size = 96;
  try {
    validate_checkpoint(st, bad);
    FAIL();
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("vision_model.encoder.layers.0.mlp.fc1.weight has shape [128, 64], "
                       "expected [96, 64]"),
              std::string::npos)
        << msg;
  }
  auto fewer = good;
  fewer.text.num_hidden_layers = 1;
  try {
    validate_checkpoint(st, fewer);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("unexpected tensor text_model.encoder.layers.1."),
              std::string::npos)
        << e.what();
  }
  auto more = good;
  more.vision.num_hidden_layers = 3;
  try {
    validate_checkpoint(st, more);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("missing tensor vision_model.encoder.layers.2."),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tagsmith::vision
