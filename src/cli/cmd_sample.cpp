// tagsmith sample-photos DIR — writes a synthetic catalogue to try tagsmith on.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.h"
#include "tagsmith/image/synthetic.h"

namespace tagsmith::cli {

void register_sample(CLI::App& app, GlobalOptions& g) {
  struct Args {
    std::string dir;
    image::SampleCatalogueOptions options;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "sample-photos",
      "Write a folder of synthetic product photos (plus a few problem files) to try tagsmith on");
  cmd->add_option("dir", args->dir, "Output directory")->required();
  cmd->add_option("--count", args->options.count, "Number of photos")->capture_default_str();
  cmd->add_option("--size", args->options.size, "Width in pixels")->capture_default_str();
  cmd->add_option("--seed", args->options.seed, "Random seed")->capture_default_str();
  cmd->callback([args] {
    const auto written = image::write_sample_catalogue(args->dir, args->options);
    std::cout << "wrote " << written.size() << " sample photos and 4 problem files to " << args->dir
              << "\n";
  });
}

}  // namespace tagsmith::cli
