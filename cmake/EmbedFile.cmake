# tagsmith_embed_file(TARGET SYMBOL FILE)
# Compiles FILE into TARGET as `std::string_view tagsmith::embedded::SYMBOL()`,
# so the binary carries its default data (palette, taxonomy, manifest) and
# works from any directory. Libraries get an editable copy on creation.
function(tagsmith_embed_file target symbol file)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${symbol}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DSYMBOL=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFileScript.cmake
    DEPENDS ${file} ${PROJECT_SOURCE_DIR}/cmake/EmbedFileScript.cmake
    COMMENT "Embedding ${file}")
  target_sources(${target} PRIVATE ${out})
endfunction()
