#include <gtest/gtest.h>

#include "tagsmith/image/decode.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  tagsmith::image::init_decoder();
  return RUN_ALL_TESTS();
}
