#pragma once
// A small taxonomy and palette for engine tests: just enough structure to
// exercise tiers, overrides, hierarchy, applicability, implies and rules.
#include "tagsmith/image/colour.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::tagging::test {

inline const image::Palette& test_palette() {
  static const image::Palette p = image::Palette::parse(R"(version: 1
families:
  - {id: blue, name: Blue, name_zh: 蓝色}
  - {id: red, name: Red, name_zh: 红色}
shades:
  - {id: blue, name: Blue, name_zh: 蓝色, family: blue, hex: "#0000FF"}
  - {id: navy, name: Navy, name_zh: 藏青色, family: blue, hex: "#000080"}
  - {id: red, name: Red, name_zh: 红色, family: red, hex: "#FF0000"}
  - {id: burgundy, name: Burgundy, name_zh: 酒红色, family: red, hex: "#800020"}
)",
                                                        "test-palette.yaml");
  return p;
}

inline const taxonomy::Taxonomy& test_taxonomy() {
  static const taxonomy::Taxonomy t =
      taxonomy::Taxonomy::parse(R"(version: 1
attributes:
  - id: category
    kind: single
    nodes:
      - id: apparel
        children:
          - {id: tops}
          - {id: dresses}
          - {id: outerwear}
          - {id: knitwear, thresholds: {auto: 0.9}}
      - {id: footwear}
  - id: garment_type
    kind: single
    nodes:
      - {id: shirt, labels: {en: Shirt}, synonyms: [blouse, formal top], implies: {category: tops}}
      - {id: dress, implies: {category: dresses}}
      - {id: sneakers, implies: {category: footwear}}
      - id: cardigan
        implies: {category: knitwear}
        children:
          - {id: longline_cardigan}
  - id: neckline
    kind: single
    applies_to: [tops, dresses]
    nodes: [{id: v_neck}, {id: crew_neck}]
  - id: scene
    kind: single
    nodes:
      - {id: studio}
      - {id: flat_lay}
      - {id: on_model, thresholds: {auto: 0.9, flag: 0.6}}
  - id: season
    kind: multi
    nodes: [{id: spring}, {id: summer}, {id: autumn}, {id: winter}]
  - id: subjects
    kind: multi
    nodes:
      - id: person
        children: [{id: woman}]
      - {id: hand}
  - id: colour_family
    kind: multi
    source: palette
    palette: families
  - id: colour_shade
    kind: multi
    source: palette
    palette: shades
rules:
  - id: cardigan_ss
    when: {garment_type: longline_cardigan, season: [spring, summer]}
    then: {category: outerwear}
  - id: cardigan_aw
    when: {garment_type: longline_cardigan, season: [autumn, winter]}
    then: {category: knitwear}
  - id: flat_lay_no_people
    when: {scene: flat_lay}
    ignore: [subjects/person]
)",
                                "test-taxonomy.yaml", &test_palette());
  return t;
}

}  // namespace tagsmith::tagging::test
